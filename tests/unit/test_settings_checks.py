"""Simulation settings out of range are refused when the config is read, naming the key."""

import pytest
import yaml

from svibench.config import ConfigError, validate


@pytest.mark.parametrize("text, expected", [
    ("coin: {datasets: {1: {seed: 1}}, methods: all}", "models.coin.datasets.1: dataset names"),
    ("coin: {datasets: {a: {seed: 1, n: -5}}, methods: all}", "models.coin.datasets.a.n: must be an integer >= 1"),
    ("coin: {datasets: {a: {seed: 1, heads: 30}}, methods: all}", "models.coin.datasets.a.heads: must be a number in [0, 20]"),
    ("coin: {datasets: {a: {seed: 1, heads: 3.5}}, methods: all}", "models.coin.datasets.a.heads: must be an integer"),
    ("coin: {datasets: {a: {seed: 1, p: 2}}, methods: all}", "models.coin.datasets.a.p: must be a number in [0, 1]"),
    ("hier: {datasets: {a: {seed: 1, groups: 0}}, methods: all}", "models.hier.datasets.a.groups: must be an integer >= 1"),
    ("hier: {datasets: {a: {seed: 1, err_scale: 0}}, methods: all}", "models.hier.datasets.a.err_scale: must be a number > 0"),
    ("linreg: {datasets: {a: {seed: 1, n: 1}}, methods: all}", "models.linreg.datasets.a.n: must be an integer >= 2"),
    ("linreg: {datasets: {a: {seed: 1, yerr: -1}}, methods: all}", "models.linreg.datasets.a.yerr: must be a number > 0"),
    ("linreg: {datasets: {a: {seed: 1, outlier_prob: 1.5}}, methods: all}", "models.linreg.datasets.a.outlier_prob"),
    ("linreg: {datasets: {a: {seed: 1, m: .inf}}, methods: all}", "models.linreg.datasets.a.m: must be finite"),
    ("corrgauss: {datasets: {a: {seed: 1, sd_major: 0}}, methods: all}", "models.corrgauss.datasets.a.sd_major: must be a number > 0"),
    ("corrgauss: {datasets: {a: {seed: 1, mean: [0, .nan]}}, methods: all}", "models.corrgauss.datasets.a.mean: must be finite"),
    ("multimodal: {datasets: {a: {seed: 1, box: -1}}, methods: all}", "models.multimodal.datasets.a.box: must be a number > 0"),
])
def test_out_of_range_setting_is_refused_naming_the_key(text, expected):
    with pytest.raises(ConfigError) as err:
        validate({"models": yaml.safe_load(text)})
    assert str(err.value).startswith(expected), str(err.value)


def test_in_range_settings_pass():
    cfg = validate({"models": yaml.safe_load(
        "{coin: {datasets: {a: {seed: 1, n: 20, heads: 0}, b: {seed: 2, n: 5, p: 1}}, methods: all},"
        " hier: {datasets: {a: {seed: 1, groups: 1, extra_size: 0}}, methods: all},"
        " linreg: {datasets: {a: {seed: 1, n: 2, outlier_prob: 0, bg_sigma: 0}}, methods: all}}")})
    assert cfg["models"]["coin"]["datasets"]["a"]["heads"] == 0
