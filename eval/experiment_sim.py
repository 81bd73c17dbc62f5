"""A demonstration experiment on simulated outcomes.

Real turns run through the pipeline (offline composer) for tau-retail customers with an
experiment enabled, so assignment, recording and the report are the production code;
only the customers' feedback is simulated: each turn is resolved with its variant's
probability and rated 4–5 when resolved, 1–3 otherwise. The feedback carries the comment
"[simulated]" and the report says so.

    python -m eval.experiment_sim --experiment reply_prompt \\
        --resolve control=0.60 --resolve style_aware=0.72 --out out/experiments
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Annotated

import typer
import yaml

from assistant.console import errors, fail, out, progress
from assistant.experiment_report import report_for, report_markdown
from assistant.experiments import DEFAULT_EXPERIMENTS_FILE
from assistant.settings import Settings
from assistant.types import TurnRequest
from assistant.wiring import Container
from eval import context_suite as cs
from eval.tau_retail import load_tasks
from profiles.conversations import FeedbackStore
from profiles.experiments import SIMULATED

DATASETS = Path("../shared/datasets/tau-retail")


def main(
    experiment: Annotated[str, typer.Option(help="Experiment id in the experiments file.")],
    resolve: Annotated[
        list[str], typer.Option(help="variant=probability of resolution (one per variant).")
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for report.json and .md.")],
    customers: Annotated[int, typer.Option(min=2, help="Customers (one turn each).")] = 200,
    tasks: Annotated[Path, typer.Option(help="Tasks giving the messages.")] = DATASETS
    / "tasks_train.json",
    data: Annotated[Path, typer.Option(help="tau-retail data folder.")] = DATASETS,
    data_dir: Annotated[Path, typer.Option(help="Scratch data dir.")] = Path("var/eval/sim"),
    seed: Annotated[int, typer.Option(help="Seed of the simulated outcomes.")] = 7,
) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with errors():
        probs = {}
        for item in resolve:
            name, _, p = item.partition("=")
            probs[name] = float(p)
            if not 0 <= probs[name] <= 1:
                raise ValueError(f"--resolve {item}: a probability is between 0 and 1")
        spec = yaml.safe_load(DEFAULT_EXPERIMENTS_FILE.read_text(encoding="utf-8"))
        chosen = [e for e in spec["experiments"] if e["id"] == experiment]
        if not chosen:
            raise ValueError(f"unknown experiment {experiment!r}")
        names = {v["name"] for v in chosen[0]["variants"]}
        if set(probs) != names:
            raise ValueError(f"give --resolve for exactly the variants {sorted(names)}")
        for e in spec["experiments"]:
            e["enabled"] = e["id"] == experiment
        shutil.rmtree(data_dir, ignore_errors=True)  # a scratch dir: one run, one report
        data_dir.mkdir(parents=True)
        exp_file = data_dir / "experiments.yaml"
        exp_file.write_text(yaml.safe_dump(spec), encoding="utf-8")
        c = Container(Settings(data_dir=data_dir, experiments_file=exp_file))
        cs.load_data(c, data)
        seen: set[str] = set()
        picked = []
        for t in load_tasks(tasks):
            if t.customer_id not in seen:
                seen.add(t.customer_id)
                picked.append(t)
        picked = picked[:customers]
        rng = random.Random(seed)
        feedback = FeedbackStore(c.engine)
        with progress("simulated turns", len(picked)) as advance:
            for t in picked:
                result = c.assistant.turn(
                    TurnRequest(customer_id=t.customer_id, message=t.message, channel="widget")
                )
                variant = (result.variant or "").partition(f"{experiment}=")[2].split(";")[0]
                resolved = rng.random() < probs[variant]
                rating = rng.randint(4, 5) if resolved else rng.randint(1, 3)
                assert result.turn_id is not None
                feedback.add(result.turn_id, rating, resolved, SIMULATED)
                advance(1)
        c.assistant.drain()
        report = report_for(c.engine, c.assistant.experiments, experiment)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    (out_dir / "report.md").write_text(report_markdown(report), encoding="utf-8")
    out.print(report_markdown(report), markup=False)
    if not report.simulated:
        fail("the report does not know its outcomes were simulated", 1)


if __name__ == "__main__":
    typer.run(main)
