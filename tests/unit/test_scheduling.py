"""Job priorities: in proportion to a fit's budget, so the longest jobs start first."""

import yaml

from svibench.config import fit_options, validate
from svibench.methods import get_method
from svibench.scheduling import LEAPFROGS_PER_DRAW, fit_priority, reference_priority

ROOT_CFG = "config/seed.yaml"


def seed_config():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / ROOT_CFG
    return validate(yaml.safe_load(path.read_text()))


def test_svi_priority_counts_particles_and_annealing_steps():
    assert fit_priority({"max_steps": 3000, "particles": 1, "guide": {}}, "svi") == 3
    assert fit_priority({"max_steps": 5000, "particles": 100, "guide": {}}, "svi") == 500
    # AutoDAIS: K annealing steps, each a gradient of the model, per particle.
    assert fit_priority({"max_steps": 50000, "particles": 100, "guide": {"K": 16}}, "svi") == 85000
    # Never 0 (Snakemake's default): a fit outranks the jobs that only read fits.
    assert fit_priority({"max_steps": 1, "particles": 1, "guide": {}}, "svi") == 1


def test_nuts_priority_counts_warmup_of_every_chain_and_all_draws():
    opts = {"warmup": 1000, "draws": 20000, "chains": 2}
    assert fit_priority(opts, "nuts") == (2 * 1000 + 20000) * LEAPFROGS_PER_DRAW // 1000


def test_reference_priority():
    settings = {"chains": 4, "warmup": 1000, "draws_per_chain": 2500}
    assert reference_priority(True, settings) == 4 * 3500 * LEAPFROGS_PER_DRAW // 1000
    assert reference_priority(False, settings) == 1


def test_in_the_seed_study_the_dais_fit_starts_first():
    cfg = seed_config()
    prio = {(model, method): fit_priority(fit_options(cfg, model, method), get_method(method).kind)
            for model, spec in cfg["models"].items() for method in spec["methods"]}
    top = max(prio, key=prio.get)
    assert top == ("hier", "auto_dais"), prio
    # Snakemake maximises the summed priority of the jobs it starts: DAIS must beat
    # any two others together, or two short fits would take both cores before it.
    others = sorted(v for k, v in prio.items() if k != top)
    assert prio[top] > others[-1] + others[-2]
