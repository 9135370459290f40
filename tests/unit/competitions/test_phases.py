"""Phases in time: the one open now, the one a board shows, who may submit to which, and which files are out."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.models import Phase
from app.models.types import utcnow
from app.services.competitions import phases, submissions, teams
from app.services.competitions.bundles import import_bundle
from app.services.errors import Refused
from tests.helpers import make_user, predictions_csv, write_phased_bundle

START = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def timelines(draw) -> tuple[list[phases.Window], list[datetime]]:
    """Phases one after another, with or without gaps between them, and the ends open or not, and instants to
    ask about (boundaries among them)."""
    count = draw(st.integers(min_value=1, max_value=5))
    steps = draw(st.lists(st.integers(min_value=1, max_value=10_000), min_size=2 * count, max_size=2 * count))
    gaps = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    moments, at = [], START
    for index, step in enumerate(steps):
        # Even steps lead to an opening: after the previous close, with a gap or not; odd ones last a phase.
        gap = index == 0 or index % 2 == 1 or gaps[index // 2]
        at += timedelta(minutes=step if gap else 0)
        moments.append(at)
    windows = [phases.Window(f"p{i}", moments[2 * i], moments[2 * i + 1]) for i in range(count)]
    first_open, last_open = draw(st.booleans()), draw(st.booleans())
    if first_open:
        windows[0] = phases.Window("p0", None, windows[0].closes_at)
    if last_open:
        windows[-1] = phases.Window(windows[-1].name, windows[-1].opens_at, None)
    asked = draw(st.lists(st.sampled_from(moments) | st.integers(-20_000, 120_000).map(minutes_after), min_size=1))
    return windows, asked


def minutes_after(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


@settings(max_examples=200, deadline=None)
@given(timelines())
def test_at_most_one_phase_is_open_and_current_is_it(timeline):
    windows, asked = timeline
    assert phases.date_problems(windows) == []
    for now in asked:
        open_now = [i for i, w in enumerate(windows) if w.state(now) is Phase.OPEN]
        assert len(open_now) <= 1
        assert phases.current(windows, now) == (open_now[0] if open_now else None)
        index = phases.current(windows, now)
        if index is not None:
            window = windows[index]
            assert (window.opens_at is None or window.opens_at <= now) and (
                window.closes_at is None or now < window.closes_at
            )


@settings(max_examples=200, deadline=None)
@given(timelines())
def test_the_shown_phase_moves_forward_with_time_and_is_the_open_one_when_there_is_one(timeline):
    windows, asked = timeline
    shown = [phases.shown(windows, now) for now in sorted(asked)]
    assert shown == sorted(shown)
    for now in asked:
        current = phases.current(windows, now)
        if current is not None:
            assert phases.shown(windows, now) == current
        if windows[0].opens_at is not None and now < windows[0].opens_at:
            assert phases.shown(windows, now) == 0
        if windows[-1].closes_at is not None and now >= windows[-1].closes_at:
            assert phases.shown(windows, now) == len(windows) - 1


@settings(max_examples=100, deadline=None)
@given(timelines(), st.data())
def test_a_boundary_given_on_one_side_holds_for_both(timeline, data):
    windows, _ = timeline
    stored = [[w.name, w.opens_at, w.closes_at] for w in windows]
    stored[0][1] = stored[-1][2] = None  # the ends are the competition's
    for index in range(len(windows) - 1):
        if windows[index].closes_at == windows[index + 1].opens_at:
            side = data.draw(st.sampled_from(["close", "open", "both"]))
            if side == "close":
                stored[index + 1][1] = None  # the earlier phase's close says when the next opens
            elif side == "open":
                stored[index][2] = None
    resolved = phases.windows(windows[0].opens_at, windows[-1].closes_at, [tuple(s) for s in stored])
    assert resolved == windows


def test_phases_out_of_order_or_without_a_boundary_are_problems():
    a, b, c = (START + timedelta(days=d) for d in (1, 2, 3))
    overlapping = [phases.Window("development", a, c), phases.Window("final", b, None)]
    assert "before phase 'development' closes" in " ".join(phases.date_problems(overlapping))
    backwards = [phases.Window("development", b, a)]
    assert "must close after it opens" in " ".join(phases.date_problems(backwards))
    unbounded = phases.windows(None, None, [("development", None, None), ("final", None, None)])
    assert "Say when phase 'development' ends and phase 'final' begins" in " ".join(phases.date_problems(unbounded))


@pytest.fixture
def two_phases(app, tmp_path):
    """A competition whose development phase is open and whose final phase opens in three days, with rita
    joined; yields (competition, rita, development ids, final ids) inside an app context."""
    boundary = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    folder, dev_ids, _, final_ids, *_ = write_phased_bundle(tmp_path / "bundle", dev_closes=boundary.isoformat())
    with app.app_context():
        competition = import_bundle(folder)
        rita = make_user("rita")
        submissions.join(competition, rita)
        db.session.commit()
        yield competition, rita, dev_ids, final_ids


def test_a_phase_is_named_or_refused_with_the_names(two_phases):
    competition, *_ = two_phases
    assert phases.phase_named(competition, "final").name == "final"
    assert phases.phase_named(competition, None).name == "development"
    with pytest.raises(Refused) as refused:
        phases.phase_named(competition, "semifinal")
    assert refused.value.status == 404
    assert "no phase 'semifinal'; its phases: development, final" in refused.value.message


def test_only_the_current_phase_takes_submissions_and_a_refusal_names_the_phase_and_its_dates(two_phases):
    competition, rita, *_ = two_phases
    final_opens = phases.windows_of(competition)[1].opens_at
    with pytest.raises(Refused) as refused:
        submissions.submit(competition, rita, io.BytesIO(b"id,label\n"), file_name="p.csv", phase="final")
    assert refused.value.status == 403
    assert refused.value.message == (
        f"The phase 'final' opens at {final_opens:%Y-%m-%d %H:%M} UTC: it does not accept submissions; "
        "only the current phase, 'development', does."
    )
    later = final_opens + timedelta(hours=1)
    assert phases.phase_to_submit(competition, now=later).name == "final"
    with pytest.raises(Refused, match=r"The phase 'development' closed at .* it does not accept submissions; only"):
        phases.phase_to_submit(competition, "development", later)
    after = final_opens + timedelta(days=400)
    competition.closes_at = final_opens + timedelta(days=30)
    with pytest.raises(Refused, match=r"The phase 'final' closed at .*; submissions are no longer accepted\."):
        phases.phase_to_submit(competition, now=after)


def test_between_two_phases_nothing_is_accepted(two_phases):
    competition, *_ = two_phases
    final = competition.phases[1]
    final.opens_at = phases.windows_of(competition)[0].closes_at + timedelta(days=2)
    gap = final.opens_at - timedelta(days=1)
    assert phases.current_phase(competition, gap) is None
    assert phases.shown_phase(competition, gap).name == "development"
    with pytest.raises(Refused, match=r"closed at .* and the phase 'final' opens at .*not accepted in between"):
        phases.phase_to_submit(competition, now=gap)


def test_a_phase_s_files_are_out_only_once_it_opened(two_phases):
    competition, *_ = two_phases
    names = [f.name for f in competition.downloadable_files()]
    assert names == ["train.csv", "test.csv", "sample_submission.csv"]
    assert competition.public_file("test_final.csv") is None
    everything = [f.name for f in competition.downloadable_files(every_phase=True)]
    assert everything == [*names, "test_final.csv", "sample_submission_final.csv"]
    later = phases.windows_of(competition)[1].opens_at + timedelta(minutes=1)
    assert "test_final.csv" in [f.name for f in competition.downloadable_files(later)]
    assert all("solution" not in name for name in everything)


def _scored(app, competition, user, ids, **details):
    submission = submissions.submit(
        competition, user, io.BytesIO(predictions_csv(ids, [0.5] * len(ids))), file_name="p.csv", **details
    )
    app.extensions["job_queue"].join()
    db.session.refresh(submission)
    assert submission.status.value == "scored", submission.error
    return submission


def test_quotas_and_final_selections_count_per_phase(app, two_phases):
    competition, rita, dev_ids, final_ids = two_phases
    development, final = competition.phases
    competition.daily_limit, competition.final_selections = 1, 1
    first = _scored(app, competition, rita, dev_ids)
    with pytest.raises(Refused) as refused:
        submissions.submit(competition, rita, io.BytesIO(b"id,label\n"), file_name="p.csv")
    assert refused.value.status == 429 and "in the phase 'development'" in refused.value.message
    participation = submissions.participation_of(competition, rita)
    assert submissions.quota_for(competition, participation, phase=development).remaining_today == 0
    assert submissions.quota_for(competition, participation, phase=final).remaining_today == 1
    submissions.select_final(first)

    development.closes_at = utcnow() - timedelta(minutes=1)  # time passes: the final phase opens
    final.opens_at = development.closes_at
    db.session.commit()
    in_final = _scored(app, competition, rita, final_ids)
    assert in_final.phase_id == final.id
    submissions.select_final(in_final)  # the development phase's final does not count here
    with pytest.raises(Refused, match="The phase 'development' is closed: final selections can no longer change"):
        submissions.unselect_final(first)


def test_a_team_s_quota_counts_per_phase(app, two_phases):
    """Quotas count per team per phase: a team that used its day in development still submits in the final."""
    competition, rita, dev_ids, final_ids = two_phases
    ravi = make_user("ravi")
    submissions.join(competition, ravi)
    db.session.commit()
    team = teams.create(competition, rita, "Pixel pushers")
    teams.join(competition, ravi, team.invite_token)
    competition.daily_limit = 1
    _scored(app, competition, rita, dev_ids)
    with pytest.raises(Refused) as refused:
        submissions.submit(competition, ravi, io.BytesIO(b"id,label\n"), file_name="p.csv")
    assert refused.value.status == 429
    assert "Your team has used its 1 submissions of today (UTC) in the phase 'development'" in refused.value.message
    development, final = competition.phases
    development.closes_at = final.opens_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    in_final = _scored(app, competition, ravi, final_ids)
    assert (in_final.team_id, in_final.phase_id) == (team.id, final.id)
