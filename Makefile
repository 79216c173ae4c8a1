# One target per task. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench bench-relevance bench-scale bench-variants variants-data clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/zhsearch index corpus/ --index index/
	$(BIN)/zhsearch search --index index/ 卡塔尔 人质

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench-relevance: $(STAMP)
	$(BIN)/python bench/relevance.py

bench: $(STAMP)
	$(BIN)/python bench/speed.py

bench-variants: $(STAMP)
	$(BIN)/python bench/variants.py

# Regenerate search/data/variants-mediawiki.txt from MediaWiki's tables (zhconv, a build-time tool only).
variants-data: $(STAMP)
	$(BIN)/pip install --quiet -e '.[data]'
	$(BIN)/python scripts/build_variants.py

bench-scale: $(STAMP)
	$(BIN)/python bench/speed.py --scale

clean:
	rm -rf $(VENV) index/ .pytest_cache .hypothesis build *.egg-info bench/work bench/results.json
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
