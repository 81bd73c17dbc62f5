"""Logging configuration with personal data and secrets masked in every record."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from pathlib import Path

from assistant import redact
from assistant.settings import Settings

# Loggers that own handlers: the root (ours, libraries') and uvicorn's, which do not propagate.
_HANDLER_OWNERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
# A shorter "secret" would mask ordinary words; real keys and secrets are longer.
MIN_SECRET_CHARS = 8
# Masking costs about 15 µs a character: a record is cut to this many before it is masked,
# so no record (a long message logged by mistake) can hold a thread for seconds.
MAX_RECORD_CHARS = 4000


class RedactingFilter(logging.Filter):
    """Masks personal data (see assistant.redact) and the configured secrets in a record's
    message, arguments and exception text; never drops a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted(
            {s for s in secrets if len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True
        )

    def clean(self, text: str, keep_tail: bool = False) -> str:
        """`text` with secrets and personal data masked, cut to MAX_RECORD_CHARS (its end
        kept for a traceback, whose last line names the error)."""
        if len(text) > MAX_RECORD_CHARS:
            cut = f"[{len(text) - MAX_RECORD_CHARS} characters cut]"
            text = (
                f"{cut} {text[-MAX_RECORD_CHARS:]}"
                if keep_tail
                else f"{text[:MAX_RECORD_CHARS]} {cut}"
            )
        for secret in self.secrets:
            text = text.replace(secret, "<SECRET>")
        return redact.mask(text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.clean(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text, keep_tail=True)
        if record.stack_info:
            record.stack_info = self.clean(record.stack_info, keep_tail=True)
        return True


def describe(exc: BaseException) -> str:
    """`exc` for a log line without its text (which may quote request values: a SQL
    error's parameters, an LLM error body echoing the prompt): the type, an HTTP status if
    it has one, and where it was raised, for it and each exception it came from."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(parts) < 5:
        seen.add(id(current))
        kind = type(current)
        part = f"{kind.__module__}.{kind.__qualname__}"
        status = getattr(current, "status_code", None)
        if isinstance(status, int):
            part += f" (HTTP {status})"
        frames = traceback.extract_tb(current.__traceback__)[-3:]
        if frames:
            part += " at " + " > ".join(
                f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames
            )
        parts.append(part)
        current = current.__cause__ or current.__context__
    return " <- ".join(parts)


def secrets_of(settings: Settings) -> list[str]:
    """The values in `settings` that must never reach a log."""
    values = [settings.openai_api_key, settings.widget_secret]
    values += settings.agent_key_list + settings.admin_key_list
    if settings.database_url and "@" in settings.database_url:
        values.append(settings.database_url)  # may carry a password
    return [v for v in values if v]


def install_redaction(secrets: Iterable[str] = ()) -> None:
    """Put one RedactingFilter on every handler of the root and uvicorn loggers,
    replacing any installed before."""
    flt = RedactingFilter(secrets)
    for name in _HANDLER_OWNERS:
        for handler in logging.getLogger(name).handlers:
            for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
                handler.removeFilter(old)
            handler.addFilter(flt)


def configure_logging(settings: Settings | None) -> None:
    """Warnings and above to stderr, masked; libraries' chatter kept down. Safe to call
    again (each `--workers` process calls it once uvicorn has set up its loggers)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build
    install_redaction(secrets_of(settings) if settings is not None else ())
