"""The support-turn pipeline, its decision policy, generators, settings and the CLI."""
