"""Logging configuration with personal data and secrets masked in every record."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from assistant import redact
from assistant.settings import Settings

# Loggers that own handlers: the root (ours, libraries') and uvicorn's, which do not propagate.
_HANDLER_OWNERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
# A shorter "secret" would mask ordinary words; real keys and secrets are longer.
MIN_SECRET_CHARS = 8


class RedactingFilter(logging.Filter):
    """Masks personal data (see assistant.redact) and the configured secrets in a record's
    message, arguments and exception text; never drops a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted(
            {s for s in secrets if len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True
        )

    def clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<SECRET>")
        return redact.mask(text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.clean(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self.clean(record.stack_info)
        return True


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
