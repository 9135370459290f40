"""What a shifter is shown of the suggestions: nothing on a blind run until they certified it, and each bad
range's origin settled against what its source suggested."""

from __future__ import annotations

import pytest

from app.models import RangeOrigin, Role
from app.services.errors import Refused
from app.services.suggestions import blind, shown
from app.services.suggestions.shown import Claimed
from tests.helpers import make_user
from tests.unit.suggestions.tasks import add_source, certify, make_task

RUNS = (201, 202, 203, 204)
SCORES = {n: (0.9 if 5 <= n <= 8 else 0.1) for n in range(1, 21)}  # suggests lumisections 5-8


def test_a_blind_run_shows_nothing_until_the_viewer_certified_it(app):
    seed = next(s for s in range(10_000) if blind.blind_runs(s, RUNS, 0.5) == {RUNS[0]})
    with app.app_context():
        task = make_task({run: range(1, 21) for run in RUNS}, seed=seed, blind_fraction=0.5)
        source = add_source(task, {run: SCORES for run in RUNS})
        sam, sue = make_user("sam", Role.SHIFTER), make_user("sue", Role.SHIFTER)
        assert shown.is_blind(task, RUNS[0]) and not shown.is_blind(task, RUNS[1])
        assert shown.run_view(task, RUNS[0], sam) == {"blind": True, "sources": []}
        [seen] = shown.run_view(task, RUNS[1], sam)["sources"]
        assert seen["id"] == source.id and [list(r) for r in seen["suggested_ranges"]] == [[5, 8]]

        certify(task, RUNS[0], sam)
        assert shown.has_certified(task, RUNS[0], sam) and not shown.has_certified(task, RUNS[0], sue)
        assert shown.run_view(task, RUNS[0], sam)["sources"]  # revealed to who certified it
        assert shown.run_view(task, RUNS[0], sue) == {"blind": True, "sources": []}  # not to anyone else


def test_origins_are_settled_by_the_ends_not_by_the_claim(app):
    with app.app_context():
        task = make_task({RUNS[1]: range(1, 21)}, blind_fraction=0.0)
        source = add_source(task, {RUNS[1]: SCORES})
        claims = [
            Claimed(5, 8, "suggested", source.id),  # exactly the suggestion
            Claimed(5, 7, "suggested", source.id),  # its ends moved
            Claimed(12, 13, "suggested", source.id),  # nothing was suggested there
            Claimed(15, 16),
        ]
        origins = shown.checked_origins(task, RUNS[1], claims)
        assert [origin for origin, _ in origins] == [
            RangeOrigin.SUGGESTED,
            RangeOrigin.SUGGESTED_EDITED,
            RangeOrigin.MANUAL,
            RangeOrigin.MANUAL,
        ]
        assert origins[0][1] == source.id and origins[3][1] is None
        unseen = shown.checked_origins(task, RUNS[1], claims[:1], seen=False)
        assert unseen == [(RangeOrigin.MANUAL, None)]  # a blind run certified for the first time


def test_a_source_of_another_task_is_refused_by_range(app):
    with app.app_context():
        task = make_task({RUNS[1]: range(1, 21)})
        other = make_task({RUNS[2]: range(1, 21)})
        foreign = add_source(other, {RUNS[2]: SCORES})
        with pytest.raises(Refused, match=r"bad_lumisections\[0\]\.source_id"):
            shown.checked_origins(task, RUNS[1], [Claimed(5, 8, "suggested", foreign.id)])
