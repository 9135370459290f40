"""The competition half of the demo: a running competition on the published tracker dataset, a closed one whose
private board shook the public one up, and a general one on a scikit-learn data set."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd
import yaml
from flask import current_app
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import HistGradientBoostingClassifier

from app.extensions import db
from app.models import Competition, DatasetVersion, Submission, User
from app.models.types import utcnow
from app.services import dataset_competitions, dataset_views, publishing, submissions
from app.services.bundles import import_bundle
from baselines import isolation_forest, logistic_regression, random_baseline
from baselines.common import features as baseline_features

RUNNING = "lumisection-anomaly-detection"
CLOSED = "lumisection-anomaly-warmup"
GENERAL = "breast-cancer-diagnosis"

Predict = Callable[[pd.DataFrame, pd.DataFrame], np.ndarray]
BASELINES: tuple[tuple[str, Predict], ...] = (
    (random_baseline.DESCRIPTION, random_baseline.predict),
    (isolation_forest.DESCRIPTION, isolation_forest.predict),
    (logistic_regression.DESCRIPTION, logistic_regression.predict),
)

RUNNING_OVERVIEW = """# Lumisection anomaly detection

Shifters certified these 2024 runs lumisection by lumisection; their approved labels say which lumisections
are bad for the tracker (label 1). Predict, for every lumisection of the test runs, how likely it is bad.

* `train.csv` and `test.csv`: one row per lumisection, with its run, number, OMS conditions and summaries of
  four monitoring elements (pixel layer 1 and disk +1 occupancy maps, cluster charge, strip signal-to-noise).
* `monitoring_elements.parquet`: the histograms themselves, in the DQMIO layout.
* Scored by ROC AUC weighted by recorded luminosity. Runs are never split between train and test.

The `baselines/` scripts of the repository make a first submission in one command.
"""


@dataclass(frozen=True)
class Entry:
    """A submission the demo makes: who, what, and how it was made."""

    user: User
    description: str
    scores: np.ndarray
    baseline: bool = False


def _read(version: DatasetVersion, name: str) -> pd.DataFrame:
    return dataset_views.read_file(next(f for f in version.public_files if f.name == name))


def _submit(competition: Competition, entries: list[Entry], test: pd.DataFrame) -> list[Submission]:
    made = []
    for entry in entries:
        submissions.join(competition, entry.user)
        db.session.commit()
        table = pd.DataFrame(
            {competition.id_column: test[competition.id_column], competition.target_column: entry.scores}
        )
        made.append(
            submissions.submit(
                competition,
                entry.user,
                io.BytesIO(table.to_csv(index=False).encode()),
                file_name="submission.csv",
                description=entry.description,
                baseline=entry.baseline,
            )
        )
    return made


def _on(predict: Predict, columns: list[str], train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """A model trained on some columns only."""
    return predict(train[["id", "label", *columns]], test[["id", *columns]])


def _boosting(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """What a researcher past the baselines tries: gradient-boosted trees."""
    columns = baseline_features(train)
    model = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05, random_state=0)
    model.fit(train[columns], train["label"])
    return model.predict_proba(test[columns])[:, 1]


def _exists(slug: str) -> bool:
    return db.session.execute(db.select(Competition.id).where(Competition.slug == slug)).first() is not None


def _baselines(organiser: User, train: pd.DataFrame, test: pd.DataFrame) -> list[Entry]:
    return [Entry(organiser, name, predict(train, test), baseline=True) for name, predict in BASELINES]


def running_competition(version: DatasetVersion, organiser: User, researchers: list[User]) -> Competition | None:
    """Open for a month, with the baselines and a few researchers' submissions."""
    if _exists(RUNNING):
        return None
    now = utcnow()
    settings = dataset_competitions.CompetitionSettings(
        slug=RUNNING,
        title="Lumisection anomaly detection",
        overview=RUNNING_OVERVIEW,
        opens_at=now - timedelta(days=14),
        closes_at=now + timedelta(days=30),
        daily_limit=10,
    )
    competition = dataset_competitions.create_competition(version, settings, created_by=organiser)
    train, test = _read(version, "train.csv"), _read(version, "test.csv")
    entries = _baselines(organiser, train, test)
    maps = [c for c in train.columns if c.startswith(("pixelphase1_tracks_pxbarrel", "summary_clusterston"))]
    conditions = [c for c in train.columns if c in publishing.CONDITIONS]
    first, second, third = researchers
    entries += [
        Entry(
            first,
            "logistic regression on layer 1 and strip summaries",
            _on(logistic_regression.predict, maps, train, test),
        ),
        Entry(
            second,
            "logistic regression on OMS conditions only",
            _on(logistic_regression.predict, conditions, train, test),
        ),
        Entry(second, "isolation forest, another seed", isolation_forest.predict(train, test, 1)),
        Entry(third, "gradient boosting on every summary", _boosting(train, test)),
    ]
    _submit(competition, entries, test)
    return competition


