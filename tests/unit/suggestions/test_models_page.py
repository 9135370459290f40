"""The models page's numbers: the rates a threshold gives on approved lumisections."""

from __future__ import annotations

import numpy as np

from app.services.suggestions.models_page import threshold_rates
from tests.unit.suggestions.tasks import add_source, make_task


class Labels:
    """Approved labels as TaskLabels holds them."""

    def __init__(self, rows):
        self.run = np.array([r for r, _, _ in rows], dtype=np.int64)
        self.lumisection = np.array([n for _, n, _ in rows], dtype=np.int64)
        self.label = np.array([y for _, _, y in rows], dtype=np.float64)


def test_threshold_rates_on_approved_lumisections(app):
    with app.app_context():
        task = make_task({5: range(1, 7)})
        source = add_source(task, {5: {1: 0.9, 2: 0.6, 3: 0.2, 4: 0.1, 5: 0.8, 6: 0.4}}, threshold=0.5)
        # 1, 2 bad and flagged; 6 bad, missed; 5 good yet flagged; 3 good; 4 not approved
        labels = Labels([(5, 1, 1), (5, 2, 1), (5, 3, 0), (5, 5, 0), (5, 6, 1)])
        rates = threshold_rates(source, labels)
        assert (rates.lumisections, rates.fpr, rates.tpr) == (5, 0.5, 2 / 3)
        source.threshold = 0.95
        assert (threshold_rates(source, labels).fpr, threshold_rates(source, labels).tpr) == (0.0, 0.0)
        assert threshold_rates(source, Labels([])).lumisections == 0
