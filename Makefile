# Rapport — two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_CUSTOMER ?= olivia_ito_3591
PORT ?= 8000

# No runtime downloads: the embedding model is on disk in an installed package.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export ANONYMIZED_TELEMETRY := False
# One BLAS thread: an idle OpenBLAS worker spinning per core doubled a request's CPU.
export OPENBLAS_NUM_THREADS := 1


.PHONY: install chromium run chat demo test lint typecheck unit services screenshots recall eval experiment-demo bench bench-quick reliability clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	HF_HUB_OFFLINE=1 $(BIN)/python -m retrieval.embedder  # the one-time ONNX export
	touch $@

demo: install
	$(BIN)/rapport demo

run: demo
	$(BIN)/rapport serve --demo --host 127.0.0.1 --port $(PORT)

# The terminal chat, as a demo customer.
chat: demo
	@echo "Chatting as $(DEMO_CUSTOMER). Try: can I cancel my order #W5442520?"
	$(BIN)/rapport chat --customer $(DEMO_CUSTOMER)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# Debian's Chromium for the browser tests: installed when missing and we may (root or
# passwordless sudo); otherwise say exactly what to run.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then APT=""; elif sudo -n true 2>/dev/null; then APT="sudo"; \
	  else echo "Chromium is missing. Run: sudo apt-get install -y chromium   (Debian's package), then make test" >&2; exit 1; fi; \
	  echo "== installing Debian's chromium (browser tests)"; \
	  $$APT apt-get update -qq && $$APT env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@chromium --version

# Pass 1: the embedded defaults (SQLite, embedded Chroma), browser tests included.
unit: install chromium
	$(BIN)/pytest

# The README's pictures, from the current build: the browser tests write them to docs/.
screenshots: install chromium
	RAPPORT_SCREENSHOTS_DIR=docs $(BIN)/pytest tests/api/test_browser.py -q \
		-k "streamed_cited_answer or card_drafts_and_actions"

# Pass 2: the scale-out backends, PostgreSQL (127.0.0.1:5432) and a `chroma run` server.
services: install
	RAPPORT_TEST_BACKEND=services $(BIN)/pytest -m "not browser or scaleout"

test: lint typecheck unit services

# Context fact recall on tau-retail tasks_dev (the issue's measure), printed as JSON.
recall: install
	$(BIN)/python -m eval.fact_recall --tasks ../shared/datasets/tau-retail/tasks_dev.json

# The three retrieval suites and their baselines on the full shared data (out/eval/…).
DATA ?= ../shared/datasets
eval: install
	$(BIN)/rapport eval context --tasks $(DATA)/tau-retail/tasks_train.json --data $(DATA)/tau-retail \
		--out out/eval/context --baseline dense --baseline bm25
	$(BIN)/rapport eval kb --tasks $(DATA)/tau-banking-knowledge/tasks.json \
		--docs $(DATA)/tau-banking-knowledge/documents --out out/eval/kb --baseline dense --baseline bm25
	$(BIN)/rapport eval history --data $(DATA)/locomo/locomo8.json --out out/eval/history \
		--baseline dense --baseline bm25
	$(BIN)/rapport eval answers --suite locomo --data $(DATA)/locomo/locomo8.json \
		--out out/eval/answers-locomo --limit 200
	$(BIN)/rapport eval actions --tasks $(DATA)/tau-retail/tasks_train.json --data $(DATA)/tau-retail \
		--out out/eval/actions

# An experiment report on real offline turns with SIMULATED feedback (out/experiments/).
experiment-demo: install
	$(BIN)/python -m eval.experiment_sim --experiment reply_prompt \
		--resolve control=0.60 --resolve style_aware=0.72 --out out/experiments

# Benchmark: floor, Rapport context assembly and /v1/chat vs a LangChain RAG baseline
# (loopback only). Prints a table and writes bench/results.json; data under var/bench.
bench: install
	$(BIN)/python -m bench.run

bench-quick: install
	$(BIN)/python -m bench.run --quick

# Load and fault runs against `rapport serve` with a fake, failing LLM and a `chroma run`
# server that get killed mid-load (loopback only, about three minutes). Prints a table,
# writes out/reliability.json and fails if an answered turn is missing from SQL.
reliability: install
	$(BIN)/python -m bench.reliability

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
