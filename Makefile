# docqa: `make run` opens the chat on corpus/, `make test` runs the tests.
# Both install into .venv/ first, and only redo what changed.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 7860
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export ANONYMIZED_TELEMETRY := False

.PHONY: run test install install-dev ingest lint eval bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first and pinned: left to the resolver, an unpinned torch pulls a multi-GB CUDA build.
$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The browser tests drive Debian's chromium (Playwright's own browser download is not used).
/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev /usr/bin/chromium

ingest: install
	$(BIN)/qa ingest corpus

run: ingest
	$(BIN)/python ui.py --host $(HOST) --port $(PORT)

# pytest's exit 5 ("no tests collected", e.g. with a -k filter) is not a failure.
test: install-dev
	$(BIN)/python -m pytest -q $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint: install-dev
	$(BIN)/ruff check qa tests ui.py scripts bench

eval: ingest
	$(BIN)/qa eval eval_questions.yaml --baseline eval/baseline.json --json eval/last.json \
		--eval-min-cited 0.9 --eval-min-declined 0.9

$(VENV)/.installed-bench: $(VENV)/.installed requirements-bench.txt
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $@

# The large-corpus benchmark reads the Python documentation from Debian's package.
/usr/share/doc/python3.11/html:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11-doc

# BENCH_ARGS="--sizes 0.1" runs the large corpus at 10% only.
bench: $(VENV)/.installed-bench /usr/share/doc/python3.11/html
	$(BIN)/python bench/bench.py $(BENCH_ARGS)

clean:
	rm -rf .qa_index .pytest_cache
