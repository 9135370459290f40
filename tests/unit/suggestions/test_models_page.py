"""The models page's numbers: the rates a threshold gives on approved lumisections, and the shifters who look
like they rubber-stamp suggestions."""

from __future__ import annotations

import numpy as np

from app.extensions import db
from app.models import BadRange, RangeOrigin, Role
from app.services.suggestions import blind
from app.services.suggestions.models_page import rubber_stampers, shifter_rows, threshold_rates
from tests.helpers import PASSWORD, make_user
from tests.unit.suggestions.tasks import add_source, certify, make_task


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


def test_a_shifter_who_accepts_everything_yet_disagrees_when_blind_is_flagged(app, client, auth):
    """24 runs whose lumisections 1-2 the model calls bad: the shifter takes them unchanged whenever shown, and
    calls every blind run good: flagged on the models page and beside their certification in the review queue."""
    runs = range(100, 124)
    with app.app_context():
        rubber = make_user("rubber", Role.SHIFTER)
        make_user("lead", Role.SHIFT_LEADER)
        seed = next(s for s in range(1000) if 2 <= len(blind.blind_runs(s, runs, 0.2)) <= 4)
        task = make_task({run: range(1, 6) for run in runs}, seed=seed, blind_fraction=0.2)
        source = add_source(task, {run: {n: (0.9 if n <= 2 else 0.1) for n in range(1, 6)} for run in runs})
        blind_runs = blind.blind_runs(seed, runs, 0.2)
        for run in runs:
            certification = certify(task, run, rubber, blind=run in blind_runs)
            if run not in blind_runs:
                certification.bad_ranges = [
                    BadRange(first=1, last=2, components=["pixel"], origin=RangeOrigin.SUGGESTED, source_id=source.id)
                ]
        db.session.commit()
        rows = {row.user.username: row.measures for row in shifter_rows(task)}
        assert rows["rubber"].unchanged_share == 1 and rows["rubber"].blind_agreement == 0.6
        assert rows["rubber"].rubber_stamping
        assert rubber_stampers([task.id]) == {task.id: {rubber.id}}
        task_id = task.id
    auth.login("lead", PASSWORD)
    assert 'data-testid="rubber-stamping"' in client.get(f"/tasks/{task_id}/models").get_data(as_text=True)
    queue = client.get("/reviews").get_data(as_text=True)
    assert queue.count('data-testid="rubber-stamping"') == len(runs)  # beside each of their pending certifications
