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

.PHONY: run test install install-dev ingest lint eval decision recall manuals transfer formats bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# llama.cpp is compiled for the CPU it is built on (-march=native), so a wheel built on another
# machine can die here with "Illegal instruction". Its wheel is kept per CPU (CPU_KEY: a hash of
# the CPU's flags and the build's flags), and pip's own wheel cache, which knows no CPU, is
# bypassed for it. AMX is left out: virtual machines list it among the CPU's flags and grant
# its permission, yet trap its first tile instruction (seen on a 2-core Xeon VM).
LLAMA_CMAKE := -DCMAKE_C_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16' \
	-DCMAKE_CXX_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16'
CPU_KEY := $(shell (grep -m1 '^flags' /proc/cpuinfo; echo "$(LLAMA_CMAKE)") | sha256sum | cut -c1-10)
WHEELS  := $(HOME)/.cache/docqa/wheels/$(CPU_KEY)
LLAMA   := $(shell grep -m1 '^llama_cpp_python==' requirements.lock)

# torch first and pinned: left to the resolver, an unpinned torch pulls a multi-GB CUDA build.
$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/pip install --quiet torch==2.13.0
	ls $(WHEELS)/$(subst ==,-,$(LLAMA))-*.whl >/dev/null 2>&1 || CMAKE_ARGS="$(LLAMA_CMAKE)" \
		$(BIN)/pip wheel --quiet --no-deps --no-cache-dir --no-binary llama-cpp-python \
		"$(LLAMA)" -w $(WHEELS)
	$(BIN)/pip install --quiet --no-deps --force-reinstall $(WHEELS)/$(subst ==,-,$(LLAMA))-*.whl
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m qa.models.tuning  # this CPU's fastest embedding path, recorded in the cache
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The browser tests drive Debian's chromium (Playwright's own browser download is not used);
# the document tests read real manuals from Debian's documentation packages, a real CSV table
# (distro-info-data's), and scanned pages through Tesseract (tesseract-ocr: 24 MB).
DEBIAN_TEST_PACKAGES := chromium python3.11-doc postgresql-doc-15 git-doc r-doc-pdf \
	tesseract-ocr distro-info-data
DOCS := /usr/share/doc/python3.11/html /usr/share/doc/postgresql-doc-15/html \
	/usr/share/doc/git-doc /usr/share/R/doc/manual /usr/share/distro-info/debian.csv
$(VENV)/.debian: Makefile $(BIN)/python
	@missing=; for d in /usr/bin/chromium /usr/bin/tesseract $(DOCS); do [ -e $$d ] || missing=$$d; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq $(DEBIAN_TEST_PACKAGES); fi
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev $(VENV)/.debian

ingest: install
	$(BIN)/qa ingest corpus

run: ingest
	$(BIN)/python ui.py --host $(HOST) --port $(PORT)

# pytest's exit 5 ("no tests collected", e.g. with a -k filter) is not a failure.
test: install-dev
	$(BIN)/python -m pytest -q $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint: install-dev
	$(BIN)/ruff check qa tests ui.py scripts bench

# The baselines are per machine: llama.cpp is compiled for the CPU it is built on, and a greedy
# decode can differ between CPUs (unchanged code once gave 63/70 cited on one machine and
# 62/70 on another). The gate reads eval/baseline-KEY.json where one was made on this machine
# (KEY: a hash of the CPU, llama.cpp's instruction sets and the layout its weights load in), else
# eval/baseline.json.
eval: ingest
	$(BIN)/qa eval eval_questions.yaml --baseline eval/baseline.json --json eval/last.json \
		--eval-min-cited 0.88 --eval-min-declined 0.9

# The shipped answer-or-decline decision (qa/data/decision.json), fitted on SQuAD 2.0 dev
# questions (../shared/squad-dev): each question is answered once and its signals kept
# (about an hour for the 360 of dev-sample on 2 cores; refitting takes seconds). Not in CI.
# Its operating point is a 30% risk (wrong answers of those given): at qa calibrate's default
# 5%, SQuAD's held-out articles get 12% of their questions answered.
SQUAD ?= ../shared/squad-dev/dev-sample.json
decision: install
	$(BIN)/qa calibrate $(SQUAD) --risk 0.3 --output qa/data/decision.json \
		--json eval/decision.json --plot eval/risk-coverage.png $(CALIBRATE_ARGS)

