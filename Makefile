# Two entry points: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.dagtheory-installed

.PHONY: demo test bench docs venv clean

demo: $(STAMP)
	@$(BIN)/dagtheory demo --out demo-report

test: $(STAMP)
	$(BIN)/python -m pytest

# Benchmarks against the baselines (tens of minutes; run on a quiet machine): BENCHMARKS.md.
bench: $(STAMP)
	$(BIN)/python bench/run.py

# The documentation site (mkdocs.yml) into site/; warnings are errors.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

venv: $(STAMP)

# PyTorch is pinned first (torch==2.13.0; on machines with a local CPU wheel this is the CPU build),
# so the project's own install resolves against it instead of pulling another torch.
$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[all]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis *.egg-info site
