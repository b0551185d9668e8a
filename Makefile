# Two commands for a new user: `make run` (the default study) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CORES  ?= all
CONFIG ?= config/config.yaml
FIGURE_RULES := plot_corner plot_loss plot_density plot_groups plot_warm plot_predictive plot_cost report

.PHONY: run test figures report bench clean setup unlock posteriordb

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test]"
	touch $(STAMP)

# Config files that do not parse: one line naming file and line (Snakemake's own
# message names neither), before Snakemake starts.
PRECHECK = $(BIN)/python -m svibench.precheck $(CONFIG)

run: $(STAMP)
	@$(PRECHECK)
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG) --rerun-incomplete
	@echo "Report: $(CURDIR)/results/report/index.html"

# The real-posteriors study: eight posteriordb posteriors, every method, 5 seeds
# (README, "Real posteriors"). Its results join the same results/ tree.
posteriordb:
	$(MAKE) run CONFIG=config/posteriordb.yaml

# Re-render every figure and the report from stored draws; never refits.
figures: $(STAMP)
	@$(PRECHECK)
	$(BIN)/snakemake figures --cores $(CORES) --configfile $(CONFIG) \
	    --forcerun $(FIGURE_RULES)
	@echo "Report: $(CURDIR)/results/report/index.html"

# Snakemake's own report of every figure (categories, captions), from stored results.
report: $(STAMP)
	@$(PRECHECK)
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG) --report results/report.zip
	@echo "Snakemake report: $(CURDIR)/results/report.zip"

# After a hard kill (SIGKILL, power loss) Snakemake leaves its lock behind: `make unlock`,
# then `make run` again (it reruns what was incomplete).
unlock: $(STAMP)
	$(BIN)/snakemake --unlock --cores 1 --configfile $(CONFIG)

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Benchmarks (tests/benchmarks/, results in results/bench/): an hour or more on 2 cores;
# `make bench BENCH_ARGS=--quick` checks the scripts in minutes.
bench: $(STAMP)
	$(BIN)/python tests/benchmarks/run_all.py $(BENCH_ARGS)

clean:
	rm -rf results .snakemake .cache
