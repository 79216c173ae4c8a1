# One target per task. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench bench-serve bench-relevance bench-scale bench-queries bench-variants variants-data clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/zhsearch index corpus/ --index index/
	$(BIN)/zhsearch search --index index/ 新冠 疫苗 -n 5

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench-relevance: $(STAMP)
	$(BIN)/python bench/relevance.py
	$(BIN)/python bench/similar.py

# `make bench`: the pool run, then the steady-daily-updates case. `make bench-scale SCALES="1 20 100"`:
# the pool and SCALES-1 copies, zhsearch beside FTS5+jieba (RUNS builds each, default 3). SCALES
# defaults to "1 20" (with --quick "1 2"). BENCH_ARGS passes more options to bench/speed.py
# (e.g. --quick, --work DIR).
SCALES ?=
RUNS ?=
BENCH_ARGS ?=

bench: $(STAMP)
	$(BIN)/python bench/speed.py $(if $(RUNS),--runs $(RUNS)) $(BENCH_ARGS)
	$(BIN)/python bench/serve_load.py $(SERVE_ARGS)

# The load on `zhsearch serve` alone (bench/serve_load.py; SERVE_ARGS: --quick, --index DIR, ...).
SERVE_ARGS ?=
bench-serve: $(STAMP)
	$(BIN)/python bench/serve_load.py $(SERVE_ARGS)

bench-variants: $(STAMP)
	$(BIN)/python bench/variants.py

# Regenerate search/data/variants-mediawiki.txt from MediaWiki's tables (zhconv, a build-time tool only).
variants-data: $(STAMP)
	$(BIN)/pip install --quiet -e '.[data]'
	$(BIN)/python scripts/build_variants.py

bench-scale: $(STAMP)
	$(BIN)/python bench/speed.py --scale $(if $(SCALES),--scales "$(SCALES)") $(if $(RUNS),--runs $(RUNS)) $(BENCH_ARGS)

# The query side of a scale run on an index already built (a x100 build takes over an hour):
# `make bench-queries INDEX=dir`.
bench-queries: $(STAMP)
	$(BIN)/python bench/index_queries.py $(INDEX)

clean:
	rm -rf $(VENV) index/ .pytest_cache .hypothesis build *.egg-info bench/work bench/results.json
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
