"""`rapport eval …`: run a suite on real data, with baselines, and compare saved reports."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from assistant.console import err, errors, fail, out, progress
from assistant.wiring import Container
from eval.baselines import BASELINES
from eval.config import EvalConfig, load_config
from eval.report import CaseScore, Report, build_report, write_report
from eval.runner import Case, run_cases

eval_app = typer.Typer(
    help="Offline evaluation on real data sets: suites, baselines, A/B comparison.",
    no_args_is_help=True,
)
C = TypeVar("C", bound=Case)

OutOpt = Annotated[Path, typer.Option("--out", help="Folder for report.json/.md/.html.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Variant YAML: Settings fields and knobs.")
]
BaselineOpt = Annotated[
    list[str] | None,
    typer.Option("--baseline", help="Also run a baseline on the same cases: dense or bm25."),
]
LimitOpt = Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N cases.")]
DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Scratch data dir (default var/eval/<suite>), reused."),
]
FreshOpt = Annotated[
    bool, typer.Option("--fresh", help="Ignore cases journaled by an interrupted run.")
]
MappingOpt = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        help="The store's data imported by this mapping file instead of its packaged one "
        "(profiles/mappings/tau_retail.yaml); use a fresh --data-dir or --fresh.",
    ),
]


@dataclass(frozen=True)
class SupportCasesOpts:
    file: Path | None
    per_intent: int
    seed: int


def _baselines(names: Sequence[str] | None) -> list[str]:
    for name in names or []:
        if name not in BASELINES:
            fail(f"unknown baseline {name!r} (choose from {', '.join(BASELINES)})")
    return list(dict.fromkeys(names or []))


def _container(cfg: EvalConfig, data_dir: Path) -> Container:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return Container(cfg.make_settings(data_dir))


class _Run:
    """One suite run: the system and its baselines on the same cases, then the reports."""

    def __init__(self, suite: str, out_dir: Path, cfg: EvalConfig, data_dir: Path, fresh: bool):
        self.suite, self.out_dir, self.cfg, self.data_dir = suite, out_dir, cfg, data_dir
        self.fresh = fresh
        self.config: dict[str, Any] = cfg.resolved(data_dir)

    def score(
        self,
        system: str,
        cases: Sequence[C],
        scorer: Callable[[C], CaseScore],
        extra: Callable[[list[CaseScore]], dict[str, float]] | None = None,
    ) -> Report:
        journal = self.out_dir / ".journal" / f"{system.replace(':', '-')}.jsonl"
        if self.fresh:
            journal.unlink(missing_ok=True)
        per_case = run_cases(cases, scorer, system, journal, self.cfg.digest())
        report = build_report(
            self.suite, system, self.config, per_case, extra(per_case) if extra else None
        )
        return report

    def finish(self, report: Report, baselines: dict[str, Report]) -> None:
        for name, b in baselines.items():
            write_report(b, self.out_dir / f"baseline-{name}")
            report.baselines[name] = b.metrics
        write_report(report, self.out_dir)
        out.print((self.out_dir / "report.md").read_text(encoding="utf-8"), markup=False)
        err.print(f"wrote {self.out_dir}/report.json, report.md, report.html", style="dim")


def _retail_run(
    suite: str,
    out_dir: Path,
    cfg: EvalConfig,
    data: Path,
    data_dir: Path | None,
    fresh: bool,
    mapping: Path | None = None,
) -> tuple[_Run, Container]:
    """A run of a tau-retail suite on a scratch data dir with the retail data imported
    (by `mapping`, when given, in a scratch dir of its own)."""
    from eval import context_suite as cs

    default = Path("var/eval/tau-retail" + (f"-{mapping.stem}" if mapping else ""))
    run = _Run(suite, out_dir, cfg, data_dir or default, fresh)
    c = _container(cfg, run.data_dir)
    cs.load_data(c, data, mapping)
    return run, c


@eval_app.command("kb")
def kb_cmd(
    tasks: Annotated[Path, typer.Option("--tasks", help="τ-knowledge tasks.json.")],
    docs: Annotated[Path, typer.Option("--docs", help="Folder of the KB documents.")],
    out_dir: OutOpt,
    config: ConfigOpt = None,
    baseline: BaselineOpt = None,
    limit: LimitOpt = None,
    data_dir: DataDirOpt = None,
    fresh: FreshOpt = False,
) -> None:
    """Knowledge-base retrieval: recall@5/10/20, MRR, nDCG@10 of the required documents."""
    from eval import kb_suite
    from eval.baselines import Bm25Ranker, DenseRanker
    from retrieval.kb import KnowledgeBase

    names = _baselines(baseline)
    with errors():
        if not docs.is_dir():
            raise ValueError(f"no documents folder at {docs}")
        cfg = load_config(config)
        documents = KnowledgeBase.load_documents([docs])
        cases = kb_suite.load_cases(tasks, documents)[:limit]
        run = _Run(kb_suite.SUITE, out_dir, cfg, data_dir or Path("var/eval/kb"), fresh)
        c = _container(cfg, run.data_dir)
        kb = KnowledgeBase(
            c.index,
            c.embedder,
            max_words=cfg.knobs.kb_chunk_words,
            overlap_words=cfg.knobs.kb_overlap_words,
        )
        with progress("ingesting", len(documents)) as advance:
            kb.ingest(documents, on_progress=lambda done: advance(1))
        n = cfg.knobs.kb_docs
        report = run.score("rapport", cases, kb_suite.rapport_scorer(kb, n))
        ids, texts = kb_suite.whole_texts(documents)
        results = {}
        for name in names:
            ranker = (
                DenseRanker(c.embedder, ids, texts, run.data_dir / "baselines")
                if name == "dense"
                else Bm25Ranker(ids, texts)
            )
            results[name] = run.score(
                f"baseline:{name}", cases, kb_suite.baseline_scorer(ranker, n)
            )
        run.finish(report, results)


@eval_app.command("history")
def history_cmd(
    data: Annotated[Path, typer.Option("--data", help="LoCoMo locomo8.json (read in place).")],
    out_dir: OutOpt,
    config: ConfigOpt = None,
    baseline: BaselineOpt = None,
    limit: LimitOpt = None,
    data_dir: DataDirOpt = None,
    fresh: FreshOpt = False,
) -> None:
    """History retrieval: recall@5/10 of the evidence turns, overall and per category."""
    from eval import history_suite as hs
    from retrieval.history import HistoryIndex

    names = _baselines(baseline)
    with errors():
        cfg = load_config(config)
        conversations, cases = hs.load(data)
        cases = cases[:limit]
        run = _Run(hs.SUITE, out_dir, cfg, data_dir or Path("var/eval/history"), fresh)
        c = _container(cfg, run.data_dir)
        history = HistoryIndex(
            c.index,
            c.embedder,
            neighbour_weight=cfg.knobs.history_neighbour_weight,
            lexical_window=cfg.knobs.history_lexical_window,
        )
        total = sum(len(conv.turns) for conv in conversations)
        with progress("indexing turns", total) as advance:
            hs.index_conversations(history, conversations, advance)
        candidates = {conv.customer_id: [t.id for t in conv.turns] for conv in conversations}
        report = run.score("rapport", cases, hs.rapport_scorer(history, candidates))
        results = {
            name: run.score(
                f"baseline:{name}",
                cases,
                hs.baseline_scorer(name, conversations, c.embedder, run.data_dir / "baselines"),
            )
            for name in names
        }
        run.finish(report, results)


@eval_app.command("context")
def context_cmd(
    tasks: Annotated[
        Path, typer.Option("--tasks", help="τ-bench retail or τ-knowledge bank tasks JSON.")
    ],
    data: Annotated[
        Path,
        typer.Option("--data", help="Its data folder: tau-retail, or the bank's (db.json)."),
    ],
    out_dir: OutOpt,
    config: ConfigOpt = None,
    baseline: BaselineOpt = None,
    limit: LimitOpt = None,
    data_dir: DataDirOpt = None,
    fresh: FreshOpt = False,
    mapping: MappingOpt = None,
) -> None:
    """Context fact recall within the token budget, context tokens, per-stage latency;
    on the store's tasks or, with the bank's folder, on the bank's (its mapping imports it)."""
    from eval import context_suite as cs
    from eval import tau_banking as tb

    names = _baselines(baseline)
    with errors():
        if not data.is_dir():
            raise ValueError(f"no data folder at {data}")
        cfg = load_config(config)
        bank = (data / "db.json").is_file()
        if bank and names:
            raise ValueError("the baselines read the retail data; run them on tau-retail")
        if mapping is not None and (bank or not mapping.is_file()):
            raise ValueError(
                "--mapping is for the store's data; the bank is always imported by its mapping"
                if bank
                else f"no mapping file at {mapping}"
            )
        if bank:
            cases = tb.load_cases(tasks, data / "db.json")[:limit]
            run = _Run(cs.SUITE, out_dir, cfg, data_dir or Path("var/eval/tau-banking"), fresh)
            c = _container(cfg, run.data_dir)
            tb.load_data(c, data)
        else:
            cases = cs.load_cases(tasks)[:limit]
            run, c = _retail_run(cs.SUITE, out_dir, cfg, data, data_dir, fresh, mapping)
        raw = cs.RawRecords(data) if names else None
        report = run.score("rapport", cases, cs.rapport_scorer(c.assistant), cs.pooled_recall)
        budget = c.settings.context_tokens
        results = {}
        for name in names:
            assert raw is not None
            results[name] = run.score(
                f"baseline:{name}",
                cases,
                cs.baseline_scorer(name, raw, c.embedder, budget),
                cs.pooled_recall,
            )
        run.finish(report, results)


