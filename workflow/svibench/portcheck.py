"""Is a port right? Our own NUTS on a ported model against the published reference.

A port agrees with its reference when, for every quantity of the reference, the
means differ by at most ``Z`` combined Monte Carlo standard errors (each sample's
MCSE of the mean, ``sd / sqrt(ESS)``, from its own chains) and the sds by at most
``SD_TOL`` (relative). ``agreement`` is NumPy and ArviZ's ESS on draws tables (the
evaluate job of a NUTS fit against a posteriordb reference records it in metrics.json
as ``port_check``, and the report shows it); ``check`` runs
NUTS on a registered model and compares it with its ``published_reference``;
``python -m svibench.portcheck [model ...]`` prints the table for the posteriordb
models (all eight by default).
"""

from __future__ import annotations

import math

import numpy as np

Z = 4.0        # means within this many combined MCSEs
SD_TOL = 0.10  # sds within this fraction


def mean_ess(x: np.ndarray) -> float:
    """ESS of the mean of ``x`` (chains, draws): split chains (``metrics.ess_mean``,
    ArviZ's; no JAX, so an evaluate job can check a port)."""
    from .metrics import ess_mean

    return ess_mean(x)


def _summary(draws, column: str, chains: int) -> tuple[float, float, float]:
    x = np.asarray(draws[column], dtype=np.float64)
    per = len(x) // chains
    x = x[: per * chains].reshape(chains, per)
    sd = float(x.std(ddof=1))
    ess = mean_ess(x)
    return float(x.mean()), sd, sd / math.sqrt(ess)


def agreement(our_draws, our_chains: int, ref_draws, ref_chains: int,
              z: float = Z, sd_tol: float = SD_TOL) -> dict:
    """``{quantity: {mean_z, sd_ratio, ok}}`` for every column of ``ref_draws``
    (chain-major draws tables; ``our_draws`` must hold those columns). ``mean_z``:
    (our mean - reference mean) / sqrt(our MCSE^2 + reference MCSE^2); ``sd_ratio``:
    our sd / reference sd; ``ok``: |mean_z| <= z and |sd_ratio - 1| <= sd_tol."""
    out = {}
    for c in ref_draws.columns:
        m1, s1, e1 = _summary(our_draws, c, our_chains)
        m0, s0, e0 = _summary(ref_draws, c, ref_chains)
        mz = (m1 - m0) / math.sqrt(e1**2 + e0**2)
        ratio = s1 / s0
        out[c] = {"mean_z": mz, "sd_ratio": ratio,
                  "ok": bool(abs(mz) <= z and abs(ratio - 1.0) <= sd_tol)}
    return out


def summarise(result: dict) -> dict:
    """One row of the table: max |mean_z|, min / max sd_ratio, pass, the quantities
    that fail, and the tolerances."""
    mz = [abs(v["mean_z"]) for v in result.values()]
    sr = [v["sd_ratio"] for v in result.values()]
    return {"max_abs_mean_z": max(mz), "min_sd_ratio": min(sr), "max_sd_ratio": max(sr),
            "ok": all(v["ok"] for v in result.values()),
            "failed": [k for k, v in result.items() if not v["ok"]], "z": Z, "sd_tol": SD_TOL}


def check(name: str, *, chains: int = 4, warmup: int = 500, draws_per_chain: int = 1000,
          seed: int = 0, target_accept: float = 0.9, dense_mass: bool = True) -> dict:
    """Our NUTS on the registered model ``name`` (its vendored data) against its
    ``published_reference``: ``agreement``'s result."""
    from .engine.draws import flatten, latent_sites
    from .engine.nuts import run_nuts
    from .models import get_model

    model = get_model(name)
    arrays, static = model.prepare(model.simulate(dict(model.defaults), 0)[0], dict(model.defaults))
    fn = model.bind(static)
    sites = latent_sites(fn, arrays)
    fit = run_nuts(fn, arrays, warmup=warmup, draws=chains * draws_per_chain, chains=chains,
                   seed=seed, target_accept=target_accept, dense_mass=dense_mass,
                   method="sequential")
    flat = {k: v.reshape((-1,) + v.shape[2:]) for k, v in fit.samples.items()}
    ours = flatten(flat, sites)
    ref, ref_chains = model.published_reference()[:2]
    return agreement(ours, fit.chains, ref, ref_chains)


def main(argv=None) -> int:
    import sys
    import time

    from .models import POSTERIORDB

    names = list(argv if argv is not None else sys.argv[1:]) or list(POSTERIORDB)
    print(f"| posterior | max abs mean_z | min sd_ratio | max sd_ratio | pass | seconds |")
    print("|---|---|---|---|---|---|")
    failed = 0
    for name in names:
        t0 = time.perf_counter()
        row = summarise(check(name))
        failed += not row["ok"]
        print(f"| {name} | {row['max_abs_mean_z']:.2f} | {row['min_sd_ratio']:.3f} | "
              f"{row['max_sd_ratio']:.3f} | {'yes' if row['ok'] else 'NO'} | "
              f"{time.perf_counter() - t0:.0f} |", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