# How often the passages given to the model hold the answer, over chunks searched, passages
# given and passage length, on the SQuAD dev set's nine-document index (scripts/recall.py):
# retrieval only, no model answers (a few minutes). Not in CI.
recall: install
	$(BIN)/python scripts/recall.py $(SQUAD) --json eval/recall.json $(RECALL_ARGS)

# The manuals dev set (eval/manuals): real HTML and PDF manuals from Debian's packages, built
# into .manuals/, checked, ingested and evaluated. Not run in CI (about 15 minutes).
manuals: install $(VENV)/.debian
	$(BIN)/python scripts/manuals.py build .manuals/corpus
	$(BIN)/python scripts/manuals.py check .manuals/corpus
	$(BIN)/qa ingest .manuals/corpus --index .manuals/index
	$(BIN)/qa eval eval/manuals/questions.yaml --index .manuals/index --json eval/manuals/last.json \
		$(EVAL_ARGS)

# The transfer protocol (docs/transfer.md): seven corpora (the article, SQuAD dev-sample, the
# manuals dev set's PostgreSQL, git and R, and the new manuals: Apache httpd and bash, from
# eval/transfer/), each on its own index under .transfer/, asked through `qa eval`'s code; one
# table per corpus and all together. Not in CI (SQuAD alone takes about an hour on 2 cores):
# TRANSFER_ARGS="--only apache,bash" runs two corpora, "--limit 3" a quick look.
TRANSFER_DOCS := /usr/share/doc/apache2-doc/manual/en /usr/share/doc/bash/bash.html
$(VENV)/.debian-transfer: Makefile $(BIN)/python
	@missing=; for d in $(TRANSFER_DOCS); do [ -e $$d ] || missing=$$d; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq apache2-doc bash-doc; fi
	touch $@

transfer: install $(VENV)/.debian $(VENV)/.debian-transfer
	$(BIN)/python scripts/manuals.py build .transfer/pages eval/transfer/pages.txt
	$(BIN)/python scripts/manuals.py check .transfer/pages/apache eval/transfer/apache.yaml
	$(BIN)/python scripts/manuals.py check .transfer/pages/bash eval/transfer/bash.yaml
	$(BIN)/python scripts/manuals.py build .transfer/pydocs-pages eval/transfer/pydocs-pages.txt
	$(BIN)/python scripts/manuals.py check .transfer/pydocs-pages/pydocs eval/transfer/pydocs.yaml
	$(BIN)/python scripts/transfer.py --squad $(SQUAD) $(TRANSFER_ARGS)
# The formats dev set (eval/formats): documents of every kind docqa reads beyond HTML, PDF and
# text, made from Debian's packages (scripts/formats.py, formats_build.py) into .formats/corpus,
# with the material each was made from in .formats/source; checked, each kind and each source
# ingested into an index of its own (the scans by OCR, about 150 pages) and asked the same
# questions; then the comparison and the reading speed. Building needs LibreOffice (Writer,
# Calc, Impress) and poppler-utils: here only, not in `make test` nor CI. FORMATS_KINDS="pptx
# source-slides" runs some kinds only.
FORMATS_PACKAGES := libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui \
	poppler-utils debian-faq live-manual-epub live-manual-html iso-codes
FORMATS_NEEDS := /usr/bin/soffice /usr/bin/pdftoppm /usr/share/doc/debian/FAQ \
	/usr/share/doc/live-manual/epub /usr/share/doc/live-manual/html /usr/share/iso-codes/json
formats: install $(VENV)/.debian
	@missing=; for d in $(FORMATS_NEEDS); do [ -e $$d ] || missing=$$d; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends $(FORMATS_PACKAGES); fi
	$(BIN)/python scripts/formats.py build .formats
	$(BIN)/python scripts/formats.py check .formats
	EVAL_ARGS="$(EVAL_ARGS)" $(BIN)/python scripts/formats.py eval .formats $(FORMATS_KINDS)
	$(BIN)/python scripts/formats.py compare .formats
	$(BIN)/python scripts/formats.py speed .formats

$(VENV)/.installed-bench: $(VENV)/.installed requirements-bench.txt
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $@

# BENCH_ARGS="--sizes 0.1" runs the large corpus at 10% only; it reads the Python docs.
bench: $(VENV)/.installed-bench $(VENV)/.debian
	$(BIN)/python bench/bench.py $(BENCH_ARGS)

clean:
	rm -rf .qa_index .pytest_cache .manuals .transfer .formats
