"""The config schema is the one source of every default: ``config.defaults`` hands a
section's defaults to callers without a validated config."""

import pytest

from svibench import config
from svibench import metrics as M

MINIMAL = {"models": {"coin": {"datasets": {"a": {"seed": 1}}, "methods": ["auto_normal"]}}}


@pytest.mark.parametrize("section", ["reference", "metrics", "svi", "nuts", "plots"])
def test_defaults_are_what_validation_fills_in(section):
    assert config.defaults(section) == config.validate(MINIMAL)[section]


def test_nested_defaults_are_filled_and_callers_get_copies():
    metrics = config.defaults("metrics")
    assert metrics["thresholds"] == {"mean_err": 0.2, "sd_ratio": [0.8, 1.2], "khat": 0.7,
                                     "rhat": 1.01, "ess_per_chain": 100}
    metrics["thresholds"]["sd_ratio"].append(9)
    assert config.defaults("metrics")["thresholds"]["sd_ratio"] == [0.8, 1.2]


def test_the_metrics_thresholds_constant_is_the_schemas():
    assert M.THRESHOLDS == config.defaults("metrics")["thresholds"]


def test_an_unknown_section_is_named():
    with pytest.raises(KeyError, match="no section 'refrence'"):
        config.defaults("refrence")
