"""What every command line of Rapport shares: its consoles, one-line errors, progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assistant.errors import as_domain, exit_code

err = Console(stderr=True, soft_wrap=True, emoji=False)
out = Console(soft_wrap=True, emoji=False)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line to stderr and exit: the CLI's only way to report bad input."""
    err.print(f"error: {message}", markup=False, highlight=False)
    raise typer.Exit(code)


@contextmanager
def errors() -> Iterator[None]:
    """Map domain errors (and what `assistant.errors` translates into them: a database
    that is down, exit code 3) and, on the command line, bad paths and malformed files
    to one line and an exit code."""
    try:
        yield
    except typer.Exit:
        raise
    except Exception as exc:
        domain = as_domain(exc)
        if domain is not None:
            fail(str(domain).splitlines()[0], exit_code(domain))
        if isinstance(exc, ValueError | FileNotFoundError):
            fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise


@contextmanager
def progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (transient when stderr is not a terminal); yields `advance`."""
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=not err.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