def closed_competition(version: DatasetVersion, organiser: User, researchers: list[User]) -> Competition | None:
    """Closed three weeks ago; one researcher picked their best of many noisy tries on the public board."""
    if _exists(CLOSED):
        return None
    now = utcnow()
    settings = dataset_competitions.CompetitionSettings(
        slug=CLOSED,
        title="Lumisection anomaly warm-up",
        overview="The warm-up round on the same data: closed, its private leaderboard revealed.",
        opens_at=now - timedelta(days=60),
        closes_at=now + timedelta(hours=1),
        daily_limit=10,
    )
    competition = dataset_competitions.create_competition(version, settings, created_by=organiser)
    train, test = _read(version, "train.csv"), _read(version, "test.csv")
    solid = logistic_regression.predict(train, test)
    rng = np.random.default_rng(7)
    entries = [Entry(organiser, random_baseline.DESCRIPTION, random_baseline.predict(train, test), baseline=True)]
    steady, *rest = researchers
    entries.append(Entry(steady, "logistic regression, submitted once", solid))
    for attempt in range(8):  # tuned on the public board: the best public try is luck as much as skill
        noisy = solid + rng.normal(0, 0.3, len(test))
        entries.append(Entry(rest[0], f"logistic regression, tweak {attempt + 1}", noisy))
    for user in rest[1:]:
        entries.append(Entry(user, "isolation forest", isolation_forest.predict(train, test)))
    made = _submit(competition, entries, test)
    wait_for_scores()
    # Move the submissions and the close into the past, as if the round ended three weeks ago.
    for position, submission in enumerate(made):
        submission.submitted_at = now - timedelta(days=40) + timedelta(hours=position)
    competition.closes_at = now - timedelta(days=21)
    db.session.commit()
    return competition


def general_competition(organiser: User, researchers: list[User]) -> Competition | None:
    """Not CMS at all: breast cancer diagnosis from the data set scikit-learn ships."""
    if _exists(GENERAL):
        return None
    competition = import_bundle(io.BytesIO(breast_cancer_bundle()), created_by=organiser)
    tables = breast_cancer_tables()
    train, test = tables["train"], tables["test"]
    entries = _baselines(organiser, train, test)
    mean_columns = [c for c in test.columns if c.startswith("mean_")]
    worst_columns = [c for c in test.columns if c.startswith("worst_")]
    entries += [
        Entry(
            researchers[0],
            "logistic regression on the mean measurements",
            _on(logistic_regression.predict, mean_columns, train, test),
        ),
        Entry(
            researchers[1],
            "logistic regression on the worst measurements",
            _on(logistic_regression.predict, worst_columns, train, test),
        ),
    ]
    _submit(competition, entries, test)
    return competition


def breast_cancer_tables(seed: int = 0) -> dict[str, pd.DataFrame]:
    """scikit-learn's breast cancer data set split 70/30: train, test and solution (label 1: malignant)."""
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns=lambda c: c.replace(" ", "_"))
    frame.insert(0, "id", [f"p{i:04d}" for i in range(len(frame))])
    frame["label"] = (frame.pop("target") == 0).astype(int)  # 0 is malignant in scikit-learn
    order = np.random.default_rng(seed).permutation(len(frame))
    cut = int(0.7 * len(frame))
    train, test = frame.iloc[order[:cut]], frame.iloc[order[cut:]]
    return {"train": train, "test": test.drop(columns="label"), "solution": test[["id", "label"]]}


def breast_cancer_bundle() -> bytes:
    """The general competition as a bundle zip, as an organiser would upload it."""
    tables = breast_cancer_tables()
    spec = {
        "slug": GENERAL,
        "title": "Breast cancer diagnosis",
        "overview": "overview.md",
        "metric": "roc_auc",
        "id_column": "id",
        "target_column": "label",
        "files": ["train.csv", "test.csv", "sample_submission.csv"],
        "solution": "solution.csv",
        "public_fraction": 0.5,
        "split_seed": 1,
        "daily_limit": 5,
    }
    overview = (
        "# Breast cancer diagnosis\n\nThe Wisconsin diagnostic data set that ships with scikit-learn: predict "
        "from 30 measurements of cell nuclei how likely a tumour is malignant (label 1). A general machine "
        "learning competition, to show the platform is not for CMS data only.\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("competition.yaml", yaml.safe_dump(spec, sort_keys=False))
        archive.writestr("overview.md", overview)
        archive.writestr("train.csv", tables["train"].to_csv(index=False))
        archive.writestr("test.csv", tables["test"].to_csv(index=False))
        archive.writestr("solution.csv", tables["solution"].to_csv(index=False))
        archive.writestr("sample_submission.csv", tables["test"][["id"]].assign(label=0.5).to_csv(index=False))
    return buffer.getvalue()


def wait_for_scores() -> None:
    """In embedded mode, wait until the in-process queue scored everything; RQ workers score on their own."""
    wait = getattr(current_app.extensions.get("job_queue"), "join", None)
    if wait is not None:
        wait()
