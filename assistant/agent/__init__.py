"""The agent's side of a conversation: handoff states, live events, the inbox."""
