# Two commands for a new user: `make run` (the default study) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CORES  ?= all
CONFIG ?= config/config.yaml

.PHONY: run test figures report bench clean setup

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG) --rerun-incomplete
	@echo "Report: $(CURDIR)/results/report/index.html"

# Re-render every figure and the report from stored draws; never refits.
figures: $(STAMP)
	$(BIN)/snakemake figures --cores $(CORES) --configfile $(CONFIG) \
	    --forcerun $$($(BIN)/python -m svibench.targets figure-rules)
	@echo "Report: $(CURDIR)/results/report/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python tests/benchmarks/run_all.py

clean:
	rm -rf results .snakemake .cache
