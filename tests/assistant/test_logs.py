"""Log records stay small and cheap to mask, and exceptions are described without their
text (issue 16, findings 1 and 2)."""

from __future__ import annotations

import logging
import time

from assistant.logs import MAX_RECORD_CHARS, RedactingFilter, describe

ADDRESS = "Zebulon Quartermaine, 4417 Larkspur Lane, Springfield, IL 62704, 555-123-4567. "


def test_a_huge_record_is_cut_before_it_is_masked():
    text = ADDRESS * (1_000_000 // len(ADDRESS))
    record = logging.LogRecord("t", logging.WARNING, __file__, 1, "got %s", (text,), None)
    t0 = time.perf_counter()
    RedactingFilter().filter(record)
    assert time.perf_counter() - t0 < 1.0  # masking all of it took about 15 s
    assert len(record.msg) < MAX_RECORD_CHARS + 50 and "characters cut]" in record.msg
    assert "4417 Larkspur Lane" not in record.msg  # what is kept is still masked


def test_a_long_traceback_keeps_its_end():
    flt = RedactingFilter()
    cleaned = flt.clean("frame\n" * 2000 + "ValueError: the last line", keep_tail=True)
    assert cleaned.endswith("ValueError: the last line") and cleaned.startswith("[")


def test_describe_names_the_error_and_where_not_its_text():
    try:
        try:
            raise KeyError(ADDRESS)
        except KeyError as inner:
            raise RuntimeError(ADDRESS) from inner
    except RuntimeError as exc:
        text = describe(exc)
    assert "builtins.RuntimeError at test_logs.py:" in text and "<- builtins.KeyError" in text
    assert "Zebulon" not in text
