"""The competition half of the demo: a running competition on the published tracker dataset (with a team of
two), a closed one whose private board shook the public one up, and a general one on a scikit-learn data set."""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import yaml
from flask import current_app
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import HistGradientBoostingClassifier

from app.extensions import db
from app.models import Competition, DatasetVersion, Participation, Submission, User
from app.models.runs import CONDITIONS
from app.models.types import utcnow
from app.services.competitions import on_datasets, submissions, teams
from app.services.competitions.bundles import import_bundle
from app.services.competitions.quotas import utc_day_start
from app.services.datasets import publishing, queries
from app.services.datasets.splitting import split_runs, usage
from baselines import isolation_forest, logistic_regression, random_baseline
from baselines.common import features as baseline_features

RUNNING = "lumisection-anomaly-detection"
TEAM = "Pixel pushers"  # two researchers of the running competition
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
    return queries.read_file(next(f for f in version.public_files if f.name == name))


def submit_entries(competition: Competition, entries: list[Entry], test: pd.DataFrame) -> list[Submission]:
    """Each entry's predictions for the test ids, submitted to the phase open now (participants join first)."""
    made = []
    for entry in entries:
        if not entry.baseline:  # organisers submit baselines without joining
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


def boosting(train: pd.DataFrame, test: pd.DataFrame, iterations: int = 150) -> np.ndarray:
    """What a researcher past the baselines tries: gradient-boosted trees."""
    columns = baseline_features(train)
    model = HistGradientBoostingClassifier(max_iter=iterations, learning_rate=0.05, random_state=0)
    model.fit(train[columns], train["label"])
    return model.predict_proba(test[columns])[:, 1]


def _exists(slug: str) -> bool:
    return db.session.execute(db.select(Competition.id).where(Competition.slug == slug)).first() is not None


def _baselines(organiser: User, train: pd.DataFrame, test: pd.DataFrame) -> list[Entry]:
    return [Entry(organiser, name, predict(train, test), baseline=True) for name, predict in BASELINES]


def schedule(authors: Sequence[str], start: datetime, end: datetime, daily_limit: int) -> list[datetime]:
    """When each submission was made: each author's spread evenly over the whole UTC days in [start, end).

    An author's k submissions sit at the centres of k equal stretches of the d days, so no day holds more than
    ceil(k / d) of them, which must stay within daily_limit; authors submit at different hours, so the progress
    chart shows them apart.
    """
    first_day = utc_day_start(start) + timedelta(days=1)
    days = max(1, (end - first_day).days)
    totals, seen = Counter(authors), Counter[str]()
    order = {author: index for index, author in enumerate(dict.fromkeys(authors))}
    picked = []
    for author in authors:
        number = seen[author]
        seen[author] += 1
        picked.append((author, number, min(days - 1, int((number + 0.5) * days / totals[author]))))
    if max(Counter((author, day) for author, _, day in picked).values(), default=0) > daily_limit:
        raise ValueError(f"more submissions than {daily_limit} a day over {days} days")
    return [
        first_day + timedelta(days=day, hours=8 + (2 * order[author] + number) % 12, minutes=7 * number)
        for author, number, day in picked
    ]


def _spread(competition: Competition, made: list[Submission], start: datetime, end: datetime) -> None:
    """Move scored submissions back over the competition's days, as if researchers had submitted all along."""
    authors = ["baselines" if s.is_baseline else s.user.username for s in made]
    for submission, when in zip(made, schedule(authors, start, end, competition.daily_limit), strict=True):
        shift = when - submission.submitted_at
        submission.submitted_at = when
        for name in ("enqueued_at", "started_at", "finished_at"):
            if getattr(submission, name) is not None:
                setattr(submission, name, getattr(submission, name) + shift)
    for participation in db.session.execute(
        db.select(Participation).where(Participation.competition_id == competition.id)
    ).scalars():
        mine = [s.submitted_at for s in made if s.participation_id == participation.id]
        if mine:
            participation.joined_at = participation.rules_accepted_at = min(mine) - timedelta(hours=1)
            participation.last_submission_at = max(mine)
    db.session.commit()


