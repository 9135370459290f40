"""The loop in the demo: models suggest where shifters should look, and the platform measures both.

An external model's scores (an autoencoder run elsewhere, as DIALS would give them) are uploaded to the
express task; the running competition is live, and a researcher's logistic regression on the OMS conditions of
its pending.csv is posted as a live source, which a shift leader activates. Then shifters certify the runs left
with the suggestions in view: one accepts the model's ranges and widens one, one accepts them as they are, and
one certifies a blind run first without any, then takes a suggestion up once they are revealed (the first
answer stays in the audit log). A shift leader approves them, and the live source is scored on those runs. One
run is left for the visitor to certify with the `s` key.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from app.extensions import db
from app.models import Certification, Competition, LabellingTask, SourceKind, SuggestionSource, User
from app.services.certification import workflow
from app.services.suggestions import live, live_scoring, pending, sources, store
from baselines import logistic_regression
from demo.blind import cosmics_body
from demo.tracker_data import TrackerData
from demo.tracker_histograms import Anomaly

MODEL_NAME, MODEL_VERSION = "autoencoder (DIALS)", "2024.1"
THRESHOLD = 0.5
# Cosmics runs certified with the model's suggestions; the last collision run, with its anomalies, is left for the
# visitor (the double-blind task certified the first ten runs: none of them is left).
ACCEPTED_RUN, UNCHANGED_RUN, BLIND_RUN, LEFT_RUN = 380009, 380008, 380039, 380038


def model_scores(generated: TrackerData, seed: int = 5) -> pd.DataFrame:
    """The external model's scores: high on the injected anomalies, low elsewhere, with one short false alarm in
    every run longer than 40 lumisections (what a real model gives a shifter to overrule)."""
    rng = np.random.default_rng(seed)
    truth = generated.truth
    kinds = truth["anomaly"].map(lambda kind: None if kind is None or kind != kind else Anomaly(kind))
    bad = kinds.notna() & (kinds != Anomaly.DCS_OFF)
    scores = np.where(bad, rng.uniform(0.62, 0.97, len(truth)), rng.beta(1.5, 12, len(truth)))
    frame = pd.DataFrame({"run": truth["run_number"], "lumisection": truth["lumisection_number"], "score": scores})
    for rows in frame.groupby("run").groups.values():
        if len(rows) > 40:
            start = int(rng.integers(10, len(rows) - 10))
            frame.loc[rows[start : start + int(rng.integers(2, 6))], "score"] = rng.uniform(0.55, 0.8)
    return frame


def upload_model(task: LabellingTask, generated: TrackerData, organiser: User) -> SuggestionSource:
    """The external model's scores as an active source of the task, uploaded as the API does (once)."""
    source = _source(task, MODEL_NAME)
    if source is not None:
        return source
    content = model_scores(generated).to_csv(index=False, float_format="%.4f").encode()
    return sources.import_upload(
        task,
        io.BytesIO(content),
        name=MODEL_NAME,
        version=MODEL_VERSION,
        threshold=THRESHOLD,
        user=organiser,
        file_name="autoencoder_scores.csv",
    )


def post_live_source(competition: Competition, researcher: User, leader: User) -> SuggestionSource:
    """A researcher's logistic regression on pending.csv's conditions, posted live and activated (once)."""
    task = live.live_task(competition)
    existing = db.session.execute(
        db.select(SuggestionSource).where(SuggestionSource.task_id == task.id, SuggestionSource.kind == SourceKind.LIVE)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    pending_file = competition.pending_file or pending.refresh(competition.id)
    if pending_file is None:
        raise RuntimeError(f"{competition.slug} is not live: the demo's loop needs its pending.csv")
    version = competition.dataset_version
    train = _read(next(f for f in version.public_files if f.name == "train.csv").storage_key)
    to_predict = _read(pending_file.storage_key)
    columns = [c for c in to_predict.columns if c in train.columns and c not in ("id", "label")]
    columns = [c for c in columns if to_predict[c].notna().all()]
    scores = logistic_regression.predict(train[["id", "label", *columns]], to_predict[["id", *columns]])
    posted = pd.DataFrame({competition.id_column: to_predict["id"], competition.target_column: scores})
    source = live.post_live(
        competition,
        researcher,
        io.BytesIO(posted.to_csv(index=False).encode()),
        file_name="logistic_regression_conditions.csv",
        description="logistic regression on the OMS conditions of pending.csv (baselines/logistic_regression.py)",
    )
    return sources.change_source(source, leader, active=True)


def _read(key: str) -> pd.DataFrame:
    from app.services.storage import get_storage

    with get_storage().open(key) as handle:
        return pd.read_csv(handle)


def _source(task: LabellingTask, name: str) -> SuggestionSource | None:
    return db.session.execute(
        db.select(SuggestionSource).where(SuggestionSource.task_id == task.id, SuggestionSource.name == name)
    ).scalar_one_or_none()


def _suggested(task: LabellingTask, source: SuggestionSource, run_number: int) -> list[tuple[int, int]]:
    return next(s.suggested_ranges for s in store.run_suggestions(task, run_number) if s.source_id == source.id)


def _accepted(ranges: list[tuple[int, int]], source: SuggestionSource, components: list[str]) -> list[dict]:
    return [
        {"first": a, "last": b, "components": components, "origin": "suggested", "source_id": source.id}
        for a, b in ranges
    ]


def certify_with_suggestions(
    task: LabellingTask, model: SuggestionSource, generated: TrackerData, shifters: tuple[User, User], leader: User
) -> None:
    """The loop's certifications of the runs left, with the model's suggestions, approved (each step once)."""
    done = set(
        db.session.execute(db.select(Certification.run_number).where(Certification.task_id == task.id)).scalars()
    )
    runs = {record["run_number"]: record for record in generated.runs}
    careful, quick = shifters
    checklists = task.checklist_names
    if ACCEPTED_RUN not in done:
        body = cosmics_body(runs[ACCEPTED_RUN], checklists)
        ranges = _accepted(_suggested(task, model, ACCEPTED_RUN), model, ["strip"])
        if ranges:  # the shifter widens the last one by two lumisections: an edited suggestion
            ranges[-1]["last"] += 2
        body["bad_lumisections"] = ranges
        body["comment"] += "; the model's ranges, the last one widened: it goes on"
        _approve(workflow.certify(task, quick, body), leader)
    if UNCHANGED_RUN not in done:
        body = cosmics_body(runs[UNCHANGED_RUN], checklists)
        body["bad_lumisections"] = _accepted(_suggested(task, model, UNCHANGED_RUN), model, ["strip"])
        body["comment"] += "; the model's ranges taken as they are"
        _approve(workflow.certify(task, careful, body), leader)
    if BLIND_RUN not in done:
        first = workflow.certify(task, careful, cosmics_body(runs[BLIND_RUN], checklists))  # nothing shown yet
        revealed = _suggested(task, model, BLIND_RUN)[:1]
        if revealed:
            changed = workflow.certification_as_json(first) | {
                "bad_lumisections": _accepted(revealed, model, ["strip"]),
                "comment": "cosmics run: pixel excluded; after the reveal, the model's first range looked bad too",
                "checklist": dict.fromkeys(checklists, True),
            }
            workflow.edit(first, careful, changed)
        _approve(first, leader)
    live_scoring.evaluate_task(task.id)


def _approve(certification: Certification, leader: User) -> None:
    workflow.review(certification, leader, "approve")
