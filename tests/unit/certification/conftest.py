"""What the tests of the loop's pages share: a task of one run with an active and a live source, a login of
each role, and the CSRF token of a page's form."""

from __future__ import annotations

import re

import pytest

from app.models import Role, SourceKind
from app.services.suggestions import blind
from tests.helpers import make_user
from tests.unit.suggestions.tasks import add_source, make_task

RUN = 7001
SCORES = {RUN: {n: (0.9 if 10 <= n <= 14 else 0.1) for n in range(1, 41)}}


def seed_for(blind_run: bool) -> int:
    """A task seed under which RUN is (or is not) certified blind at a blind fraction of one half."""
    return next(s for s in range(1000) if blind.is_blind(s, RUN, 0.5) is blind_run)


@pytest.fixture
def setup(app):
    """A task of one run of 40 lumisections with one active upload source, and a user of each role."""

    def build(*, blind_run: bool = False):
        with app.app_context():
            users = {
                name: make_user(name, role).id
                for name, role in [
                    ("sam", Role.SHIFTER),
                    ("lea", Role.SHIFT_LEADER),
                    ("olga", Role.ORGANISER),
                    ("rita", Role.RESEARCHER),
                ]
            }
            task = make_task({RUN: range(1, 41)}, seed=seed_for(blind_run), blind_fraction=0.5)
            source = add_source(task, SCORES, threshold=0.5)
            live = add_source(task, SCORES, threshold=0.5, kind=SourceKind.LIVE)
            return task.id, source.id, live.id, users

    return build


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
