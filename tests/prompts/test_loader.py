from pathlib import Path

import pytest

from prompts.loader import PromptError, load_prompt, messages_text

SNAPSHOT = Path(__file__).parent / "chat_reply.v1.snapshot.txt"


def _render() -> str:
    p = load_prompt("chat_reply.v1")
    return messages_text(
        p.render(
            tone="friendly",
            customer_card="CARD",
            facts="[1] FACT",
            passages="[2] PASSAGE",
            history="",
            conversation="Customer: earlier",
            message="MESSAGE {not a variable}",
        )
    )


def test_chat_reply_snapshot():
    """The rendered template is reviewed as a whole: a change here is a new prompt version."""
    assert _render() == SNAPSHOT.read_text()


def test_chat_reply_v2_snapshot():
    """v2 adds the reply-style block the decision fills (language, length, guard, hours)."""
    p = load_prompt("chat_reply.v2")
    text = messages_text(
        p.render(
            tone="friendly",
            reply_style="- STYLE LINE",
            customer_card="CARD",
            facts="[1] FACT",
            passages="[2] PASSAGE",
            history="",
            conversation="Customer: earlier",
            message="MESSAGE {not a variable}",
        )
    )
    assert text == (Path(__file__).parent / "chat_reply.v2.snapshot.txt").read_text()


def test_chat_reply_v3_snapshot():
    """v3 names the workspace's brand and any kind of record, not a store's orders."""
    p = load_prompt("chat_reply.v3")
    text = messages_text(
        p.render(
            brand="Rapport Bank",
            tone="friendly",
            reply_style="- STYLE LINE",
            customer_card="CARD",
            facts="[1] FACT",
            passages="[2] PASSAGE",
            history="",
            conversation="Customer: earlier",
            message="MESSAGE {not a variable}",
        )
    )
    assert text == (Path(__file__).parent / "chat_reply.v3.snapshot.txt").read_text()
    assert "support assistant of Rapport Bank" in text and "this store" not in text


def test_render_refuses_missing_or_unknown_variables():
    p = load_prompt("chat_reply.v1")
    with pytest.raises(PromptError, match="missing"):
        p.render(tone="x")


def test_unknown_template_and_undeclared_variable(tmp_path):
    with pytest.raises(PromptError, match="no prompt template"):
        load_prompt("nope.v9", tmp_path)
    (tmp_path / "bad.v1.yaml").write_text(
        "name: bad\nversion: 1\ninput_variables: [a]\nmessages:\n"
        "  - role: system\n    template: 'uses {a} and {b}'\n"
    )
    with pytest.raises(PromptError, match="declares"):
        load_prompt("bad.v1", tmp_path)


def test_every_reply_catalog_has_the_keys_the_english_one_has():
    """A key missing in one language would fail a reply (or a draft) in that language."""
    from prompts.catalog import LANGUAGES, load_catalog

    def keys(tree: dict, prefix: str = "") -> set[str]:
        out = set()
        for k, v in tree.items():
            if isinstance(v, dict) and k not in ("actions", "verbs", "status", "days"):
                out |= keys(v, f"{prefix}{k}.")
            else:
                out.add(f"{prefix}{k}")
        return out

    english = keys(load_catalog("en").entries)
    for lang in LANGUAGES:
        assert keys(load_catalog(lang).entries) == english, lang
