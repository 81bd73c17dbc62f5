"""The `rapport` command line: import, ingest, ask, context, chat, demo, privacy, serve,
reindex-history."""

from __future__ import annotations

import os

# numpy's OpenBLAS spins an idle worker thread per core between the small matrix
# products of a turn: measured, it doubled the CPU a request costs. Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# Likewise the tokenizers' Rayon pool, which token counting would otherwise wake per turn.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.console import err, errors, fail, out, progress
from assistant.errors import BadInput, RapportError, as_domain, exit_code
from assistant.logs import configure_logging, describe
from assistant.pipeline import context_info
from assistant.settings import Settings
from assistant.types import TurnRequest, TurnResult
from assistant.wiring import Container, Workspaces
from eval.cli import eval_app
from profiles.files import write_private
from profiles.importers import read_tau_retail
from profiles.mapping import (
    BANK_MAPPING,
    BANK_SEGMENTS,
    RETAIL_MAPPING,
    STORE_SEGMENTS,
    retail_files,
)
from profiles.workspaces import (
    DEFAULT,
    GENERIC_INTENTS,
    Registry,
    WorkspaceConfig,
    keep_demo_keys,
)
from retrieval.documents import AUDIENCES

app = typer.Typer(
    help="Rapport: personalized, grounded, cited support replies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Import customer data sets.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(eval_app, name="eval")
experiments_app = typer.Typer(help="Experiments: variants and their results.", no_args_is_help=True)
app.add_typer(experiments_app, name="experiments")
privacy_app = typer.Typer(
    help="Privacy requests: export, erase, retention purge, audit log.", no_args_is_help=True
)
app.add_typer(privacy_app, name="privacy")
workspace_app = typer.Typer(
    help="Workspaces: one business each, with its own customers, KB, rules and keys.",
    no_args_is_help=True,
)
app.add_typer(workspace_app, name="workspace")

CustomerOpt = Annotated[str, typer.Option("--customer", "-c", help="Customer id.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


WorkspaceOpt = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        "-w",
        help="The workspace (business) to act on; default RAPPORT_WORKSPACE, else default.",
        show_default=False,
    ),
]


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        fail(f"bad configuration: {exc}".splitlines()[0])


def _container(workspace: str | None = None) -> Container:
    """The Container of `workspace`, else of the settings' (RAPPORT_WORKSPACE)."""
    settings = _settings()
    with errors():
        return Workspaces.from_settings(settings).get(workspace or settings.workspace)
    raise AssertionError("unreachable: errors() exits")


@import_app.command("tau-retail")
def import_tau(
    directory: Annotated[Path, typer.Argument(help="Folder with users/orders/products.json.")],
    no_consent: Annotated[
        bool, typer.Option("--no-consent", help="Record consents as not granted.")
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Import τ-bench retail customers, orders and catalog by the packaged mapping
    (profiles/mappings/tau_retail.yaml, through the generic importer); re-running never
    duplicates."""
    from profiles.mapping import import_files, load_mapping

    c = _container(workspace)
    with errors():
        read_tau_retail(directory)  # the folder checked before anything is written
        spec = load_mapping(RETAIL_MAPPING)
        if no_consent and spec.customers is not None:
            customers = spec.customers.model_copy(update={"consent": "not_granted"})
            spec = spec.model_copy(update={"customers": customers})
        files = retail_files(directory)
        with progress("importing", None) as advance:
            report = import_files(c.engine, spec, files, on_progress=advance)
    out.print(
        f"imported {report.customers} customers, {report.records} records (orders, their "
        f"items, payment methods) and {report.reference} catalog items"
    )


@import_app.command("files")
def import_files_cmd(
    paths: Annotated[list[Path], typer.Argument(help="JSON, JSONL or CSV files.")],
    mapping: Annotated[
        Path, typer.Option("--mapping", "-m", help="Mapping file (YAML): how the files map.")
    ],
    workspace: WorkspaceOpt = None,
    warnings: Annotated[
        bool,
        typer.Option(
            "--warnings/--no-warnings",
            help="Print what may be a mistake in the mapping (a status no record is in).",
        ),
    ] = True,
) -> None:
    """Import a business's own files as its customers and their records (accounts, cards,
    bookings …), by a mapping file; re-running never duplicates."""
    from profiles.mapping import import_files, load_mapping

    c = _container(workspace)
    with errors():
        spec = load_mapping(mapping)
        for p in paths:
            if not p.is_file():
                raise BadInput(f"no such file: {p}")
        with progress("importing", None) as advance:
            report = import_files(c.engine, spec, paths, on_progress=advance)
    out.print(
        f"imported {report.customers} customers ({report.created} new), {report.records} "
        f"records and {report.reference} reference items into workspace {c.name}"
    )
    for warning in report.warnings if warnings else ():  # a misspelling, or none in it yet
        err.print(f"warning: {warning}", markup=False, highlight=False)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Markdown/JSON files or folders.")],
    audience: Annotated[
        str | None,
        typer.Option(
            help="customer or internal, for every document given; default: what each "
            "document says (title 'Internal: …', front matter 'audience: internal')."
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Ingest knowledge-base documents; unchanged documents are skipped, changed ones replaced."""
    c = _container(workspace)
    with errors():
        if audience is not None and audience not in AUDIENCES:
            raise BadInput(f"--audience must be one of {', '.join(AUDIENCES)}")
        docs = c.kb.load_documents(paths)
        if audience is not None:
            docs = [d.model_copy(update={"audience": audience}) for d in docs]
        with progress("ingesting", len(docs)) as advance:
            report = c.kb.ingest(docs, on_progress=advance)
    out.print(
        f"{len(docs)} documents: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged; {report.chunks_written} chunks written, "
        f"{report.chunks_deleted} removed"
    )


def _print_turn(result: TurnResult) -> None:
    out.print(result.answer, markup=False, highlight=False)
    _print_sources(result)


def _print_sources(result: TurnResult) -> None:
    if result.citations:
        out.print("\nSources:", style="bold")
        for cite in result.citations:
            out.print(f"  [{cite.n}] {cite.kind} {cite.id}", markup=False, highlight=False)
    flags = []
    if result.handoff:
        flags.append(f"handoff to a human ({result.handoff_reason})")
    if result.degraded:
        flags.append("degraded: the LLM failed, the offline composer answered")
    if flags:
        out.print("\n" + "; ".join(flags), style="yellow", markup=False)


@app.command()
def ask(
    message: Annotated[str, typer.Argument(help="The customer's message.")],
    customer: CustomerOpt,
    conversation: Annotated[
        str | None, typer.Option("--conversation", help="Continue this conversation.")
    ] = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Answer one customer message: a full support turn, stored in the conversation."""
    c = _container(workspace)
    with errors():
        c.require_data()
        result = c.assistant.turn(
            TurnRequest(customer_id=customer, message=message, conversation_id=conversation)
        )
    c.assistant.drain()
    if as_json:
        print(result.model_dump_json(indent=2))
    else:
        _print_turn(result)


@app.command()
def context(
    message: Annotated[str, typer.Argument(help="The customer's message.")],
    customer: CustomerOpt,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Show the assembled context, exactly as it would be sent to the LLM, without generating."""
    c = _container(workspace)
    with errors():
        c.require_data()
        prepared = c.assistant.prepare(TurnRequest(customer_id=customer, message=message))
    info = context_info(prepared.composed)
    if as_json:
        payload: dict[str, Any] = {
            "context": info.model_dump(),
            "timings_ms": prepared.timer.ms,
            "decision": prepared.decision.model_dump(),
        }
        print(json.dumps(payload, indent=2))
    else:
        out.print(info.text, markup=False, highlight=False)
        err.print(f"{info.tokens} tokens", style="dim")


@app.command()
def chat(customer: CustomerOpt, workspace: WorkspaceOpt = None) -> None:
    """Chat in the terminal as a customer (empty line or Ctrl-D to quit)."""
    c = _container(workspace)
    with errors():
        c.require_data()
        card = c.assistant.profiles.card(customer)
        if card is None:
            fail(f"unknown customer {customer!r}")
        out.print(f"Chatting as {card.name} ({card.id}). Empty line to quit.", style="bold")
        conversation: str | None = None
        while True:
            try:
                line = input("you> ").strip()
            except EOFError:
                break
            if not line:
                break
            request = TurnRequest(customer_id=customer, message=line, conversation_id=conversation)
            try:
                for event in c.assistant.stream_turn(request):
                    if event.type == "token":
                        out.print(event.text, end="", markup=False, highlight=False)
                    elif event.type == "reset":
                        out.print("\n[the reply was replaced]", style="dim")
                    elif event.result is not None:
                        conversation = event.result.conversation_id
                        out.print()
                        _print_sources(event.result)
            except RapportError as exc:
                err.print(f"error: {exc}", markup=False)
            out.print()
        c.assistant.drain()


@app.command()
def demo(
    datasets: Annotated[
        Path | None, typer.Option(help="Folder holding tau-retail/ and tau-banking-knowledge/.")
    ] = None,
) -> None:
    """Load the demo's two businesses: the τ-retail store (workspace `default`: customers,
    orders, catalog, policy) and the τ-knowledge bank (workspace `bank`: customers by a
    mapping file, its 698 documents, internal ones marked internal). Re-running updates."""
    settings = _settings()
    root = datasets or settings.datasets_dir
    retail, bank = root / "tau-retail", root / "tau-banking-knowledge"
    for folder in (retail, bank):
        if not folder.is_dir():
            fail(f"missing demo data folder: {folder}")
    registry = Registry(settings.data_dir)
    if not (settings.data_dir / "workspace.yaml").is_file():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        registry.save(
            WorkspaceConfig(
                name=DEFAULT, brand="Acme Outdoor & Home", description="a home and outdoor store"
            )
        )
    store = registry.get(DEFAULT)
    if store.config.segments_file is None:
        # segments over the store's records (its orders and their items), as its mapping
        # imports them (a demo made before, when orders were typed, gets them too)
        shutil.copyfile(STORE_SEGMENTS, store.folder / STORE_SEGMENTS.name)
        registry.save(store.config.model_copy(update={"segments_file": STORE_SEGMENTS.name}))
    err.print(f"demo 1/4: the store's customers, orders and catalog ({retail})", markup=False)
    import_tau(retail, workspace=DEFAULT)
    err.print(f"demo 2/4: the store's knowledge base ({retail / 'policy.md'})", markup=False)
    ingest([retail / "policy.md"], workspace=DEFAULT)
    # The store's order intents (where is my order, cancel, return …) are not a bank's: its
    # questions go to its own knowledge base until its records are mapped.
    made = registry.create(
        "bank",
        brand="Rapport Bank",
        description="a retail bank",
        intents=list(GENERIC_INTENTS),
        demo_customers=BANK_PICKS,
        exist_ok=True,
    )
    if made is not None:
        keep_demo_keys(made.workspace.folder, {"agent": made.agent_key, "admin": made.admin_key})
    bank_ws = registry.get("bank")
    if bank_ws.config.segments_file is None or not bank_ws.config.urgent_help:
        # segments over what a bank's customers hold, not the store's orders; and its 24/7
        # line for a lost card, from its own help articles (a demo made before gets them)
        shutil.copyfile(BANK_SEGMENTS, bank_ws.folder / BANK_SEGMENTS.name)
        update = {"segments_file": BANK_SEGMENTS.name, "urgent_help": BANK_URGENT}
        registry.save(bank_ws.config.model_copy(update=update))
    err.print(f"demo 3/4: the bank's customers ({bank / 'db.json'})", markup=False)
    # the packaged mapping names statuses no demo card order or dispute is in yet
    import_files_cmd([bank / "db.json"], BANK_MAPPING, workspace="bank", warnings=False)
    err.print(f"demo 4/4: the bank's knowledge base ({bank / 'documents'})", markup=False)
    ingest([bank / "documents"], workspace="bank")
    err.print("demo data ready; `rapport serve --demo` (or `make run`) serves it", markup=False)


# The bank's fraud line, as its articles give it ("1-800-RHO-BANK (available 24/7 for fraud
# reports)"): what a customer with a lost card can do before an agent is back.
BANK_URGENT = {
    "security": {
        "en": "For a lost or stolen card or fraud, call us now at 1-800-RHO-BANK: "
        "that line is open 24/7.",
        "es": "Si has perdido tu tarjeta, te la han robado o ves un fraude, llámanos ya al "
        "1-800-RHO-BANK: esa línea atiende las 24 horas, todos los días.",
        "fr": "Pour une carte perdue ou volée, ou une fraude, appelez-nous dès maintenant au "
        "1-800-RHO-BANK : cette ligne est ouverte 24 h/24, 7 j/7.",
        "de": "Bei verlorener oder gestohlener Karte oder Betrug rufen Sie uns sofort unter "
        "1-800-RHO-BANK an: Die Leitung ist rund um die Uhr erreichbar.",
    }
}
# Bank customers with cards, accounts, transactions, a card order and a dispute.
BANK_PICKS = ["lj82d4f1a9", "01f21c9970", "e3f4a5b6c7", "6680a37184", "123"]


def demo_keys(data_dir: Path, token: Callable[[int], str]) -> Path:
    """The demo's widget secret, agent and admin keys: made once and kept (mode 0600) in
    `data_dir/demo-keys.json`, so `serve --demo` keeps them across restarts."""
    path = data_dir / "demo-keys.json"
    if not path.is_file():
        data_dir.mkdir(parents=True, exist_ok=True)
        keys = {
            "RAPPORT_WIDGET_SECRET": token(16),
            "RAPPORT_AGENT_KEYS": "agent-" + token(8),
            "RAPPORT_ADMIN_KEYS": "admin-" + token(8),
        }
        write_private(path, json.dumps(keys, indent=2), exclusive=True)
    return path


CLI_ACTOR = "cli"  # how the audit log names requests made on the command line


@privacy_app.command("export")
def privacy_export(
    customer: CustomerOpt,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the JSON here instead of stdout.")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Export everything held about a customer (SQL rows and vector texts) as one JSON document."""
    if out_file is not None and not out_file.parent.is_dir():
        fail(f"cannot write {out_file}: no directory {out_file.parent}")
    c = _container(workspace)
    with errors():
        c.require_data()
        document = c.privacy.export(customer, CLI_ACTOR).model_dump_json(indent=2)
    if out_file is None:
        print(document)
        return
    try:
        out_file.write_text(document + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out_file}: {exc.strerror or exc}")
    err.print(f"wrote the export of {customer} to {out_file}", markup=False, highlight=False)


@privacy_app.command("erase")
def privacy_erase(
    customer: CustomerOpt, as_json: JsonOpt = False, workspace: WorkspaceOpt = None
) -> None:
    """Erase a customer from SQL and the vector store; running it again is safe."""
    c = _container(workspace)
    with errors():
        c.require_data()
        report = c.privacy.erase(customer, CLI_ACTOR)
    if as_json:
        print(report.model_dump_json(indent=2))
    elif report.status == "already_erased":
        when = report.erased_at.isoformat(timespec="seconds") if report.erased_at else "earlier"
        out.print(f"customer {customer} was already erased ({when})", markup=False)
    else:
        rows = sum(report.rows_deleted.values())
        resumed = " (finished an interrupted erasure)" if report.resumed else ""
        out.print(
            f"erased customer {customer}: {rows} rows, {report.vectors_deleted} vectors{resumed}",
            markup=False,
        )


@privacy_app.command("purge")
def privacy_purge(
    older_than_days: Annotated[
        int | None,
        typer.Option(help="Idle days before deletion (default RAPPORT_RETENTION_DAYS)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count.")] = False,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Delete conversations idle longer than the retention period, with their history."""
    c = _container(workspace)
    with errors():
        c.require_data()
        report = c.privacy.purge(CLI_ACTOR, older_than_days, dry_run)
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    if report.cutoff is None:
        out.print("retention is off (0 days): nothing purged")
        return
    verb = "would purge" if report.dry_run else "purged"
    out.print(
        f"{verb} {report.conversations} conversations idle since before "
        f"{report.cutoff.isoformat(timespec='seconds')}: {report.messages} messages, "
        f"{report.turns} turns, {report.feedback} feedback, {report.history_items} history items",
        markup=False,
    )


@privacy_app.command("audit")
def privacy_audit(
    customer: Annotated[
        str | None, typer.Option("--customer", "-c", help="Only this customer's rows.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Newest rows shown.")] = 50,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """The audit log of privacy actions, newest first."""
    c = _container(workspace)
    with errors():
        c.require_data()
        rows = c.privacy.audit_log(customer, limit)
    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    for r in rows:
        detail = " ".join(f"{k}={v}" for k, v in sorted(r.detail.items()))
        out.print(
            f"{r.at.isoformat(timespec='seconds')}  {r.actor}  {r.action}  "
            f"{r.customer_id or '-'}  {r.outcome}  {detail}".rstrip(),
            markup=False,
            highlight=False,
        )


@app.command("reindex-history")
def reindex_history(
    since_hours: Annotated[
        float | None,
        typer.Option(
            "--since-hours",
            help="Only items created in the last N hours (after a crash: the write delay, "
            "RAPPORT_HISTORY_WRITE_DELAY_S, is all a crash can lose). Default: every item.",
        ),
    ] = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Write the vectors of history items that SQL holds and the vector store lacks.

    A turn's message is written to the vector store in batches after the reply; a server
    killed in between leaves those messages in SQL only. Items that have their vectors are
    not touched, so running it again is safe."""
    from datetime import timedelta

    from assistant.maintenance import reindex_history as reindex
    from profiles.models import utcnow

    if since_hours is not None and not since_hours > 0:
        fail(f"--since-hours must be a positive number of hours, not {since_hours}")
    c = _container(workspace)
    since = utcnow() - timedelta(hours=since_hours) if since_hours is not None else None
    with errors():
        c.require_data()
        report = reindex(c.assistant.conversations, c.history, since)
    if as_json:
        print(json.dumps({"checked": report.checked, "written": report.written}))
        return
    out.print(f"re-indexed {report.written} of {report.checked} history items", markup=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    demo_mode: Annotated[
        bool,
        typer.Option("--demo", help="Generate missing demo secrets and serve the demo helpers."),
    ] = False,
) -> None:
    """Serve the chat API, the widget demo page, the agent sidebar and the API docs.

    Every worker is stateless but for its rate-limit window and metrics (per worker):
    conversations, history and the knowledge base live in the database and Chroma."""
    import os
    import secrets

    import uvicorn

    keys_file: Path | None = None
    if demo_mode:
        # Workers read their settings from the environment, so demo values go there. They
        # are kept in the data dir, so a restart keeps the same keys (and widget sessions).
        os.environ["RAPPORT_DEMO"] = "true"
        keys_file = demo_keys(Settings().data_dir, secrets.token_hex)
        for name, value in json.loads(keys_file.read_text(encoding="utf-8")).items():
            os.environ.setdefault(name, value)
    try:
        settings = Settings()
    except ValueError as exc:
        fail(f"bad configuration: {exc}".splitlines()[0])
    if workers > 1 and not settings.chroma_url:
        fail("--workers > 1 needs CHROMA_URL: embedded Chroma is one process's store")
    if workers > 1 and settings.database_url is None:
        err.print("note: several workers on one SQLite file serialize their writes", style="dim")
    with errors():
        Workspaces.from_settings(settings).require_data()
    base = f"http://{host}:{port}"
    out.print(f"Rapport on {base} ({workers} worker{'s' if workers > 1 else ''})", style="bold")
    out.print(f"  widget demo   {base}/widget")
    out.print(f"  agent sidebar {base}/agent")
    out.print(f"  API docs      {base}/docs")
    if demo_mode:
        out.print(f"  widget secret {settings.widget_secret}", markup=False)
        out.print(f"  agent key     {settings.agent_key_list[0]}", markup=False)
        out.print(f"  admin key     {settings.admin_key_list[0]}", markup=False)
        out.print(f"  (kept in {keys_file}; delete it for new ones)", markup=False)
    uvicorn.run(
        "assistant.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


def main() -> None:
    try:
        settings: Settings | None = Settings()
    except ValueError:
        settings = None  # the command reports the bad configuration itself
    configure_logging(settings)
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # one line, never a traceback, whatever a command missed
        domain = as_domain(exc)
        if domain is not None:
            err.print(f"error: {domain}".splitlines()[0], markup=False, highlight=False)
            sys.exit(exit_code(domain))
        err.print(f"error: internal error: {describe(exc)}", markup=False, highlight=False)
        sys.exit(1)


@experiments_app.command("list")
def experiments_list(workspace: WorkspaceOpt = None) -> None:
    """The experiments in the experiments file, their variants and weights."""
    c = _container(workspace)
    with errors():
        for e in c.assistant.experiments.experiments:
            state = "enabled" if e.enabled else "disabled"
            variants = ", ".join(f"{v.name} ({v.weight:g})" for v in e.variants)
            out.print(f"{e.id} [{state}]: {variants}. {e.description}", markup=False)


@experiments_app.command("report")
def experiments_report(
    experiment: Annotated[str, typer.Argument(help="Experiment id.")],
    alpha: Annotated[float, typer.Option("--alpha", min=0.0001, max=0.5)] = 0.05,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Per-variant resolution rate, rating and handoff rate with 95% intervals and tests."""
    from assistant.experiment_report import report_for, report_markdown

    c = _container(workspace)
    with errors():
        c.require_data()
        report = report_for(c.engine, c.assistant.experiments, experiment, alpha)
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        out.print(report_markdown(report), markup=False)


@workspace_app.command("create")
def workspace_create(
    name: Annotated[str, typer.Argument(help="Lower-case letters, digits and '_'.")],
    brand: Annotated[str, typer.Option(help="The business's name as customers know it.")] = "",
    description: Annotated[str, typer.Option(help="What the business is.")] = "",
) -> None:
    """Create a workspace; prints its agent key, admin key and widget secret, once."""
    with errors():
        made = Registry(_settings().data_dir).create(name, brand=brand, description=description)
    assert made is not None  # create() without exist_ok returns the new workspace or raises
    ws = made.workspace
    out.print(f"workspace {ws.name} in {ws.folder}", markup=False)
    out.print(f"  agent key     {made.agent_key}", markup=False)
    out.print(f"  admin key     {made.admin_key}", markup=False)
    out.print(f"  widget secret {ws.config.widget_secret}", markup=False)
    err.print("the keys are shown once (only their SHA-256 is kept)", style="dim")


@workspace_app.command("list")
def workspace_list(as_json: JsonOpt = False) -> None:
    """Every workspace: name, brand and folder."""
    with errors():
        rows = [
            {"name": ws.name, "brand": ws.config.brand, "folder": str(ws.folder)}
            for ws in Registry(_settings().data_dir)
        ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        out.print(f"{row['name']}\t{row['brand'] or '-'}\t{row['folder']}", markup=False)


@workspace_app.command("show")
def workspace_show(
    name: Annotated[
        str | None, typer.Argument(help="The workspace; default RAPPORT_WORKSPACE, else default.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """A workspace's configuration and where its data lives (no secrets)."""
    c = _container(name)
    s = c.settings
    ws = c.workspace
    info = {
        "name": c.name,
        "brand": ws.config.brand if ws else "",
        "description": ws.config.description if ws else "",
        "folder": str(s.data_dir),
        "database": "PostgreSQL schema " + (s.database_schema or "public")
        if s.database_url
        else str(s.data_dir / "rapport.db"),
        "vectors": f"Chroma server database {s.chroma_database or 'default_database'}"
        if s.chroma_url
        else str(s.chroma_dir),
        "widget_secret": "set" if s.widget_secret else "not set",
        "agent_keys": len(c.agent_digests - c.admin_digests),
        "admin_keys": len(c.admin_digests),
        "policy_file": str(s.policy_file) if s.policy_file else "packaged",
        "segments_file": str(s.segments_file) if s.segments_file else "packaged",
        "experiments_file": str(s.experiments_file) if s.experiments_file else "packaged",
    }
    if as_json:
        print(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        out.print(f"{key:17} {value}", markup=False)


# Last, after every command is registered: `python -m assistant.cli` sees them all.
if __name__ == "__main__":
    main()
