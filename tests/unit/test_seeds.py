"""The derived seeds: their values fix every stored draw, so they never change."""

from svibench import seeds


def test_derived_seeds_keep_their_values():
    assert (seeds.draws(3), seeds.psis(3), seeds.mocks(3)) == (1_000_006, 2_000_006, 3_000_006)
    assert seeds.reference_mocks(11) == 12


def test_derived_seeds_of_a_fit_never_meet_another_fits_seeds():
    fits = seeds.repeats(1, 50)
    derived = {f(s) for s in fits for f in (seeds.draws, seeds.psis, seeds.mocks)}
    assert len(derived) == 3 * len(fits) and not derived & set(fits)


def test_repeats_are_consecutive_from_the_methods_seed():
    assert seeds.repeats(5, 3) == [5, 6, 7]
    assert seeds.repeats(5, 1) == [5]
    assert seeds.repeats(5, 0) == []


def test_psis_particle_sets_have_keys_of_their_own_reproducibly():
    import numpy as np

    a = np.asarray(seeds.psis_set_keys(seeds.psis(1), 5))
    assert a.shape[0] == 5 and len({tuple(k) for k in a.reshape(5, -1)}) == 5
    assert (a == np.asarray(seeds.psis_set_keys(seeds.psis(1), 5))).all()
    b = np.asarray(seeds.psis_set_keys(seeds.psis(2), 5))  # the next repeat's sets
    assert not {tuple(k) for k in a.reshape(5, -1)} & {tuple(k) for k in b.reshape(5, -1)}
