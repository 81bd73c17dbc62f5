"""Workspaces: one business (brand) each, with its own data, rules, keys and voice.

A workspace is a folder holding `workspace.yaml`. The `default` workspace's folder is the
data directory itself (where a deployment from before workspaces keeps `rapport.db` and
`chroma/`, so it needs no move); any other workspace lives in `data_dir/workspaces/NAME/`.
Each workspace's data is a silo: its own SQLite file (or PostgreSQL schema), its own Chroma
directory (or Chroma server database). The same customer id in two workspaces is two
people, and no query can reach across because no query is ever given the other's store.

Keys are kept as SHA-256 digests; the widget secret is kept as is (the identity hash is an
HMAC over it), so the file is written with mode 0600."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from profiles.files import read_model, write_private

DEFAULT = "default"
GENERIC_INTENTS = ("greeting", "thanks", "goodbye", "human", "recall")
"""The intents of a business without orders: the store's order intents (where is, cancel,
return …) are not a bank's or an airline's."""
NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
FILE = "workspace.yaml"
FOLDER = "workspaces"


class UnknownWorkspace(LookupError):
    """No workspace of that name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown workspace {name!r}")
        self.name = name


class WorkspaceFileError(ValueError):
    """A workspace file that cannot be used; the message names the file and the key."""


def check_name(name: str) -> str:
    """`name` if it can name a workspace (lower-case letters, digits, `_`; a letter first;
    at most 32), else WorkspaceFileError. Names become folder, schema and database names."""
    if not NAME.match(name):
        raise WorkspaceFileError(
            "a workspace name is 1-32 lower-case letters, digits or '_', starting with a letter"
        )
    return name


def digest(key: str) -> str:
    """The SHA-256 hex digest a key is kept and compared as."""
    return hashlib.sha256(key.encode()).hexdigest()


def matches(given: str, digests: Iterable[str]) -> bool:
    """Whether the digest `given` is one of `digests`, compared with every one of them in
    constant time, so timing does not reveal which one nearly matched."""
    ok = False
    for candidate in digests:
        ok |= hmac.compare_digest(candidate.encode(), given.encode())
    return ok


class WorkspaceConfig(BaseModel):
    """What `workspace.yaml` holds. Paths are relative to the workspace's folder."""

    model_config = ConfigDict(extra="forbid")

    name: str
    brand: str = Field("", description="The business's name as customers know it.")
    description: str = Field("", description="What the business is, in a few words.")
    widget_secret: str | None = Field(None, description="Secret of the widget identity hash.")
    agent_keys_sha256: list[str] = Field(default_factory=list)
    admin_keys_sha256: list[str] = Field(default_factory=list)
    policy_file: str | None = Field(None, description="Decision policy (rules, hours).")
    segments_file: str | None = None
    experiments_file: str | None = None
    intents: list[str] | None = Field(
        None, description="The packaged intents this business uses; all if unset."
    )
    demo_customers: list[str] = Field(
        default_factory=list, description="Customers the demo page offers first."
    )
    urgent_help: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="What a customer can do at once while a handoff waits for the team, by "
        "handoff rule and language: {security: {en: 'Lost or stolen card? Call …, 24/7.'}}.",
    )


@dataclass(frozen=True)
class Workspace:
    """A workspace's name, folder and configuration."""

    name: str
    folder: Path
    config: WorkspaceConfig

    def path(self, relative: str | None) -> Path | None:
        """A path of the configuration, resolved against the folder (None stays None)."""
        return None if relative is None else self.folder / relative

    @property
    def schema(self) -> str | None:
        """The PostgreSQL schema of its tables (None: the database's default, `public`)."""
        return None if self.name == DEFAULT else f"ws_{self.name}"

    def chroma_database(self, deployment: str | None) -> str | None:
        """Its database on a Chroma server, beside the deployment's own (`deployment`, the
        server's default when None), so two deployments on one server stay apart."""
        if self.name == DEFAULT:
            return deployment
        return f"{deployment}_ws_{self.name}" if deployment else f"ws_{self.name}"


@dataclass(frozen=True)
class NewWorkspace:
    """A workspace just created, with the keys shown once (only digests are kept)."""

    workspace: Workspace
    agent_key: str
    admin_key: str


class Registry:
    """The workspaces under a data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def folder(self, name: str) -> Path:
        return self.data_dir if name == DEFAULT else self.data_dir / FOLDER / check_name(name)

    def names(self) -> list[str]:
        """`default` first, then every other workspace by name."""
        root = self.data_dir / FOLDER
        others = (
            sorted(p.name for p in root.iterdir() if (p / FILE).is_file() and NAME.match(p.name))
            if root.is_dir()
            else []
        )
        return [DEFAULT, *(n for n in others if n != DEFAULT)]

    def exists(self, name: str) -> bool:
        return name == DEFAULT or (NAME.match(name) is not None and (self._file(name)).is_file())

    def get(self, name: str) -> Workspace:
        """The workspace `name`; UnknownWorkspace if there is none. `default` always exists
        (its file is optional)."""
        if not self.exists(name):
            raise UnknownWorkspace(name)
        path = self._file(name)
        if not path.is_file():
            return Workspace(name, self.folder(name), WorkspaceConfig(name=name))
        return Workspace(name, self.folder(name), load_config(path, name))

    def __iter__(self) -> Iterator[Workspace]:
        return (self.get(n) for n in self.names())

    def create(self, name: str, *, exist_ok: bool = False, **config: Any) -> NewWorkspace | None:
        """Make a workspace with a fresh widget secret, agent key and admin key, and the
        other `config` given (brand, intents …). An existing one is an error, or None with
        `exist_ok` (it keeps its keys and its file)."""
        check_name(name)
        if self._file(name).is_file():
            if exist_ok:
                return None
            raise WorkspaceFileError(f"workspace {name!r} exists already")
        agent, admin = "agent-" + secrets.token_hex(8), "admin-" + secrets.token_hex(8)
        made = WorkspaceConfig(
            **config,
            name=name,
            widget_secret=secrets.token_hex(16),
            agent_keys_sha256=[digest(agent)],
            admin_keys_sha256=[digest(admin)],
        )
        self.save(made)
        return NewWorkspace(self.get(name), agent, admin)

    def save(self, config: WorkspaceConfig) -> Path:
        """Write `config` to its workspace's file (mode 0600: it holds the widget secret)."""
        path = self._file(check_name(config.name))
        path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(config.model_dump(exclude_defaults=True), sort_keys=False)
        return write_private(path, text)

    def _file(self, name: str) -> Path:
        return self.folder(name) / FILE


DEMO_KEYS = "demo-keys.json"


def keep_demo_keys(folder: Path, keys: dict[str, str]) -> Path:
    """Keep a demo workspace's plain keys beside its file (mode 0600), for the demo pages
    only: a real deployment hands keys out once and keeps digests."""
    return write_private(folder / DEMO_KEYS, json.dumps(keys, indent=2))


def demo_keys_of(folder: Path) -> dict[str, str]:
    """The demo keys kept in `folder` (empty when there are none)."""
    path = folder / DEMO_KEYS
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if isinstance(v, str)}


def load_config(path: Path, name: str) -> WorkspaceConfig:
    """The configuration in `path`, validated; errors name the file and the key."""
    config = read_model(path, WorkspaceConfig, WorkspaceFileError)
    if config.name != name:
        raise WorkspaceFileError(f"{path}: name: is {config.name!r}, its folder says {name!r}")
    return config
