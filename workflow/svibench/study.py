"""The study model: every dataset and every run of a study, and where its files go.

A validated config (``config.validate``) becomes a ``Study``: plain records, no
Snakemake. The rule files only wire rules to it (inputs, params, targets), so the
shape of a study is unit-tested here rather than inside ``.smk`` files.

- A ``Dataset`` is one (model, dataset): simulated from its settings or imported from
  the user's CSV, with its reference posterior. ``role`` is ``"study"`` (figures and a
  report section) or ``"scaling"`` (only scored, for the scaling summary).
- A ``Run`` is one fit job: (model, dataset, method, seed) plus how it starts. Every
  kind of run — a method's first seed, its extra seeds (``repeats``), a warm start
  continued from another dataset's fit, a scaling point — has the same files in the
  same tree, told apart by ``tag``:

  ``results/fits/{model}/{dataset}/{method}/seed{seed}/``   a fit from scratch
  ``results/fits/{model}/{dataset}/{method}/from-{source}/``  a warm start on
  ``dataset`` from the same method's first fit on ``source``

- A ``Batch`` is one fit *job* of an SVI or Pathfinder method: a method's seeds on one
  dataset (a primary fit and its repeats, or a scaling point) fitted together, the
  SVI seeds as one compiled program over a seed axis (``engine.svi.run_svi_seeds``).
  Each seed still writes its own run folder. NUTS (its chains in one job) and warm
  starts are one run per job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import seeds
from .config import fit_options, repeats, scaling_fit_options
from .methods import get_method
from .models import get_model
from .scheduling import fit_priority, reference_priority

DATA = "data/{model}/{dataset}"
REFERENCE_DIR = "results/reference/{model}/{dataset}"
RUN_DIR = "results/fits/{model}/{dataset}/{method}/{tag}"
FIGURE_DIR = "results/figures/{model}/{dataset}"
SCALING_SUMMARY = "results/scaling/summary.json"
SCALING_FIGURE = "results/figures/scaling/scaling.png"
REPORT = "results/report/index.html"

# A tag is `seed<N>` or `from-<dataset>`; dataset names hold letters, digits, _ and -.
SEED_TAG_PATTERN = r"seed[0-9]+"
WARM_TAG_PATTERN = r"from-[A-Za-z0-9_-]+"
TAG_PATTERN = f"{SEED_TAG_PATTERN}|{WARM_TAG_PATTERN}"
NAME_PATTERN = r"[A-Za-z0-9_-]+"

FIT_FILES = ("draws.parquet", "trace.parquet", "fit.json", "mocks.parquet", "posterior.nc")
SVI_FILES = FIT_FILES + ("params.npz",)
# how a fit job names each of its files (``svibench.fitting.run_fits``' ``out`` keys)
FILE_KEYS = {"draws.parquet": "draws", "trace.parquet": "trace", "fit.json": "fit",
             "mocks.parquet": "mocks", "posterior.nc": "idata", "params.npz": "params"}

# Figures every dataset has (corner) or has when it has SVI fits (loss); a model adds
# its own through ``Model.figures``.
FIGURE_CAPTIONS = {
    "corner": "Corner plot: NUTS, every guide and the truth",
    "loss": "Loss (-ELBO) per step of every SVI fit",
    "density": "True density beside each method's draws",
    "groups": "Per-group slopes and intercepts: mean ± sd",
}


@dataclass(frozen=True)
class Dataset:
    """One (model, dataset) of the study and its reference posterior.

    ``settings``: the config entry (generation settings with ``seed``, or ``{csv}``);
    ``role``: ``"study"`` or ``"scaling"``; ``predictive``: whether posterior
    predictive mocks are drawn and scored on it."""

    model: str
    name: str
    settings: dict = field(hash=False, compare=False)
    role: str = "study"
    predictive: bool = True

    @property
    def csv(self) -> str:
        return DATA.format(model=self.model, dataset=self.name) + ".csv"

    @property
    def meta(self) -> str:
        return DATA.format(model=self.model, dataset=self.name) + ".json"

    @property
    def reference_dir(self) -> str:
        return REFERENCE_DIR.format(model=self.model, dataset=self.name)

    @property
    def figure_dir(self) -> str:
        return FIGURE_DIR.format(model=self.model, dataset=self.name)


@dataclass(frozen=True)
class Run:
    """One fit job. ``kind`` is the method's (``"svi"`` or ``"nuts"``); ``role`` is
    ``"primary"`` (the method's first seed: the one in figures), ``"repeat"`` (another
    seed), ``"warm"`` (continued from ``source``'s primary fit) or ``"scaling"``;
    ``options`` the resolved fit options (``config.fit_options``)."""

    model: str
    dataset: str
    method: str
    seed: int
    role: str
    options: dict = field(hash=False, compare=False)
    source: str | None = None

    @property
    def kind(self) -> str:
        return get_method(self.method).kind

    @property
    def tag(self) -> str:
        return f"from-{self.source}" if self.role == "warm" else f"seed{self.seed}"

    @property
    def dir(self) -> str:
        return run_dir(self.model, self.dataset, self.method, self.tag)

    @property
    def label(self) -> str:
        """How the report names the run beside its method's other runs."""
        return f"{self.method} (warm from {self.source})" if self.role == "warm" else self.method

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(f"{self.dir}/{f}" for f in (SVI_FILES if self.kind == "svi" else FIT_FILES))

    @property
    def priority(self) -> int:
        """Longest fits first (``svibench.scheduling``)."""
        return fit_priority(self.options, self.kind)


@dataclass(frozen=True)
class Batch:
    """One fit job of several runs: the same method on the same dataset, one run per
    seed, options equal but for the seed. ``fit`` is ``{model}/{dataset}/{method}``,
    the rule's one wildcard."""

    runs: tuple[Run, ...]

    @property
    def first(self) -> Run:
        return self.runs[0]

    @property
    def kind(self) -> str:
        return self.first.kind

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(r.seed for r in self.runs)

    @property
    def fit(self) -> str:
        return f"{self.first.model}/{self.first.dataset}/{self.first.method}"

    @property
    def priority(self) -> int:
        return self.first.priority


def batch_rule_name(kind: str, seeds: tuple[int, ...], default_seeds: tuple[int, ...]) -> str:
    """``fit_svi`` / ``fit_pathfinder`` for the study's usual seeds; another seed set
    (a model's own ``repeats``, a method's own ``seed``) gets a rule of its own, named
    by its seeds (``fit_svi_seeds1to5``): a rule's outputs are fixed, one set per seed."""
    if seeds == default_seeds:
        return f"fit_{kind}"
    return f"fit_{kind}_seeds{seeds[0]}to{seeds[-1]}"


def run_dir(model: str, dataset: str, method: str, tag: str) -> str:
    """The one path function of a run's folder (see the module docstring)."""
    return RUN_DIR.format(model=model, dataset=dataset, method=method, tag=tag)


class Study:
    """Every dataset and run of a validated config, indexed for the rules' lookups."""

    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.datasets: dict[tuple[str, str], Dataset] = {}
        self.runs: list[Run] = []
        for model, entry in cfg["models"].items():
            for name, settings in entry["datasets"].items():
                self.datasets[model, name] = Dataset(model, name, settings)
            for name in entry["datasets"]:
                for method in entry["methods"]:
                    self._add_cold_runs(model, name, method, fit_options(cfg, model, method),
                                        repeats(cfg, model))
            for pair in entry.get("warm_start", []):
                for method in pair["methods"]:
                    options = fit_options(cfg, model, method)
                    self.runs.append(Run(model, pair["to"], method, options["seed"], "warm",
                                         options, source=pair["from"]))
        for name, settings in scaling_datasets(cfg).items():
            model = cfg["scaling"]["model"]
            self.datasets[model, name] = Dataset(model, name, settings, role="scaling",
                                                 predictive=False)
            for method in cfg["scaling"]["methods"]:
                self._add_cold_runs(model, name, method, scaling_fit_options(cfg, method),
                                    int(cfg["repeats"]), role="scaling")
        self._by_path = {(r.model, r.dataset, r.method, r.tag): r for r in self.runs}
        self.batches: dict[str, Batch] = {}
        grouped: dict[str, list[Run]] = {}
        for r in self.runs:
            if r.kind != "nuts" and r.role in ("primary", "repeat", "scaling"):
                grouped.setdefault(f"{r.model}/{r.dataset}/{r.method}", []).append(r)
        for fit, runs in grouped.items():
            self.batches[fit] = Batch(tuple(sorted(runs, key=lambda r: r.seed)))

    def _add_cold_runs(self, model, dataset, method, options, count, role=None):
        # NUTS runs its chains in one job: one seed; SVI and Pathfinder `count` seeds.
        n = 1 if get_method(method).kind == "nuts" else count
        for i, seed in enumerate(seeds.repeats(options["seed"], n)):
            self.runs.append(Run(model, dataset, method, seed,
                                 role or ("primary" if i == 0 else "repeat"),
                                 {**options, "seed": seed}))

    # --- fit jobs ---

    def default_seeds(self, kind: str) -> tuple[int, ...]:
        """The seeds a method of ``kind`` runs unless its model or entry says otherwise."""
        base = self.cfg["svi" if kind == "svi" else "pathfinder"]["seed"]
        return tuple(seeds.repeats(base, int(self.cfg["repeats"])))

    def batch_rules(self) -> list[tuple[str, str, tuple[int, ...], list[str]]]:
        """``(rule name, kind, seeds, fits)`` of every batch fit rule the study needs:
        one per (kind, seed set); ``fits`` are the ``{model}/{dataset}/{method}`` it
        makes. The rules for the usual seeds come first, named as before any repeats
        (``fit_svi``, ``fit_pathfinder``)."""
        rules: dict[tuple[str, tuple[int, ...]], list[str]] = {}
        for kind in ("svi", "pathfinder"):
            rules[kind, self.default_seeds(kind)] = []
        for b in self.batches.values():
            rules.setdefault((b.kind, b.seeds), []).append(b.fit)
        return [(batch_rule_name(k, s, self.default_seeds(k)), k, s, fits)
                for (k, s), fits in rules.items()]

    def fit_log(self, run: Run) -> str:
        """The log of the job that fits ``run``: its batch's, or its own."""
        batch = self.batches.get(f"{run.model}/{run.dataset}/{run.method}")
        if batch is not None and run in batch.runs:
            return f"results/logs/fit/{batch.fit}/seeds.log"
        return f"results/logs/fit/{run.model}/{run.dataset}/{run.method}/{run.tag}.log"

    def batch(self, fit: str) -> Batch:
        try:
            return self.batches[fit]
        except KeyError:
            raise KeyError(f"no fit job results/fits/{fit} in this study") from None

    # --- lookups by the rules' wildcards ---

    def run(self, model: str, dataset: str, method: str, tag: str) -> Run:
        try:
            return self._by_path[model, dataset, method, tag]
        except KeyError:
            raise KeyError(f"no run {run_dir(model, dataset, method, tag)} in this study") from None

    def dataset(self, model: str, name: str) -> Dataset:
        try:
            return self.datasets[model, name]
        except KeyError:
            raise KeyError(f"no dataset {model}/{name} in this study") from None

    # --- selections ---

    def study_datasets(self) -> list[Dataset]:
        return [d for d in self.datasets.values() if d.role == "study"]

    def scaling_datasets(self) -> list[Dataset]:
        return [d for d in self.datasets.values() if d.role == "scaling"]

    def runs_on(self, model: str, dataset: str, roles=None, kind=None) -> list[Run]:
        """Runs on one dataset, in study order (methods as configured, seeds rising)."""
        return [r for r in self.runs if r.model == model and r.dataset == dataset
                and (roles is None or r.role in roles) and (kind is None or r.kind == kind)]

    def primary_runs(self, model: str, dataset: str, kind=None) -> list[Run]:
        return self.runs_on(model, dataset, ("primary",), kind)

    def scored_runs(self, model: str, dataset: str) -> list[Run]:
        """Every run scored against this dataset's reference: the primary fits, then their
        other seeds, then warm starts onto it (the report's order)."""
        runs = self.runs_on(model, dataset)
        order = {"primary": 0, "scaling": 0, "repeat": 1, "warm": 2}
        return sorted(runs, key=lambda r: order[r.role])  # stable: methods keep their order

    def warm_runs(self, model: str, dataset: str, source: str | None = None) -> list[Run]:
        return [r for r in self.runs_on(model, dataset, ("warm",))
                if source is None or r.source == source]

    def warm_sources(self, model: str, dataset: str) -> list[str]:
        return list(dict.fromkeys(r.source for r in self.warm_runs(model, dataset)))

    def cold_twin(self, run: Run) -> Run:
        """The primary fit a warm run is compared with (same method, same dataset)."""
        return self.run(run.model, run.dataset, run.method, f"seed{run.seed}")

    def warm_init(self, run: Run) -> str:
        """``params.npz`` a warm run starts from: its method's primary fit on the source."""
        src = self.run(run.model, run.source, run.method, f"seed{run.seed}")
        return f"{src.dir}/params.npz"

    # --- figures ---

    def figures(self, model: str, dataset: str) -> list[tuple[str, str]]:
        """``(path, caption)`` of a study dataset's figures."""
        base = FIGURE_DIR.format(model=model, dataset=dataset)
        kinds = ["corner"]
        if self.primary_runs(model, dataset, "svi"):
            kinds.append("loss")
        kinds += list(get_model(model).figures)
        return [(f"{base}/{k}.png", FIGURE_CAPTIONS[k]) for k in kinds]

    def models_with_figure(self, kind: str) -> list[str]:
        return [m for m in self.cfg["models"] if kind in get_model(m).figures]

    def warm_figure(self, model: str, dataset: str, source: str) -> str:
        return f"{FIGURE_DIR.format(model=model, dataset=dataset)}/warm-from-{source}.png"

    def warm_figures(self) -> list[str]:
        return [self.warm_figure(d.model, d.name, s) for d in self.study_datasets()
                for s in self.warm_sources(d.model, d.name)]

    def predictive_figure(self, model: str, dataset: str) -> str | None:
        has = (get_model(model).has_observations and self.dataset(model, dataset).predictive
               and self.cfg["metrics"]["predictive_draws"] > 0)
        return f"{FIGURE_DIR.format(model=model, dataset=dataset)}/predictive.png" if has else None

    def cost_figure(self, model: str, dataset: str) -> str:
        """Accuracy against cost of every scored fit of a study dataset (rule plot_cost)."""
        return f"{FIGURE_DIR.format(model=model, dataset=dataset)}/cost.png"

    def cost_runs(self, model: str, dataset: str) -> list[Run]:
        """The fits in the cost figure: every seed of every method from scratch, in study
        order. Warm starts are left out: their cost leaves out their pre-training."""
        return self.runs_on(model, dataset, ("primary", "repeat"))

    def models_with_predictive(self) -> list[str]:
        return [m for m in self.cfg["models"] if get_model(m).has_observations]

    def figure_targets(self) -> list[str]:
        out = [p for d in self.study_datasets() for p, _ in self.figures(d.model, d.name)]
        out += self.warm_figures()
        out += [p for d in self.study_datasets() if (p := self.predictive_figure(d.model, d.name))]
        out += [self.cost_figure(d.model, d.name) for d in self.study_datasets()]
        return out

    # --- settings of the other jobs ---

    def reference_settings(self, dataset: Dataset) -> dict:
        settings = dict(self.cfg["reference"])
        if not dataset.predictive:
            settings["predictive_draws"] = 0
        return settings

    def reference_priority(self, dataset: Dataset) -> int:
        # draws given with a dataset (a model of your own) are read, not sampled
        sampled = (get_model(dataset.model).reference_kind == "nuts"
                   and "reference_draws" not in dataset.settings)
        return reference_priority(sampled, self.cfg["reference"])

    def metrics_settings(self, dataset: Dataset) -> dict:
        settings = dict(self.cfg["metrics"])
        if not dataset.predictive:
            settings["predictive_draws"] = 0
        return settings

    # --- targets ---

    def has_scaling(self) -> bool:
        return bool(self.scaling_datasets())

    def scaling_outputs(self) -> list[str]:
        return [SCALING_SUMMARY, SCALING_FIGURE] if self.has_scaling() else []

    def scaling_entries(self) -> list[dict]:
        """The scaling summary's inputs: per fit, its ``groups``, latent dimension and files."""
        return [{"groups": int(self.dataset(r.model, r.dataset).settings["groups"]),
                 "dim": get_model(r.model).latent_dim(self.dataset(r.model, r.dataset).settings),
                 "fit": f"{r.dir}/fit.json", "metrics": f"{r.dir}/metrics.json"}
                for r in self.runs if r.role == "scaling"]

    def targets(self) -> list[str]:
        """Everything ``all`` builds: every fit and its score, every reference, every
        figure, the scaling summary and the report."""
        out = [f"{r.dir}/{f}" for r in self.runs for f in ("fit.json", "metrics.json")]
        out += [f"{d.reference_dir}/reference.json" for d in self.datasets.values()]
        return out + self.figure_targets() + self.scaling_outputs() + [REPORT]

    # --- the report's inputs ---

    def report_inputs(self) -> list[str]:
        """Files the report reads (so it reruns when any changes)."""
        out = [f"{r.dir}/{f}" for r in self.runs for f in ("fit.json", "metrics.json")
               if r.role != "scaling"]
        out += [f"{r.dir}/draws.parquet" for r in self.runs if r.role == "primary"]
        out += [f"{d.reference_dir}/reference.json" for d in self.study_datasets()]
        return out + self.figure_targets() + self.scaling_outputs()

    def report_studies(self) -> list[dict]:
        return [{"model": d.model, "dataset": d.name, "data_json": d.meta,
                 "fit_dirs": [r.dir for r in self.primary_runs(d.model, d.name)],
                 "figures": self.figures(d.model, d.name)} for d in self.study_datasets()]

    def report_warm(self) -> list[dict]:
        return [{"model": d.model, "src": s, "dst": d.name,
                 "figure": self.warm_figure(d.model, d.name, s),
                 "pairs": [(self.cold_twin(r).dir, r.dir) for r in self.warm_runs(d.model, d.name, s)]}
                for d in self.study_datasets() for s in self.warm_sources(d.model, d.name)]

    def report_evaluation(self) -> list[dict]:
        return [{"model": d.model, "dataset": d.name,
                 "reference": f"{d.reference_dir}/reference.json",
                 "fits": [{"method": r.method, "label": r.label, "group": r.label,
                           "fit_dir": r.dir, "metrics": f"{r.dir}/metrics.json"}
                          for r in self.scored_runs(d.model, d.name)],
                 "predictive": self.predictive_figure(d.model, d.name)}
                for d in self.study_datasets()]

    def report_cost(self) -> list[dict]:
        """Per study dataset its cost figure and the fits in it (``{method, dir}``)."""
        return [{"model": d.model, "dataset": d.name, "figure": self.cost_figure(d.model, d.name),
                 "runs": [{"method": r.method, "dir": r.dir}
                          for r in self.cost_runs(d.model, d.name)]}
                for d in self.study_datasets()]

    def report_scaling(self) -> dict:
        return {"summary": SCALING_SUMMARY, "figure": SCALING_FIGURE} if self.has_scaling() else {}


def scaling_datasets(cfg: dict) -> dict[str, dict]:
    """The scaling study's datasets of ``scaling.model``: ``J<groups>`` for each value
    of ``scaling.groups``, simulated from ``scaling.seed`` with the model's defaults."""
    sc = cfg["scaling"]
    if not sc["enabled"]:
        return {}
    defaults = get_model(sc["model"]).defaults
    return {f"J{j}": {**defaults, "seed": sc["seed"], "groups": j} for j in sc["groups"]}
