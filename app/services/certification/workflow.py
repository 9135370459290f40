"""Certifying runs: the server-side rules, the one-certification-per-run-and-reco rule, reviews,
the audit trail, and the golden JSON of a task."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any, NoReturn

from app.extensions import db
from app.models import (
    AuditEntry,
    BadRange,
    Certification,
    Competition,
    DatasetVersion,
    LabellingTask,
    Lumisection,
    RangeOrigin,
    Reco,
    ReferenceRun,
    Review,
    ReviewState,
    Role,
    Run,
    Status,
    User,
)
from app.models.certification import COMPONENTS, PROBLEM_CATEGORIES
from app.services.certification import lumimask
from app.services.certification.reviewers import override_note, own_review_refusal
from app.services.errors import Refused, refused_if_taken
from app.services.queue import enqueue
from app.services.suggestions import shown


@dataclass(frozen=True)
class RangeInput:
    """A bad lumisection range as submitted."""

    first: int
    last: int
    components: tuple[str, ...]
    comment: str = ""
    origin: RangeOrigin | str | None = None  # as sent, until check() settles it against the source's suggestions
    source_id: int | None = None


def audit(user: User | None, action: str, entity: str, entity_id: int, before: dict | None, after: dict | None) -> None:
    """Add an audit entry to the session (committed with the change it records)."""
    db.session.add(
        AuditEntry(
            user_id=user and user.id, action=action, entity=entity, entity_id=entity_id, before=before, after=after
        )
    )


def snapshot(certification: Certification) -> dict[str, Any]:
    """A certification as plain data, for the audit log and the API."""
    return {
        "id": certification.id,
        "task_id": certification.task_id,
        "run_number": certification.run_number,
        "reco": certification.reco.value,
        **{c: getattr(certification, c).value for c in COMPONENTS},
        **{f"{c}_lowstat": getattr(certification, f"{c}_lowstat") for c in COMPONENTS},
        "trackermap": certification.trackermap,
        "reference_run": certification.reference_run,
        "checklist": certification.checklist,
        "problem_categories": certification.problem_categories,
        "bad_reason": certification.bad_reason,
        "comment": certification.comment,
        "bad_lumisections": [
            {
                "first": r.first,
                "last": r.last,
                "components": r.components,
                "comment": r.comment,
                "origin": RangeOrigin(r.origin or RangeOrigin.MANUAL).value,
                "source_id": r.source_id,
            }
            for r in certification.bad_ranges
        ],
        "blind": bool(certification.blind),
        "review_state": certification.review_state.value,
        "certifier": certification.certifier.username if certification.certifier else None,
        "copy": certification.copy,
    }


def _choice(body: dict, key: str, enum_type, problems: list[str]):
    value = body.get(key)
    try:
        return enum_type(value)
    except ValueError:
        problems.append(f"{key} must be one of {', '.join(m.value for m in enum_type)}, not {value!r}")
        return None


def _ranges(body: dict, problems: list[str]) -> list[RangeInput]:
    ranges = []
    for index, item in enumerate(body.get("bad_lumisections") or []):
        try:
            first, last = int(item["first"]), int(item["last"])
            components = tuple(item.get("components") or COMPONENTS)
            source_id = None if item.get("source_id") is None else int(item["source_id"])
        except (KeyError, TypeError, ValueError):
            problems.append(f"bad_lumisections[{index}] needs whole numbers first and last (and source_id)")
            continue
        unknown = [c for c in components if c not in COMPONENTS]
        if unknown:
            problems.append(f"bad_lumisections[{index}]: unknown components {', '.join(map(str, unknown))}")
        comment = str(item.get("comment") or "")
        ranges.append(RangeInput(first, last, components, comment, item.get("origin"), source_id))
    return ranges


def check(
    task: LabellingTask, run: Run | None, body: dict, *, suggestions_seen: bool = True
) -> tuple[dict, list[RangeInput]]:
    """Apply every rule to a certification body; returns clean values or raises listing every problem.

    Each bad range's origin is settled against its source's suggested ranges (manual for all of them when the
    certifier could not see suggestions: a blind run certified for the first time).
    """
    problems: list[str] = []
    if run is None or run.run_number not in {tr.run_number for tr in task.runs}:
        raise Refused(f"run {body.get('run_number')!r} is not in the task {task.name!r}", 400)
    reco = _choice(body, "reco", Reco, problems) if "reco" in body else task.reco
    if reco is not None and reco != task.reco:
        problems.append(f"the task certifies {task.reco.value}, not {reco.value}")
    statuses = {c: _choice(body, c, Status, problems) for c in COMPONENTS}
    if statuses["strip"] is Status.BAD and statuses["tracking"] is Status.GOOD:
        problems.append("tracking cannot be good when strip is bad")
    checklist = body.get("checklist") or {}
    unticked = [name for name in task.checklist_names if checklist.get(name) is not True]
    if unticked:
        problems.append(f"tick every checklist of the task: {', '.join(unticked)} not ticked")
    categories = body.get("problem_categories") or []
    if not isinstance(categories, list) or any(c not in PROBLEM_CATEGORIES for c in categories):
        problems.append(f"problem_categories must be a list of {', '.join(PROBLEM_CATEGORIES)}")
        categories = []
    bad_reason = str(body.get("bad_reason") or "").strip()
    if len(bad_reason) > 300:
        problems.append("bad_reason is at most 300 characters: put the details in the comment")
    ranges = sorted(_ranges(body, problems), key=lambda r: r.first)
    comment = str(body.get("comment") or "").strip()
    if (any(s is Status.BAD for s in statuses.values()) or ranges) and not comment:
        problems.append("a bad component or a bad range needs a comment saying why")
    for previous, current in itertools.pairwise(ranges):
        if current.first <= previous.last:
            problems.append(
                f"bad ranges [{previous.first}, {previous.last}] and [{current.first}, {current.last}] overlap"
            )
    for r in ranges:
        if r.first < 1 or r.last < r.first or (run.ls_count and r.last > run.ls_count):
            problems.append(f"bad range [{r.first}, {r.last}] must lie within lumisections 1 to {run.ls_count or '?'}")
    trackermap = body.get("trackermap", "exists")
    if trackermap not in ("exists", "missing"):
        problems.append(f"trackermap must be exists or missing, not {trackermap!r}")
    reference = body.get("reference_run")
    if reference is not None:
        chosen = db.session.execute(
            db.select(ReferenceRun).where(ReferenceRun.run_number == reference, ReferenceRun.reco == task.reco)
        ).scalar_one_or_none()
        if chosen is None:
            problems.append(f"run {reference} is not a reference run for {task.reco.value}")
        elif chosen.run_class != run.run_class:
            problems.append(f"reference run {reference} is of another run class than run {run.run_number}")
    if problems:
        raise Refused(problems)
    ranges = _with_origins(task, run, ranges, suggestions_seen)
    values = {
        **{c: statuses[c] for c in COMPONENTS},
        **{f"{c}_lowstat": bool(body.get(f"{c}_lowstat")) for c in COMPONENTS},
        "trackermap": trackermap,
        "reference_run": reference,
        "checklist": {name: bool(checklist.get(name)) for name in task.checklist_names},
        "problem_categories": sorted(set(categories), key=list(PROBLEM_CATEGORIES).index),
        "bad_reason": bad_reason,
        "comment": comment,
    }
    return values, ranges


def _with_origins(task: LabellingTask, run: Run, ranges: list[RangeInput], seen: bool) -> list[RangeInput]:
    """The ranges with their origins and sources checked (a source of another task is refused)."""
    claimed = [shown.Claimed(r.first, r.last, r.origin, r.source_id) for r in ranges]
    origins = shown.checked_origins(task, run.run_number, claimed, seen=seen)
    return [
        RangeInput(r.first, r.last, r.components, r.comment, origin, source_id)
        for r, (origin, source_id) in zip(ranges, origins, strict=True)
    ]


def certify(task: LabellingTask, user: User, body: dict) -> Certification:
    """Record a certification of one run (committed), or refuse it; one more than the task takes is a 409.

    A double-certification task takes a second, blind certification of each run from another shifter. A run
    of the task's blind share is recorded as certified blind, its ranges all manual: no suggestion was shown.
    """
    run = db.session.get(Run, body.get("run_number")) if isinstance(body.get("run_number"), int) else None
    existing = (
        db.session.execute(
            db.select(Certification).where(
                Certification.task_id == task.id,
                Certification.run_number == run.run_number,
                Certification.reco == task.reco,
            )
        )
        .scalars()
        .all()
        if run
        else []
    )
    own = next((c for c in existing if c.certifier_id == user.id), None)
    if own is not None:
        _refuse_certified(f"you already certified run {run.run_number} in this task", own)
    if len(existing) >= task.copies:
        _refuse_certified(f"run {run.run_number} is already certified in this task", existing[0])
    blind = run is not None and shown.is_blind(task, run.run_number)
    values, ranges = check(task, run, body, suggestions_seen=not blind)
    certification = Certification(
        task_id=task.id,
        run_number=run.run_number,
        reco=task.reco,
        copy=len(existing) + 1,
        certifier=user,
        blind=blind,
        **values,
    )
    certification.bad_ranges = _bad_ranges(ranges)
    db.session.add(certification)
    # Another shifter may have certified the same run a moment ago; the schema keeps theirs.
    with refused_if_taken(db.session, f"run {run.run_number} is already certified in this task"):
        db.session.flush()
    audit(user, "certify", "certification", certification.id, None, snapshot(certification))
    db.session.commit()
    return certification


def _refuse_certified(message: str, existing: Certification) -> NoReturn:
    """A 409 that names the certification already there, in its message and as its Location."""
    where = f"/api/v1/certifications/{existing.id}"
    raise Refused(f"{message}: {where}", 409, location=where)


def _bad_ranges(ranges: list[RangeInput]) -> list[BadRange]:
    return [
        BadRange(
            first=r.first,
            last=r.last,
            components=list(r.components),
            comment=r.comment,
            origin=RangeOrigin(r.origin or RangeOrigin.MANUAL),
            source_id=r.source_id,
        )
        for r in ranges
    ]


def may_see(certification: Certification, user: User) -> bool:
    """Double certification is blind: shifters see only their own certification in such a task."""
    return (
        not certification.task.double_certification
        or certification.certifier_id == user.id
        or user.has_role(Role.SHIFT_LEADER, Role.ORGANISER)
    )


def may_edit(certification: Certification, user: User) -> bool:
    """The certifier and shift leaders may change a certification."""
    return certification.certifier_id == user.id or user.has_role(Role.SHIFT_LEADER)


def edit(certification: Certification, user: User, body: dict) -> Certification:
    """Change a certification (its certifier or a shift leader), under the same rules; it goes back to review.

    On a blind run the suggestions are revealed once certified, so the change may take them up; the first
    answer stays in the audit log.
    """
    if not may_edit(certification, user):
        raise Refused("only the certifier or a shift leader may change a certification", 403)
    task = db.session.get(LabellingTask, certification.task_id)
    run = db.session.get(Run, certification.run_number)
    values, ranges = check(task, run, body | {"run_number": run.run_number})
    before = snapshot(certification)
    was_approved = certification.review_state is ReviewState.APPROVED
    for name, value in values.items():
        setattr(certification, name, value)
    certification.bad_ranges = _bad_ranges(ranges)
    certification.review_state = ReviewState.PENDING
    db.session.flush()
    audit(user, "edit", "certification", certification.id, before, snapshot(certification))
    db.session.commit()
    if was_approved:  # its run is pending again
        _approved_labels_changed(certification.task_id)
    return certification


def review(certification: Certification, reviewer: User, decision: str, comment: str = "") -> Review:
    """A shift leader other than the certifier approves or rejects a certification (committed and audited)."""
    states = {"approve": ReviewState.APPROVED, "reject": ReviewState.REJECTED}
    if decision not in states:
        raise Refused("decision must be approve or reject", 400)
    if (refusal := own_review_refusal(certification, reviewer)) is not None:
        raise Refused(refusal, 403)
    if decision == "reject" and not comment.strip():
        raise Refused("a rejection needs a comment telling the shifter what to fix", 400)
    before = snapshot(certification)
    certification.review_state = states[decision]
    entry = Review(certification=certification, reviewer_id=reviewer.id, decision=states[decision], comment=comment)
    db.session.add(entry)
    db.session.flush()
    after = snapshot(certification) | override_note(certification, reviewer)
    audit(reviewer, decision, "certification", certification.id, before, after)
    db.session.commit()
    if entry.decision is ReviewState.APPROVED:
        _approved_labels_changed(certification.task_id)
    return entry


# Live competitions on the task's datasets: pending.csv rewritten and live sources scored (by path: never workers).
LIVE_APPROVED_JOB = "workers.live.approvals_landed"


def _approved_labels_changed(task_id: int) -> None:
    """An approval landed or was withdrawn (committed): a job brings the task's live competitions up to date."""
    live = (
        db.select(Competition.id)
        .join(DatasetVersion, Competition.dataset_version_id == DatasetVersion.id)
        .where(DatasetVersion.task_id == task_id, Competition.live.is_(True))
        .limit(1)
    )
    if db.session.execute(live).first() is None:
        return
    try:
        enqueue(LIVE_APPROVED_JOB, task_id)
    except Exception:  # a queue outage must not hide the approval that was committed
        logging.getLogger(__name__).exception("could not enqueue %s for task %s", LIVE_APPROVED_JOB, task_id)


