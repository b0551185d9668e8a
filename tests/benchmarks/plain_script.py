"""The baseline of the seed-equivalent benchmark: the same fits as a study config, one
after the other in ONE Python process, with plain NumPyro calls as a typical user
writes them (no workflow, no chunked engine, no convergence stop, no cache):

    mcmc = MCMC(NUTS(model), num_warmup=W, num_samples=N // chains, num_chains=chains,
                progress_bar=False); mcmc.run(key, **data)
    svi = SVI(model, guide, Adam(lr), Trace_ELBO(particles))
    result = svi.run(key, max_steps, progress_bar=False, **data)
    draws = guide.sample_posterior(key, result.params, sample_shape=(4000,), **data)
           # (hand-written guides: Predictive(model, guide=guide, params=...))

It uses the package only for the models, the guides' constructors, the data files and
writing the draws. ``progress_bar=False`` is the fast setting (``SVI.run``'s default
``True`` is a Python loop, ~4x slower: DESIGN.md); NUTS chains run as NumPyro does
by default on a CPU, one after the other, unless ``--host-devices N``
(``numpyro.set_host_device_count``) lets them run in parallel.

    python tests/benchmarks/plain_script.py [--config config/seed.yaml] [--only linreg]
        [--scale 0.1] [--data-dir DIR] [--out DIR] [--host-devices 1] [--seed-offset 0]

``--seed-offset S`` adds S to every fit seed: ``bench_seed.py --accuracy`` runs it
again (untimed) with other seeds for the fit-to-fit spread of each method.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "workflow"))


def subset_config(raw: dict, only=(), scale: float = 1.0) -> dict:
    """The study ``raw`` restricted to ``only`` (``model`` or ``model/method`` items)
    with every budget (SVI steps, NUTS warm-up and draws) times ``scale``.
    The same transformation is given to the workflow and to this script."""
    cfg = copy.deepcopy(raw)
    if only:
        keep = {}
        for item in only:
            model, _, method = item.partition("/")
            if model not in cfg["models"]:
                raise SystemExit(f"--only {item}: no model {model!r} in the config")
            entry = keep.setdefault(model, {**cfg["models"][model], "methods": []})
            for m in cfg["models"][model]["methods"]:
                name = m if isinstance(m, str) else next(iter(m))
                if (not method or name == method) and m not in entry["methods"]:
                    entry["methods"].append(m)
            entry.pop("warm_start", None)
        cfg["models"] = {k: v for k, v in keep.items() if v["methods"]}
    if scale != 1.0:
        def shrink(d: dict):
            for key in ("max_steps", "warmup", "draws"):
                if key in d:
                    d[key] = max(1, int(math.ceil(d[key] * scale)))

        shrink(cfg.setdefault("svi", {}))
        shrink(cfg.setdefault("nuts", {}))
        for entry in cfg["models"].values():
            for m in entry["methods"]:
                if isinstance(m, dict):
                    shrink(next(iter(m.values())) or {})
    return cfg


def fits_of(cfg: dict):
    """``(model, dataset, method, options)`` of every fit of a validated config."""
    from svibench.config import fit_options

    for model, entry in cfg["models"].items():
        for dataset in entry["datasets"]:
            for method in entry["methods"]:
                yield model, dataset, method, fit_options(cfg, model, method)


def plain_nuts(model_fn, arrays, o):
    import jax
    from numpyro.infer import MCMC, NUTS

    kernel = NUTS(model_fn, target_accept_prob=o["target_accept"],
                  max_tree_depth=o["max_tree_depth"], dense_mass=o["dense_mass"])
    mcmc = MCMC(kernel, num_warmup=o["warmup"], num_samples=math.ceil(o["draws"] / o["chains"]),
                num_chains=o["chains"], progress_bar=False)
    mcmc.run(jax.random.PRNGKey(o["seed"]), **arrays)
    return jax.block_until_ready(mcmc.get_samples()), {"chain_method": mcmc.chain_method}


def plain_svi(method, model_fn, arrays, o, sites):
    import jax
    from numpyro.infer import SVI, Predictive, Trace_ELBO, TraceGraph_ELBO
    from numpyro.infer.autoguide import AutoGuide
    from numpyro.optim import Adam

    guide = method.build(model_fn, **o.get("guide", {}))
    elbo = (TraceGraph_ELBO if o["elbo"] == "tracegraph" else Trace_ELBO)(num_particles=o["particles"])
    svi = SVI(model_fn, guide, Adam(o["lr"]), elbo)
    result = svi.run(jax.random.PRNGKey(o["seed"]), o["max_steps"], progress_bar=False, **arrays)
    key = jax.random.PRNGKey(o["seed"] + 1)
    if isinstance(guide, AutoGuide):
        draws = guide.sample_posterior(key, result.params, sample_shape=(o["draws"],), **arrays)
    else:
        draws = Predictive(model_fn, guide=guide, params=result.params, num_samples=o["draws"],
                           return_sites=list(sites))(key, **arrays)
    losses = jax.block_until_ready(result.losses)
    return jax.block_until_ready(draws), {"final_loss": float(losses[-1]), "steps": int(len(losses))}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default=str(ROOT / "config" / "seed.yaml"))
    p.add_argument("--only", action="append", default=[], metavar="MODEL[/METHOD]")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every budget by this")
    p.add_argument("--data-dir", default=None, help="folder holding data/<model>/<dataset>.csv "
                   "(simulated there when missing); default: a temporary folder")
    p.add_argument("--out", default=str(ROOT / "results" / "bench" / "plain"))
    p.add_argument("--host-devices", type=int, default=1,
                   help="numpyro.set_host_device_count(N): N > 1 runs NUTS chains in parallel")
    p.add_argument("--seed-offset", type=int, default=0, help="added to every fit seed")
    args = p.parse_args(argv)

    t_start = time.perf_counter()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if args.host_devices > 1:
        import numpyro

        numpyro.set_host_device_count(args.host_devices)
    import yaml

    from svibench.config import validate
    from svibench.data import bound_model, load_dataset, simulate_dataset
    from svibench.engine.draws import flatten, latent_sites
    from svibench.io import write_json, write_parquet
    from svibench.methods import get_method

    raw = subset_config(yaml.safe_load(Path(args.config).read_text()), args.only, args.scale)
    cfg = validate(raw)
    data_dir = Path(args.data_dir) if args.data_dir else Path(
        __import__("tempfile").mkdtemp(prefix="svibench-plain-data-"))
    out_root = Path(args.out)
    rows = []
    t_ready = time.perf_counter()
    for model, dataset, method, o in fits_of(cfg):
        o = {**o, "seed": o["seed"] + args.seed_offset}
        csv = data_dir / "data" / model / f"{dataset}.csv"
        meta = data_dir / "data" / model / f"{dataset}.json"
        if not csv.exists():
            simulate_dataset(model, dataset, cfg["models"][model]["datasets"][dataset], csv, meta)
        arrays, static, _ = load_dataset(model, csv, meta)
        model_fn = bound_model(model, static)
        m = get_method(method)
        sites = latent_sites(model_fn, arrays)  # names of the columns written (not timed)
        folder = out_root / model / dataset / method
        (folder / "draws.parquet").unlink(missing_ok=True)
        info = {"model": model, "dataset": dataset, "method": method, "kind": m.kind,
                "options": o}
        t0 = time.perf_counter()
        try:
            if m.kind == "nuts":
                samples, extra = plain_nuts(model_fn, arrays, o)
            else:
                samples, extra = plain_svi(m, model_fn, arrays, o, sites)
        except Exception as err:  # noqa: BLE001
            # A fit that went non-finite can fail NumPyro's argument checks when its
            # draws are made (AutoDAIS: "Normal distribution got invalid loc
            # parameter"): recorded as failed, and the script goes on to the next fit.
            info.update(seconds=time.perf_counter() - t0, finite=False, status="failed",
                        error=f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}")
            write_json(folder / "fit.json", info)
            rows.append(info)
            print(f"{model}/{dataset}/{method}: {info['seconds']:.1f} s, failed ({info['error']})",
                  flush=True)
            continue
        seconds = time.perf_counter() - t0
        draws = flatten(samples, sites)
        finite = bool(draws.notna().all().all()) and bool(abs(draws.to_numpy()).max() < float("inf"))
        write_parquet(folder / "draws.parquet", draws)
        info.update(seconds=seconds, finite=finite, **extra)
        write_json(folder / "fit.json", info)
        rows.append(info)
        print(f"{model}/{dataset}/{method}: {seconds:.1f} s{'' if finite else ' (non-finite draws)'}",
              flush=True)
    total = time.perf_counter() - t_start
    summary = {"total_seconds": total, "setup_seconds": t_ready - t_start,
               "fits": [{k: r[k] for k in ("model", "dataset", "method", "seconds", "finite")}
                        for r in rows], "host_devices": args.host_devices,
               "seed_offset": args.seed_offset,
               "config": args.config, "only": args.only, "scale": args.scale}
    write_json(out_root / "summary.json", summary)
    print(f"plain script: {len(rows)} fits, {total:.1f} s in all")
    print("RESULT " + json.dumps({"total_seconds": total}))


if __name__ == "__main__":
    main()