@eval_app.command("actions")
def actions_cmd(
    tasks: Annotated[Path, typer.Option("--tasks", help="τ-bench retail tasks JSON.")],
    data: Annotated[Path, typer.Option("--data", help="τ-bench retail data folder.")],
    out_dir: OutOpt,
    config: ConfigOpt = None,
    limit: LimitOpt = None,
    data_dir: DataDirOpt = None,
    fresh: FreshOpt = False,
    mapping: MappingOpt = None,
) -> None:
    """Predicted needs: top-1 and top-3 accuracy of the predicted action type."""
    from eval import actions_suite as acs

    with errors():
        if not data.is_dir():
            raise ValueError(f"no tau-retail data folder at {data}")
        if mapping is not None and not mapping.is_file():
            raise ValueError(f"no mapping file at {mapping}")
        cfg = load_config(config)
        cases = acs.load_cases(tasks)[:limit]
        run, c = _retail_run(acs.SUITE, out_dir, cfg, data, data_dir, fresh, mapping)
        run.finish(run.score("rapport", cases, acs.rapport_scorer(c.assistant)), {})


@eval_app.command("compare")
def compare_cmd(
    a: Annotated[Path, typer.Argument(help="Report A (the reference): report.json.")],
    b: Annotated[Path, typer.Argument(help="Report B (the variant): report.json.")],
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 2000,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Paired comparison per metric: B − A with a bootstrap 95% CI and win/tie/loss counts."""
    from eval.compare import compare, markdown
    from eval.report import load_report

    with errors():
        result = compare(load_report(a), load_report(b), n_resamples=resamples)
    if as_json:
        print(result.model_dump_json(indent=2))
    else:
        out.print(markdown(result), markup=False)


@eval_app.command("answers")
def answers_cmd(
    suite: Annotated[
        str, typer.Option("--suite", help="locomo, tau-retail, support or support-bank.")
    ],
    data: Annotated[
        Path,
        typer.Option(
            "--data", help="locomo8.json, the τ-bench retail folder, or the bank's (support-bank)."
        ),
    ],
    out_dir: OutOpt,
    tasks: Annotated[
        Path | None, typer.Option("--tasks", help="τ-bench retail tasks JSON (tau-retail).")
    ] = None,
    config: ConfigOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Only the first N cases.")] = 100,
    data_dir: DataDirOpt = None,
    fresh: FreshOpt = False,
    bank_docs: Annotated[
        Path | None,
        typer.Option("--bank-docs", help="support: another business's KB to load beside."),
    ] = None,
    per_intent: Annotated[
        int, typer.Option("--per-intent", min=1, help="support: cases per intent.")
    ] = 6,
    seed: Annotated[int, typer.Option("--seed", help="support: which cases are drawn.")] = 0,
    cases_file: Annotated[
        Path | None, typer.Option("--cases", help="support: a saved case list (JSON).")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", help="support: the store imported by this mapping file."),
    ] = None,
) -> None:
    """Answers of the configured generator: token F1 (LoCoMo), ids named (τ-retail), or
    realistic shopper messages read as the customer reads the reply (support: pass rate,
    facts, false statements, staff voice, other business, handoffs, language); with an
    LLM configured, also LLM-as-judge correctness and groundedness."""
    cases_opt = SupportCasesOpts(file=cases_file, per_intent=per_intent, seed=seed)
    if mapping is not None and (suite != "support" or not mapping.is_file()):
        fail(
            "--mapping is for the support suite"
            if suite != "support"
            else f"no mapping file at {mapping}"
        )
    from eval import answers
    from eval.judge import Judge

    with errors():
        cfg = load_config(config)
        if suite == "locomo":
            from eval import history_suite as hs

            conversations, cases = hs.load(data)
            run = _Run("answers-locomo", out_dir, cfg, data_dir or Path("var/eval/history"), fresh)
            c = _container(cfg, run.data_dir)
            judge = Judge(c.settings) if c.settings.llm_enabled else None
            total = sum(len(conv.turns) for conv in conversations)
            with progress("indexing turns", total) as advance:
                hs.index_conversations(c.history, conversations, advance)
            scorer = answers.locomo_scorer(c.assistant, conversations, judge)
            run.finish(run.score("rapport", cases[:limit], scorer), {})
        elif suite == "tau-retail":
            from eval import context_suite as cs

            if tasks is None:
                raise ValueError("--suite tau-retail needs --tasks FILE")
            if not data.is_dir():
                raise ValueError(f"no tau-retail data folder at {data}")
            cases_r = cs.load_cases(tasks)[:limit]
            run, c = _retail_run("answers-tau-retail", out_dir, cfg, data, data_dir, fresh)
            judge = Judge(c.settings) if c.settings.llm_enabled else None
            scorer_r = answers.retail_scorer(c.assistant, judge)
            run.finish(run.score("rapport", cases_r, scorer_r), {})
        elif suite == "support":
            if not data.is_dir():
                raise ValueError(f"no tau-retail data folder at {data}")
            run, report = _support_run(
                out_dir, cfg, data, bank_docs, data_dir, fresh, cases_opt, mapping
            )
            run.finish(report, {})
        elif suite == "support-bank":
            if not (data / "db.json").is_file():
                raise ValueError(f"no τ-knowledge bank folder (db.json) at {data}")
            run, report = _bank_support_run(out_dir, cfg, data, data_dir, fresh, cases_opt)
            run.finish(report, {})
        else:
            raise ValueError(
                f"unknown answers suite {suite!r} (choose locomo, tau-retail, support or "
                "support-bank)"
            )


def _bank_support_run(
    out_dir: Path,
    cfg: EvalConfig,
    data: Path,
    data_dir: Path | None,
    fresh: bool,
    cases: SupportCasesOpts,
) -> tuple[_Run, Report]:
    """The support suite's bank slice through `POST /v1/chat` on a workspace holding the
    bank as `rapport demo` loads it: its mapping, its 698 documents, the generic intents."""
    from fastapi.testclient import TestClient

    from assistant.api import create_app
    from assistant.api.security import user_hash
    from eval import bank_support as bs
    from eval import support_suite as ss
    from eval import tau_banking as tb
    from profiles.workspaces import GENERIC_INTENTS

    bank = bs.read_bank(data / "db.json")
    chosen = (
        ss.load_cases_file(cases.file)
        if cases.file is not None
        else bs.build_cases(bank, per_intent=cases.per_intent, seed=cases.seed)
    )
    run = _Run(bs.SUITE, out_dir, cfg, data_dir or Path("var/eval/support-bank"), fresh)
    c, secret = _widget_container(
        cfg, run.data_dir, intents=",".join(GENERIC_INTENTS), brand="Rapport Bank"
    )
    tb.load_data(c, data)
    client = TestClient(create_app(c), raise_server_exceptions=True)
    scorer = bs.http_scorer(ss.http_sender(client), bank, lambda cid: user_hash(secret, cid))
    return run, run.score("rapport", chosen, scorer, ss.totals)


def _widget_container(cfg: EvalConfig, data_dir: Path, **update: object) -> tuple[Container, str]:
    """A container the support suites chat with as the widget does: a fresh widget secret
    (returned, to sign each customer's id) and no rate limit in the way."""
    import secrets

    secret = secrets.token_hex(16)
    settings = cfg.make_settings(data_dir).model_copy(
        update={"widget_secret": secret, "rate_limit_per_minute": 100_000, **update}
    )
    return Container(settings), secret


def _support_run(
    out_dir: Path,
    cfg: EvalConfig,
    data: Path,
    bank_docs: Path | None,
    data_dir: Path | None,
    fresh: bool,
    cases: SupportCasesOpts,
    mapping: Path | None = None,
) -> tuple[_Run, Report]:
    """The support suite through `POST /v1/chat` on the demo data: the store's customers,
    orders and policy, and (with --bank-docs) the bank's KB in the same index, as
    `rapport demo` loads them, so a store reply that leans on a bank passage is caught;
    with `mapping`, the store imported by it instead (the generic records path)."""
    from fastapi.testclient import TestClient

    from assistant.api import create_app
    from assistant.api.security import user_hash
    from eval import context_suite as cs
    from eval import support_suite as ss

    retail = ss.read_retail(data)
    chosen = (
        ss.load_cases_file(cases.file)
        if cases.file is not None
        else ss.build_cases(retail, per_intent=cases.per_intent, seed=cases.seed)
    )
    default = Path("var/eval/support" + (f"-{mapping.stem}" if mapping else ""))
    run = _Run(ss.SUITE, out_dir, cfg, data_dir or default, fresh)
    c, secret = _widget_container(cfg, run.data_dir)
    cs.load_data(c, data, mapping)
    if bank_docs is not None:
        c.kb.ingest(c.kb.load_documents([bank_docs]))
    client = TestClient(create_app(c), raise_server_exceptions=True)
    scorer = ss.http_scorer(
        ss.http_sender(client),
        retail,
        lambda cid: user_hash(secret, cid),
        ss.bank_document_ids(bank_docs),
    )
    return run, run.score("rapport", chosen, scorer, ss.totals)


@eval_app.command("drafts")
def drafts_cmd(
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Also write drafts.json and drafts.md here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Draft acceptance over the stored agent replies (the configured database): per draft
    variant and per intent, the share of replies started from a draft, sent as drafted,
    and how much agents changed them."""
    from assistant.agent.drafts import draft_report, markdown
    from assistant.settings import Settings

    with errors():
        c = Container(Settings())
        c.require_data()
        report = draft_report(c.inbox.store.replies())
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / "drafts.json").write_text(report.model_dump_json(indent=2) + "\n")
            (out_dir / "drafts.md").write_text(markdown(report) + "\n")
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        out.print(markdown(report), markup=False)
