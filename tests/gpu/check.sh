#!/usr/bin/env bash
# The GPU path on a machine with a GPU (CI has none): the runtime's GPU test, then two
# fit jobs through Snakemake with `gpu: 1` from the config and the same fits with
# `gpu: 0`, and what each fit.json says it ran on. Used on a lent H200 (issue 6):
#     bash tests/gpu/check.sh [OUTDIR]
# Needs snakemake and the project's Python packages on the PATH's python3.
set -euo pipefail
out=${1:-/tmp/svibench-gpu}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
mkdir -p "$out"
python3 -m pytest -q -p no:cacheprovider "$root/tests/unit/test_runtime.py" -k gpu -rs 2>&1 | tail -4
cp -r "$root/Snakefile" "$root/workflow" "$root/config" "$root/envs" "$work/"
cd "$work"
targets="results/fits/hier/first/auto_normal/fit.json results/fits/hier/first/nuts/fit.json"
for gpu in 1 0; do
    printf 'resources:\n  fit_svi: {gpu: %s}\n  fit_nuts: {gpu: %s, threads: 2}\n' "$gpu" "$gpu" > gpu.yaml
    rm -rf results/fits
    snakemake $targets --cores 4 --configfile config/config.yaml gpu.yaml > "$out/snakemake-gpu$gpu.log" 2>&1 \
        || { tail -20 "$out/snakemake-gpu$gpu.log"; exit 1; }
    for f in $targets; do
        python3 - "$f" "$gpu" <<'PY'
import json, sys
fit = json.load(open(sys.argv[1]))
s = fit["seconds"]
print(f"gpu={sys.argv[2]} {fit['method']:12s} device={fit['device']:5s} status={fit['status']} "
      f"steps={fit.get('steps_run')} total={s.get('total'):.1f}s "
      + (f"chain_method={fit['diagnostics']['chain_method']}" if fit["method"] == "nuts" else ""))
PY
    done
    grep -h "JAX platform" results/logs/fit/hier/first/*.log | sed "s/^/gpu=$gpu log: /"
done
