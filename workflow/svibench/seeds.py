"""The seeds derived from a fit's (or a reference's) seed, each named once.

A fit draws its guide draws, its PSIS particles and its predictive mocks with seeds
of their own, offset from the fit's seed by distinct large primes so that they never
coincide with each other, nor with the seed of another fit of the study (those are
small: a method's fits take consecutive seeds, ``repeats``). Changing a value here
changes every stored draw.
"""

from __future__ import annotations


def draws(fit_seed: int) -> int:
    """Seed of an SVI fit's stored guide draws."""
    return fit_seed + 1_000_003


def psis(fit_seed: int) -> int:
    """Seed of the guide draws (particles) behind an SVI fit's PSIS k-hat."""
    return fit_seed + 2_000_003


def psis_set_keys(psis_seed: int, sets: int):
    """The JAX keys of a fit's ``sets`` independent PSIS particle sets: the key of its
    PSIS seed (``psis(fit_seed)``) split ``sets`` ways (``jax.random.split``), so the
    sets never share draws with each other nor with another fit's (offsets such as
    ``psis_seed + i`` would: a method's repeats take consecutive seeds)."""
    import jax

    return jax.random.split(jax.random.PRNGKey(int(psis_seed)), int(sets))


def mocks(fit_seed: int) -> int:
    """Seed of a fit's posterior predictive mock datasets (NUTS and SVI)."""
    return fit_seed + 3_000_003


def reference_mocks(reference_seed: int) -> int:
    """Seed of a reference posterior's predictive mock datasets."""
    return reference_seed + 1


def repeats(base_seed: int, count: int) -> list[int]:
    """Seeds of a method's ``count`` fits: its own seed ``base_seed`` first, then
    ``base_seed + 1``, ... (the extra fits of a guide that is fitted more than once)."""
    return [base_seed + i for i in range(count)]
