"""Report views: a page, CSV (?format=csv) and e-log text (?format=text)."""

from __future__ import annotations

from flask import Response, render_template, request

from app.auth.decorators import roles_required
from app.models import Role
from app.reports import bp
from app.services.certification import reports


def _respond(period: tuple, kind: str):
    start, end, label = period
    report = reports.build(start, end, f"{kind} {label}")
    fmt = request.args.get("format", "html")
    if fmt == "csv":
        return Response(
            reports.to_csv(report),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="certification-{label}.csv"'},
        )
    if fmt == "text":
        return Response(reports.to_text(report), mimetype="text/plain; charset=utf-8")
    return render_template(
        "reports/report.html",
        report=report,
        text=reports.to_text(report),
        changed_flags=reports.changed_flags,
        lost_text=reports.lost_text,
    )


@bp.route("/reports/daily/<day>")
@roles_required(Role.SHIFT_LEADER, Role.ORGANISER)
def daily(day: str):
    """What was certified on a UTC day."""
    return _respond(reports.day_period(day), "day")


@bp.route("/reports/weekly/<week>")
@roles_required(Role.SHIFT_LEADER, Role.ORGANISER)
def weekly(week: str):
    """What was certified in an ISO week, such as 2026-W48."""
    return _respond(reports.week_period(week), "week")
