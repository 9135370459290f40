"""The registry: names, directions, parameters, clear errors, and a new metric in one class and one line."""

from __future__ import annotations

import numpy as np
import pytest

import scorers
from scorers.metrics import RegressionScorer
from tests.scorers.files import all_public


def test_registry_names_each_class_by_its_own_name():
    for name, cls in scorers.REGISTRY.items():
        scorer = scorers.get(name)
        assert scorer.name == name == cls.name and isinstance(scorer, scorers.Scorer)
        assert scorer.direction in ("higher", "lower") and scorer.version


def test_directions_say_which_scores_are_better():
    lower = {name for name, cls in scorers.REGISTRY.items() if cls.direction == "lower"}
    assert lower == {"log_loss", "rmse", "mae", "fpr_at_tpr"}


def test_unknown_metric_lists_the_known_names():
    with pytest.raises(scorers.UnknownMetricError) as error:
        scorers.get("auroc")
    assert str(error.value) == f"unknown metric 'auroc'; known metrics: {', '.join(scorers.REGISTRY)}"
    assert isinstance(error.value, KeyError)  # callers that catch KeyError keep working


def test_parameters_have_defaults_and_are_checked():
    assert scorers.get("tpr_at_fpr").params == {"fpr": 0.01}
    assert scorers.get("tpr_at_fpr", fpr=0.05).params == {"fpr": 0.05}
    assert scorers.get("fpr_at_tpr").params == {"tpr": 0.9}
    assert scorers.get("accuracy").params == {"threshold": 0.5}
    with pytest.raises(ValueError, match=r"roc_auc takes no parameter fpr \(its parameters: none\)"):
        scorers.get("roc_auc", fpr=0.1)
    with pytest.raises(ValueError, match=r"fpr must lie in \[0, 1\), not 1.5"):
        scorers.get("tpr_at_fpr", fpr=1.5)
    with pytest.raises(ValueError, match=r"tpr must lie in \(0, 1\], not 0"):
        scorers.get("fpr_at_tpr", tpr=0)
    with pytest.raises(ValueError, match="threshold must be a number, not 'high'"):
        scorers.get("f1", threshold="high")


def test_a_stricter_false_alarm_rate_catches_fewer_bad_lumisections():
    rng = np.random.default_rng(1)
    y = (rng.random(2000) < 0.3).astype(float)
    p = y * 0.5 + rng.random(2000)
    strict = scorers.get("tpr_at_fpr", fpr=0.01).score(all_public(y), p).public
    loose = scorers.get("tpr_at_fpr", fpr=0.2).score(all_public(y), p).public
    assert 0 < strict < loose < 1


def test_describe_gives_what_list_prints():
    assert scorers.get("tpr_at_fpr").as_json() == {
        "name": "tpr_at_fpr",
        "version": "2",
        "direction": "higher",
        "parameters": {"fpr": 0.01},
        "description": scorers.REGISTRY["tpr_at_fpr"].__doc__.strip(),
    }


class MaxError(RegressionScorer):
    """Largest absolute error."""

    name = "max_error"
    direction = "lower"

    def compute(self, y, p, w):
        return float(np.max(np.abs(p - y)))


def test_a_new_metric_is_one_class_and_one_registry_line(monkeypatch):
    monkeypatch.setitem(scorers.REGISTRY, "max_error", MaxError)
    result = scorers.get("max_error").score(all_public([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 1.0]))
    assert result.public == 2.0 and result.metric == "max_error"
