"""Errors are mapped once (issue 16, finding 13): one table gives each domain error its
HTTP status and CLI exit code, and translates lower packages' exceptions."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
from sqlalchemy import exc as sa_exc

from assistant import errors
from assistant.errors import (
    BadInput,
    DataDirMissing,
    NotFound,
    StoreUnavailable,
    TooLarge,
    as_domain,
    exit_code,
    http_status,
)
from profiles.admin import InvalidRecord, UnknownCustomer
from tests.conftest import ROOT, free_port


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (BadInput("x"), 422, 2),
        (TooLarge("x"), 413, 2),
        (DataDirMissing("x"), 422, 2),  # no row of its own: answers as its parent
        (NotFound("x"), 404, 2),
        (errors.Unauthenticated("x"), 401, 2),
        (errors.Forbidden("x"), 403, 2),
        (errors.UnsupportedMediaType("x"), 415, 2),
        (errors.GenerationFailed("x"), 502, 1),
        (StoreUnavailable("x"), 503, 3),
        (errors.RapportError("x"), 500, 1),
    ],
)
def test_each_domain_error_has_one_status_and_exit_code(error, status, code):
    assert (http_status(error), exit_code(error)) == (status, code)


def test_the_subject_is_for_the_operator_not_the_http_body():
    error = NotFound("unknown customer", subject="ana_0001")
    assert error.message == "unknown customer"
    assert str(error) == "unknown customer 'ana_0001'"


def _operational() -> sa_exc.OperationalError:
    return sa_exc.OperationalError("SELECT 1", {"p": "secret text"}, sqlite3.OperationalError())


def test_lower_exceptions_are_translated_without_their_text():
    down = as_domain(_operational())
    assert isinstance(down, StoreUnavailable) and "secret" not in str(down)
    bad = as_domain(sa_exc.DataError("INSERT", {"p": "secret text"}, ValueError('"secret"')))
    assert isinstance(bad, BadInput) and "secret" not in str(bad)
    missing = as_domain(UnknownCustomer("ana_0001"))
    assert isinstance(missing, NotFound) and missing.message == "unknown customer"
    assert isinstance(as_domain(InvalidRecord("the order belongs to another customer")), BadInput)


def test_a_bug_is_not_mistaken_for_bad_input():
    for bug in (KeyError("k"), ValueError("v"), LookupError("l"), sa_exc.NoResultFound()):
        assert as_domain(bug) is None, bug


def test_rapport_ask_with_the_database_down_is_one_line_and_exit_3(tmp_path):
    port = free_port()  # nothing listens there
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "RAPPORT_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{port}/rapport",
    }
    r = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", "--customer", "x", "hello"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode == 3, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines == ["error: database unavailable; retry later"], r.stderr
    assert "Traceback" not in r.stderr
