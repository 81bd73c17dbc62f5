"""Rule conditions as small expressions, checked when loaded and evaluated without `eval`.

Segments and policy rules are written as `records['order'] >= 5 and open_records > 0`.
They are parsed by simpleeval, which walks the syntax tree with a fixed set of operators
and no attribute access, calls or imports; every name must be one the caller declares,
so a typo fails when the file is loaded, not on a customer's turn."""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from simpleeval import EvalWithCompoundTypes, InvalidExpression

_ALLOWED_FUNCTIONS = {"len": len, "min": min, "max": max, "abs": abs}


class RuleFileError(ValueError):
    """A rule, segment or experiment file that cannot be used; the message names the entry."""


def read_rule_file(path: Path, kind: str, list_key: str) -> dict[str, Any]:
    """A YAML mapping holding a `list_key` list; RuleFileError naming the `kind` file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RuleFileError(f"{kind} file {path}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get(list_key), list):
        raise RuleFileError(f"{kind} file {path}: expected a {list_key!r} list")
    return raw


@dataclass(frozen=True)
class Expression:
    """A checked condition; `names` are the variables it reads (for decision traces)."""

    source: str
    names: tuple[str, ...]
    # simpleeval's tree of `source`, parsed once: parsing on every call was most of the
    # cost of evaluating the segments of each turn.
    tree: ast.AST | None = field(default=None, compare=False, repr=False)

    def __call__(self, values: Mapping[str, Any]) -> bool:
        evaluator = _evaluator()
        evaluator.names = dict(values)
        return bool(evaluator.eval(self.source, previously_parsed=self.tree))


_local = threading.local()


def _evaluator() -> EvalWithCompoundTypes:
    """This thread's evaluator (making one took as long as evaluating a condition)."""
    evaluator = getattr(_local, "evaluator", None)
    if evaluator is None:
        evaluator = _local.evaluator = EvalWithCompoundTypes(functions=_ALLOWED_FUNCTIONS)
    return evaluator


def compile_expression(source: str, known: Iterable[str], where: str) -> Expression:
    """Parse `source` and check it only reads `known` names; RuleFileError naming `where`."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise RuleFileError(f"{where}: cannot parse {source!r}: {exc.msg}") from exc
    known_set = set(known) | set(_ALLOWED_FUNCTIONS) | {"True", "False", "None"}
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            raise RuleFileError(f"{where}: attribute access is not allowed in {source!r}")
        if isinstance(node, ast.Name):
            if node.id not in known_set:
                raise RuleFileError(
                    f"{where}: unknown name {node.id!r} in {source!r}; "
                    f"known: {', '.join(sorted(set(known)))}"
                )
            if node.id not in _ALLOWED_FUNCTIONS and node.id not in names:
                names.append(node.id)
    try:  # the operators used must be ones simpleeval supports
        parsed = EvalWithCompoundTypes(names={}, functions=_ALLOWED_FUNCTIONS).parse(source)
    except InvalidExpression as exc:
        raise RuleFileError(f"{where}: {exc}") from exc
    return Expression(source.strip(), tuple(names), parsed)


def check_condition(source: str, where: str) -> None:
    """A condition over a record's own fields, whose names are the record's: checked for
    its syntax and operators when loaded (RuleFileError naming `where`), not its names."""
    # the messages do not repeat the condition: an API answer never echoes what was sent
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise RuleFileError(f"{where}: cannot parse the condition: {exc.msg}") from exc
    if any(isinstance(node, ast.Attribute) for node in ast.walk(tree)):
        raise RuleFileError(f"{where}: attribute access is not allowed in a condition")
    try:
        EvalWithCompoundTypes(names={}, functions=_ALLOWED_FUNCTIONS).parse(source)
    except InvalidExpression as exc:
        raise RuleFileError(
            f"{where}: the condition uses what it cannot ({type(exc).__name__})"
        ) from exc


def holds(source: str, values: Mapping[str, Any]) -> bool:
    """Whether a checked condition holds for `values`; a name it reads that the record
    lacks, or a value of the wrong type, is not evidence that it holds."""
    evaluator = EvalWithCompoundTypes(names=dict(values), functions=_ALLOWED_FUNCTIONS)
    try:
        return bool(evaluator.eval(source.strip()))
    except (InvalidExpression, TypeError, ValueError, ZeroDivisionError, KeyError):
        return False
