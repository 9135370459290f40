"""Writing a task's approved certifications to the Run Registry as lumisection edits (``flask tasks push-rr``).

For each run with approved certifications in the task (combined as ``rr_compare`` combines them), RR's current
ranges of the run are read first. The edits are the maximal spans of the run's lumisections (1 to its last)
where RR's status differs from this platform's verdict (good: GOOD, bad: BAD, excluded: EXCLUDED) and RR says
GOOD, BAD, NOTSET or EMPTY, or nothing: STANDBY and EXCLUDED, RR's record that a detector was not taking part,
stay as RR has them. Statuses decide, not comments: a run whose statuses already match sends nothing, so
pushing twice sends nothing the second time. A BAD edit carries the bad range's comment (else the
certification's; RR refuses BAD without a comment of three characters or more) and the certification's bad
reason as its cause.

Writing needs ``RR_WRITE=1``. A run's edits go out in order; once RR accepted them all, the run's ranges are
read again and stored (the certification page then compares with them), with an audit entry of the edits and
RR's answers. An RR failure stops the push with Refused naming the run and what was already sent; the edits
of that run RR accepted before failing are audited too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import AuditEntry, Certification, LabellingTask, ReviewState, Run
from app.services.errors import Refused
from app.services.runs.rr_compare import RR_COMPONENTS, Certified, pieces, platform_at, rr_at, rr_cuts
from app.services.runs.run_registry import Range, Ranges, RunRegistryClient, edit_body, store_ranges

RR_STATUS = {"good": "GOOD", "bad": "BAD", "excluded": "EXCLUDED"}
WRITABLE = {"GOOD", "BAD", "NOTSET", "EMPTY", None}
BAD_COMMENT = "certified bad"  # when the shifter's comment is shorter than RR accepts


def check_write_allowed(config: Mapping[str, Any]) -> None:
    """Refused (403) unless the configuration allows writing to RR (RR_WRITE=1)."""
    if not config.get("RR_WRITE"):
        raise Refused(
            "writing to the Run Registry is off: set RR_WRITE=1 to push certifications to it "
            "(--dry-run shows what would be sent without it)",
            403,
        )


def planned_edits(
    run_number: int, dataset_name: str, certified: Sequence[Certified], rr: Ranges, last: int
) -> list[dict[str, Any]]:
    """The edit bodies that make RR's ranges of a run say what the certifications say (none: they match)."""
    edits = []
    for ours, theirs in RR_COMPONENTS.items():
        ranges = rr.get(theirs, [])
        cuts = rr_cuts(ranges) + [n for c in certified for n in c.cuts(ours)]

        def wanted(n: int, ours: str = ours, ranges: Sequence[Range] = ranges) -> tuple[str, str, str] | None:
            said, now = platform_at(certified, ours, n), rr_at(ranges, n)
            status = RR_STATUS[said.verdict]
            if now not in WRITABLE or now == status:
                return None
            if status != "BAD":
                return status, "", ""
            comment = said.comment.strip()
            return status, comment if len(comment) >= 3 else BAD_COMMENT, said.cause

        for first, end, value in pieces(1, last, cuts, wanted):
            if value is not None:
                edits.append(edit_body(run_number, dataset_name, theirs, first, end, *value))
    return edits


@dataclass(frozen=True)
class RunPush:
    """What the push does to one run: RR's ranges read before, and the edits it sends (none: RR matches)."""

    run_number: int
    certification_ids: list[int]
    before: Ranges
    edits: list[dict[str, Any]]


@dataclass
class PushReport:
    """What a push sent (or, dry, would send): edits by run, and the runs RR already matched."""

    dataset_name: str
    dry_run: bool
    edits: dict[int, int] = field(default_factory=dict)
    unchanged: list[int] = field(default_factory=list)

    def sent_so_far(self) -> str:
        """The runs whose edits went out, in words."""
        if self.dry_run or not self.edits:
            return "nothing was sent before it"
        runs = ", ".join(f"run {run} ({count} edits)" for run, count in self.edits.items())
        return f"already sent: {runs}"


def approved_by_run(task: LabellingTask) -> dict[int, list[Certification]]:
    """The task's approved certifications by run, in run order, with their bad ranges."""
    rows = db.session.execute(
        db.select(Certification)
        .where(Certification.task_id == task.id, Certification.review_state == ReviewState.APPROVED)
        .order_by(Certification.run_number, Certification.copy)
        .options(selectinload(Certification.bad_ranges))
    ).scalars()
    by_run: dict[int, list[Certification]] = {}
    for certification in rows:
        by_run.setdefault(certification.run_number, []).append(certification)
    return by_run


def push_task(
    task: LabellingTask,
    client: RunRegistryClient,
    dataset_name: str,
    *,
    dry_run: bool,
    show: Callable[[RunPush], None],
) -> PushReport:
    """Push the task's approved certifications run by run, showing each run's edits before they go out."""
    report = PushReport(dataset_name, dry_run)
    approved = approved_by_run(task)
    lasts = {
        run: last
        for run, last in db.session.execute(db.select(Run.run_number, Run.ls_count).where(Run.run_number.in_(approved)))
    }
    for run_number, certifications in approved.items():
        before = _rr_ranges(client, run_number, dataset_name, report)
        last = lasts.get(run_number) or max((r.last for rs in before.values() for r in rs), default=0)
        certified = [Certified.of(c) for c in certifications]
        edits = planned_edits(run_number, dataset_name, certified, before, last)
        push = RunPush(run_number, [c.id for c in certifications], before, edits)
        show(push)
        if not edits:
            report.unchanged.append(run_number)
            continue
        if not dry_run:
            _send(client, push, dataset_name, report)
        report.edits[run_number] = len(edits)
    return report


def _rr_ranges(client: RunRegistryClient, run_number: int, dataset_name: str, report: PushReport) -> Ranges:
    try:
        return client.ranges(run_number, dataset_name)
    except Refused as refused:
        raise _stopped(run_number, refused, report) from None


def _send(client: RunRegistryClient, push: RunPush, dataset_name: str, report: PushReport) -> None:
    """Send one run's edits, then store RR's ranges as they now are, audited with RR's answers."""
    answers: list[Any] = []
    try:
        for body in push.edits:
            answers.append(client.edit(body))
        after = client.ranges(push.run_number, dataset_name)
    except Refused as refused:
        _audit(push, dataset_name, answers, error=refused.message)
        db.session.commit()
        accepted = f" after RR accepted {len(answers)} of its {len(push.edits)} edits" if answers else ""
        raise _stopped(push.run_number, refused, report, accepted) from None
    _audit(push, dataset_name, answers)
    store_ranges({push.run_number: after}, dataset_name)  # commits the audit entry with the ranges


def _audit(push: RunPush, dataset_name: str, answers: list[Any], error: str | None = None) -> None:
    before = {c: [r.as_json() for r in rs] for c, rs in push.before.items()}
    after: dict[str, Any] = {
        "dataset_name": dataset_name,
        "certification_ids": push.certification_ids,
        "edits": push.edits[: len(answers)],
        "answers": answers,
    }
    if error is not None:
        after |= {"error": error, "not_sent": push.edits[len(answers) :]}
    db.session.add(
        AuditEntry(
            action="push_rr",
            entity="certification",
            entity_id=push.certification_ids[0],
            before={"dataset_name": dataset_name, "rr": before},
            after=after,
        )
    )


def _stopped(run_number: int, refused: Refused, report: PushReport, accepted: str = "") -> Refused:
    return Refused(f"the push stopped at run {run_number}{accepted}: {refused.message}; {report.sent_so_far()}", 502)
