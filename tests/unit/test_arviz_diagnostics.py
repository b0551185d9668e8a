"""The MCMC and PSIS diagnostics are the libraries' (ArviZ's ESS / R-hat, ArviZ's PSIS
k-hat) where they used to be hand-written copies: these tests show, on the same
numbers, that the library gives what the copies gave, and say where and why not."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from svibench import metrics as M

WORKFLOW = Path(__file__).resolve().parents[2] / "workflow"


# -- the former hand-written copies (svibench.metrics before ArviZ), as oracles -------

def _split(x):
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, -half:]], axis=0)


def _rank_normalise(x):
    from scipy.special import ndtri

    _, inverse, counts = np.unique(x.ravel(), return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse].reshape(x.shape)
    return ndtri((ranks - 0.375) / (x.size + 0.25))


def _ess(x):
    from numpyro.diagnostics import effective_sample_size

    return float("nan") if np.ptp(x) == 0 else float(effective_sample_size(x))


def old_ess_bulk(x):
    return _ess(_rank_normalise(_split(x)))


def old_ess_tail(x):
    x = _split(x)
    lo, hi = np.quantile(x, [0.05, 0.95])
    return float(np.nanmin([_ess((x <= lo).astype(float)), _ess((x >= hi).astype(float))]))


def old_rhat(x):
    from numpyro.diagnostics import split_gelman_rubin

    bulk = split_gelman_rubin(_rank_normalise(x))
    folded = split_gelman_rubin(_rank_normalise(np.abs(x - np.median(x))))
    return float(max(bulk, folded))


def ar1(rng, chains, n, rho):
    x = np.zeros((chains, n))
    eps = rng.normal(size=(chains, n))
    for t in range(1, n):
        x[:, t] = rho * x[:, t - 1] + eps[:, t]
    return x


CASES = {  # positively autocorrelated chains, an even number of draws: NUTS's usual case
    "ar 0.5": lambda r: ar1(r, 4, 500, 0.5),
    "ar 0.9": lambda r: ar1(r, 4, 1000, 0.9),
    "skewed": lambda r: np.exp(ar1(r, 4, 400, 0.7)),
    "2 chains": lambda r: ar1(r, 2, 2000, 0.3) + np.array([[0.0], [0.2]]),
}


@pytest.mark.parametrize("case", CASES)
def test_arviz_ess_and_rhat_agree_with_the_hand_written_ones(case):
    """R-hat: equal to rounding. ESS: equal to rounding, or ArviZ's a little smaller
    (< 2.5 %): where Geyer's initial positive sequence ends on a pair whose even
    autocorrelation is still positive, ArviZ (Stan's estimator since 2.18) adds that
    autocorrelation to tau and NumPyro's ``effective_sample_size`` does not. On these
    20 sets of draws 12 bulk and 14 tail ESS are equal to 1e-12."""
    equal = 0
    for seed in range(5):
        x = CASES[case](np.random.default_rng(seed))
        assert M.rhat(x) == pytest.approx(old_rhat(x), rel=1e-12)
        for new, old in ((M.ess_bulk(x), old_ess_bulk(x)), (M.ess_tail(x), old_ess_tail(x))):
            assert old * (1 - 0.025) <= new <= old * (1 + 1e-12)
            equal += new == pytest.approx(old, rel=1e-12)
    assert equal >= {"ar 0.5": 10, "ar 0.9": 6, "skewed": 6, "2 chains": 4}[case]


def test_where_arviz_and_the_hand_written_ess_differ():
    """Beyond the extra autocorrelation above, three cases, all known and small:

    - ESS near or above S (independent or antithetic draws): ArviZ's Geyer sum keeps one
      more positive autocorrelation (Stan's "improved" estimator) and caps tau at
      1 / log10(S); NumPyro's ``effective_sample_size`` does neither;
    - an odd number of draws per chain: ArviZ takes the tail quantiles of the unsplit
      chains (the copy: of the split ones, without the middle draw) and ranks the split
      chains for R-hat (the copy: all draws), so the quantiles move by a draw;
    - one chain: no R-hat either way (NaN).
    """
    rng = np.random.default_rng(0)
    anti = ar1(rng, 4, 500, -0.5)
    s = anti.size  # ArviZ caps ESS at S log10 S; NumPyro's goes on
    assert M.ess_bulk(anti) == pytest.approx(s * math.log10(s), rel=1e-12)
    assert old_ess_bulk(anti) > s * math.log10(s)
    odd = ar1(rng, 4, 501, 0.3)
    assert M.ess_bulk(odd) == pytest.approx(old_ess_bulk(odd), rel=1e-9)
    assert M.ess_tail(odd) == pytest.approx(old_ess_tail(odd), rel=0.05)
    assert M.rhat(odd) == pytest.approx(old_rhat(odd), rel=1e-4)
    assert math.isnan(M.rhat(ar1(rng, 1, 800, 0.5)))


def test_pareto_khat_equals_arviz_and_numpyros_private_one():
    """``metrics.pareto_khat`` (NumPy) against ``az.psislw``'s k-hat (public; equal to the
    last bit) and NumPyro's ``_psis_khat`` (the private function the PSIS diagnostic
    used): the same Zhang-Stephens fit, prior and tail. Light and heavy tails, nearly
    flat weights, and a tail too short to fit (``inf`` for both)."""
    import arviz as az
    from numpyro.infer.importance import _psis_khat

    from svibench.metrics import pareto_khat

    rng = np.random.default_rng(3)
    cases = [rng.normal(size=4000), 2.0 * rng.standard_t(3, size=4000),
             rng.normal(size=1000) * 0.1, rng.normal(size=4000) * 1e-6,
             -rng.exponential(size=2000), rng.standard_cauchy(size=4000)]
    for lw in cases:
        assert pareto_khat(lw) == az.psislw(lw.copy())[1]
        assert pareto_khat(lw) == pytest.approx(_psis_khat(lw), rel=1e-9, abs=1e-12)
    ks = [pareto_khat(lw) for lw in cases]
    assert ks[1] > ks[0] and ks[5] > 0.7  # heavier tails, larger k-hat
    few = np.r_[np.zeros(3), np.full(97, -800.0)]  # 3 weights above the cut: no fit
    assert pareto_khat(few) == math.inf == az.psislw(few.copy())[1]


def test_mcmc_diagnostics_start_no_jax():
    """An evaluate job of a NUTS fit needs no JAX: ArviZ's diagnostics import none."""
    code = ("import sys; import numpy as np, pandas as pd; from svibench import metrics; "
            "x = np.random.default_rng(0).normal(size=(4000, 2)); "
            "metrics.mcmc_diagnostics(pd.DataFrame(x, columns=['a', 'b']), 4); "
            "import svibench.evaluate, svibench.inference_data; "
            "print(sorted(m for m in ('jax', 'jaxlib', 'numpyro') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=WORKFLOW, check=True).stdout
    assert out.strip() == "[]"


def test_guide_log_weights_through_public_numpyro_equal_the_private_ones():
    """The per-particle log weights (public ``log_density``) against NumPyro's private
    ``_compute_log_weights`` that ``psis_diagnostic`` uses, same keys."""
    import jax
    from numpyro.infer.importance import _compute_log_weights

    from svibench.engine.psis import guide_log_weight
    from svibench.engine.svi import run_svi
    from svibench.methods import get_method
    from test_predictive_psis import bound_model, problem

    arrays, static = problem("hier")
    fn = bound_model("hier", static)
    guide = get_method("auto_normal").build(fn)
    params = run_svi(fn, guide, arrays, max_steps=50, lr=0.05, chunk=50).params
    for key in jax.random.split(jax.random.PRNGKey(4), 3):
        ours = float(guide_log_weight(key, params, fn, guide, arrays))
        theirs = float(_compute_log_weights(key, params, fn, guide, (), arrays))
        assert ours == pytest.approx(theirs, rel=1e-6)