def running_competition(version: DatasetVersion, organiser: User, researchers: list[User]) -> Competition | None:
    """Open for a month, with the baselines and researchers' submissions over its first two weeks."""
    if _exists(RUNNING):
        return None
    now = utcnow()
    opens_at = now - timedelta(days=14)
    settings = on_datasets.CompetitionSettings(
        slug=RUNNING,
        title="Lumisection anomaly detection",
        overview=RUNNING_OVERVIEW,
        opens_at=opens_at,
        closes_at=now + timedelta(days=30),
        daily_limit=10,
        live=True,  # pending.csv: the task's runs still to certify, for live predictions (demo.loop)
    )
    competition = on_datasets.create_competition(version, settings, created_by=organiser)
    train, test = _read(version, "train.csv"), _read(version, "test.csv")
    entries = _baselines(organiser, train, test)
    maps = [c for c in train.columns if c.startswith(("pixelphase1_tracks_pxbarrel", "summary_clusterston"))]
    conditions = [c for c in train.columns if c in CONDITIONS]
    first, second, third = researchers
    entries += [  # each researcher's tries in the order made: the progress chart shows them improving
        Entry(second, "isolation forest, another seed", isolation_forest.predict(train, test, 1)),
        Entry(
            first,
            "logistic regression on layer 1 and strip summaries",
            _on(logistic_regression.predict, maps, train, test),
        ),
        Entry(third, "gradient boosting, 10 trees", boosting(train, test, 10)),
        Entry(
            second,
            "logistic regression on OMS conditions only",
            _on(logistic_regression.predict, conditions, train, test),
        ),
        Entry(
            first,
            "logistic regression on layer 1 and strip summaries and OMS conditions",
            _on(logistic_regression.predict, maps + conditions, train, test),
        ),
        Entry(third, "gradient boosting, 30 trees", boosting(train, test, 30)),
        Entry(second, "isolation forest, a third seed", isolation_forest.predict(train, test, 2)),
    ]
    made = submit_entries(competition, entries, test)
    wait_for_scores()
    _spread(competition, made, opens_at, now)
    return competition


def team_up(competition: Competition, leader: User, member: User) -> bool:
    """The leader creates the demo's team and the member joins it by its invite token; their submissions made
    alone count for the team from then on. False when the team exists."""
    if teams.team_of(competition, leader) is not None:
        return False
    team = teams.create(competition, leader, TEAM)
    teams.join(competition, member, team.invite_token)
    return True


WARMUP_OVERVIEW = """# Lumisection anomaly warm-up

The warm-up round, on the training runs of the tracker dataset only: its test runs were kept unseen for the
running competition. Closed, its private leaderboard revealed.
"""


def warmup_bundle(train: pd.DataFrame, opens_at: datetime, closes_at: datetime, seed: int = 1) -> bytes:
    """A bundle splitting the published training runs again, by run: the warm-up never sees the test runs."""
    counts = {run: (len(rows), int(rows["label"].sum())) for run, rows in train.groupby("run_number")}
    test_runs = split_runs(counts, publishing.DEFAULT_TEST_FRACTION, seed)
    held = train["run_number"].isin(test_runs)
    test = train[held]
    solution = pd.DataFrame({"id": test["id"], "label": test["label"]})
    solution["Usage"] = usage(list(test["label"]), publishing.DEFAULT_PUBLIC_SHARE, seed)
    if "recorded_lumi" in test.columns:
        solution["weight"] = test["recorded_lumi"].fillna(0.0).clip(lower=0.0).to_numpy()
    spec = {
        "slug": CLOSED,
        "title": "Lumisection anomaly warm-up",
        "overview": "overview.md",
        "metric": "roc_auc",
        "files": ["train.csv", "test.csv", "sample_submission.csv"],
        "solution": "solution.csv",
        "opens_at": opens_at.isoformat(),
        "closes_at": closes_at.isoformat(),
        "daily_limit": 10,
    }
    tables = {
        "train.csv": train[~held],
        "test.csv": test.drop(columns="label"),
        "sample_submission.csv": test[["id"]].assign(label=0.5),
        "solution.csv": solution,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("competition.yaml", yaml.safe_dump(spec, sort_keys=False))
        archive.writestr("overview.md", WARMUP_OVERVIEW)
        for name, table in tables.items():
            archive.writestr(name, table.to_csv(index=False))
    return buffer.getvalue()


def closed_competition(version: DatasetVersion, organiser: User, researchers: list[User]) -> Competition | None:
    """Closed three weeks ago; one researcher picked their best of many noisy tries on the public board."""
    if _exists(CLOSED):
        return None
    now = utcnow()
    opens_at, closes_at = now - timedelta(days=60), now - timedelta(days=21)
    bundle = warmup_bundle(_read(version, "train.csv"), opens_at, now + timedelta(hours=1))
    competition = import_bundle(io.BytesIO(bundle), created_by=organiser)
    # Its files come from the task's labels as much as the version's do: the same people may not compete.
    competition.dataset_version.task_id = version.task_id
    competition.dataset_version.published_by_id = version.published_by_id
    db.session.commit()
    train, test = _read(competition.dataset_version, "train.csv"), _read(competition.dataset_version, "test.csv")
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
    made = submit_entries(competition, entries, test)
    wait_for_scores()
    # Move the submissions and the close into the past, as if the round ended three weeks ago.
    competition.closes_at = closes_at
    _spread(competition, made, opens_at, closes_at)
    return competition


def general_competition(organiser: User, researchers: list[User]) -> Competition | None:
    """Not CMS at all: breast cancer diagnosis from the data set scikit-learn ships."""
    if _exists(GENERAL):
        return None
    opens_at = utcnow() - timedelta(days=21)
    competition = import_bundle(io.BytesIO(breast_cancer_bundle(opens_at)), created_by=organiser)
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
    made = submit_entries(competition, entries, test)
    wait_for_scores()
    _spread(competition, made, opens_at, utcnow())
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


def breast_cancer_bundle(opens_at: datetime | None = None) -> bytes:
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
    } | ({"opens_at": opens_at.isoformat()} if opens_at else {})
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