def promote_reference(certification: Certification, leader: User) -> ReferenceRun:
    """Make a good certification's run a reference run of its run class and reconstruction (committed, audited).

    As for a review, the shift leader who promotes it is not the one who certified it (admins may override).
    """
    if (refusal := own_review_refusal(certification, leader)) is not None:
        raise Refused(refusal, 403)
    if any(getattr(certification, c) is not Status.GOOD for c in COMPONENTS):
        raise Refused("only a run certified good for pixel, strip and tracking can be a reference run")
    if certification.review_state is not ReviewState.APPROVED:
        raise Refused("a shift leader approves the certification before its run becomes a reference run")
    existing = db.session.execute(
        db.select(ReferenceRun).where(
            ReferenceRun.run_number == certification.run_number, ReferenceRun.reco == certification.reco
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    run = db.session.get(Run, certification.run_number)
    reference = ReferenceRun(
        run_number=run.run_number, reco=certification.reco, run_class=run.run_class, promoted_by_id=leader.id
    )
    db.session.add(reference)
    db.session.flush()
    after = {"run_number": run.run_number, "reco": certification.reco.value, "run_class": run.run_class}
    after |= override_note(certification, leader)
    audit(leader, "promote_reference", "reference_run", reference.id, None, after)
    db.session.commit()
    return reference


def golden_mask(task: LabellingTask) -> lumimask.Mask:
    """Good lumisections: approved runs with no bad component, outside bad ranges, DCS-ok where known.

    With double certification a run is good only if every approved certification of it says so, and the bad
    ranges of all of them count.
    """
    approved = db.session.execute(
        db.select(Certification).where(
            Certification.task_id == task.id, Certification.review_state == ReviewState.APPROVED
        )
    ).scalars()
    by_run: dict[int, list[Certification]] = {}
    for certification in approved:
        by_run.setdefault(certification.run_number, []).append(certification)
    good_runs = {run: cs for run, cs in by_run.items() if not any(c.any_bad for c in cs)}
    if not good_runs:
        return {}
    rows = db.session.execute(
        db.select(Lumisection.run_number, Lumisection.number).where(
            Lumisection.run_number.in_(good_runs), Lumisection.dcs_ok.is_not(False)
        )
    ).all()
    bad = {run: [(r.first, r.last) for c in cs for r in c.bad_ranges] for run, cs in good_runs.items()}
    return lumimask.difference(
        lumimask.from_lumisections(rows), {run: lumimask.merge_ranges(r) for run, r in bad.items() if r}
    )
