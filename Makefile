# The two commands of the README: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test lint benchmark benchmark-scale clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) scripts/demo.py

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# Test files run in parallel, one worker per core (at most 4); a file stays on one worker, so its
# module fixtures are built once.
test: install lint
	$(PY) -m pytest -n auto --maxprocesses 4 --dist loadfile

# Measurements quoted in the README (a few minutes); the active-learning simulation takes ~12 min:
#   $(PY) benchmarks/active_learning.py --seeds 10
benchmark: install
	$(PY) benchmarks/crawl.py
	$(PY) benchmarks/classify.py
	$(PY) benchmarks/evaluate.py
	$(PY) benchmarks/figures.py

# figures + export on a synthetic study of 1,000,000 issues (the corpus replicated); the first run
# builds its database under data/scale/ (13.5 GB, ~10 min), later runs reuse it.
benchmark-scale: install
	$(PY) benchmarks/scale_figures.py

clean:
	rm -rf data/demo reports/demo .pytest_cache
