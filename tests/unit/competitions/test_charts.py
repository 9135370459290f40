"""The competition charts: each participant's best score so far as a step line, and the curves a viewer may see."""

from __future__ import annotations

from datetime import timedelta

from app.models import Role
from app.models.types import utcnow
from app.services.competitions import charts
from tests.helpers import add_submission, make_competition, make_user


def test_the_line_keeps_each_participants_best_so_far_not_their_latest(app, tmp_path):
    start = utcnow() - timedelta(days=3)
    with app.app_context():
        competition = make_competition(tmp_path)
        rita, ravi = make_user("rita"), make_user("ravi")
        for hours, user, score in [(1, rita, 0.70), (2, ravi, 0.60), (3, rita, 0.65), (4, rita, 0.80)]:
            add_submission(competition, user, public=score, at=start + timedelta(hours=hours))
        add_submission(competition, ravi, error="wrong columns", at=start + timedelta(hours=5))
        figure = charts.best_over_time(competition, ["rita", "ravi"], higher_is_better=True)
    lines = {trace["name"]: trace for trace in figure["data"]}
    assert list(lines) == ["rita", "ravi"]  # in the order asked, the board's
    assert lines["rita"]["y"] == [0.70, 0.70, 0.80]  # 0.65 came later but was not better
    assert lines["ravi"]["y"] == [0.60]  # the failed submission draws no point
    assert lines["rita"]["x"][0] == (start + timedelta(hours=1)).isoformat()
    assert figure["layout"]["yaxis"]["title"]["text"] == "roc_auc"


def test_when_lower_is_better_the_line_only_goes_down(app, tmp_path):
    start = utcnow() - timedelta(days=1)
    with app.app_context():
        competition = make_competition(tmp_path)
        rita = make_user("rita")
        for hours, score in [(1, 0.4), (2, 0.5), (3, 0.2)]:
            add_submission(competition, rita, public=score, at=start + timedelta(hours=hours))
        figure = charts.best_over_time(competition, ["rita"], higher_is_better=False)
    assert figure["data"][0]["y"] == [0.4, 0.4, 0.2]


def test_baselines_and_participants_not_asked_for_draw_no_line(app, tmp_path):
    with app.app_context():
        competition = make_competition(tmp_path)
        add_submission(competition, make_user("olga", Role.ORGANISER), public=0.9, baseline=True)
        add_submission(competition, make_user("mia"), public=0.8)
        add_submission(competition, make_user("rita"), public=0.7)
        figure = charts.best_over_time(competition, ["rita", "nobody"], higher_is_better=True)
    assert [trace["name"] for trace in figure["data"]] == ["rita"]


def test_curves_show_only_the_sides_the_viewer_may_see():
    details = {
        "public": {"roc": {"fpr": [0, 0.5, 1], "tpr": [0, 0.9, 1]}, "pr": {"recall": [0, 1], "precision": [1, 0.5]}},
        "private": {"roc": {"fpr": [0, 1], "tpr": [0, 1]}, "pr": {"recall": [0, 1], "precision": [1, 0.4]}},
    }
    before_close = charts.curve_figures(details, ("public",))
    assert [figure["id"] for figure in before_close] == ["roc", "pr"]
    assert all([trace["name"] for trace in figure["data"]] == ["public"] for figure in before_close)
    assert before_close[0]["data"][0]["y"] == [0, 0.9, 1]
    after_close = charts.curve_figures(details, ("public", "private"))
    assert [trace["name"] for trace in after_close[1]["data"]] == ["public", "private"]


def test_a_metric_without_curves_or_a_submission_without_details_has_no_figure():
    assert charts.curve_figures(None, ("public",)) == []
    assert charts.curve_figures({"public": {}}, ("public",)) == []
    only_roc = charts.curve_figures({"public": {"roc": {"fpr": [0, 1], "tpr": [0, 1]}}}, ("public",))
    assert [figure["id"] for figure in only_roc] == ["roc"]
