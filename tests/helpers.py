"""Factories that build test data through the same code paths as the platform."""

from __future__ import annotations

import itertools

from app.extensions import db
from app.models import ApiToken, Role, User
from app.services import accounts

PASSWORD = "correct-horse-battery"
_names = itertools.count(1)


def make_user(username: str | None = None, *roles: Role, password: str = PASSWORD, email: str | None = None) -> User:
    """A committed user with these roles (researcher when none are given); call inside an app context."""
    username = username or f"user{next(_names)}"
    user = accounts.create_user(username, password, email=email, roles=set(roles) or {Role.RESEARCHER})
    db.session.commit()
    return user


def make_token(user: User, name: str = "test") -> str:
    """A new API token of the user; returns the secret."""
    row, secret = ApiToken.issue(user, name)
    db.session.add(row)
    db.session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {secret}"}


def write_bundle(folder, *, n: int = 300, seed: int = 7, spec: dict | None = None, solution_usage: bool = False):
    """Write a small, valid competition bundle into folder; returns (folder, test ids, true labels)."""
    import numpy as np
    import pandas as pd
    import yaml

    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = (x + rng.normal(scale=0.7, size=n) > 0.8).astype(int)
    ids = [f"ls{i:05d}" for i in range(n)]
    split = n * 2 // 3
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": ids[:split], "x": x[:split], "label": y[:split]}).to_csv(folder / "train.csv", index=False)
    pd.DataFrame({"id": ids[split:], "x": x[split:]}).to_csv(folder / "test.csv", index=False)
    pd.DataFrame({"id": ids[split:], "label": 0.5}).to_csv(folder / "sample_submission.csv", index=False)
    solution = pd.DataFrame({"id": ids[split:], "label": y[split:]})
    if solution_usage:
        solution["Usage"] = np.where(np.arange(n - split) % 2 == 0, "Public", "Private")
    solution.to_csv(folder / "solution.csv", index=False)
    (folder / "overview.md").write_text("# Test competition\n\nFind the **bad** lumisections.\n")
    settings = {
        "slug": "test-comp",
        "title": "Test competition",
        "overview": "overview.md",
        "metric": "roc_auc",
        "id_column": "id",
        "target_column": "label",
        "files": ["train.csv", "test.csv", "sample_submission.csv"],
        "solution": "solution.csv",
        "public_fraction": 0.5,
        "split_seed": 3,
        "daily_limit": 5,
        "final_selections": 2,
    }
    settings.update(spec or {})
    settings = {k: v for k, v in settings.items() if v is not None}
    (folder / "competition.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    return folder, ids[split:], y[split:], x[split:]


def make_competition(tmp_path, **spec):
    """Import a generated bundle and return the competition (inside an app context)."""
    from app.services.competitions.bundles import import_bundle

    folder, *_ = write_bundle(tmp_path / f"bundle-{next(_names)}", spec=spec)
    return import_bundle(folder)


def predictions_csv(ids, scores, id_column: str = "id", target_column: str = "label") -> bytes:
    """A submission file as bytes."""
    import pandas as pd

    return pd.DataFrame({id_column: list(ids), target_column: list(scores)}).to_csv(index=False).encode()


def add_submission(
    competition, user, *, public=None, private=None, status=None, at=None, baseline=False, error=None, phase=None
):
    """A committed submission row as scoring leaves it, without running a scorer (inside an app context).

    Scored when public is given, failed when error is; at is its submission time (now by default); phase is
    the competition's one phase unless given. It counts for the user's team when they are in one, as an upload
    does.
    """
    from app.models import Submission, SubmissionStatus
    from app.models.types import utcnow
    from app.services.competitions import entrants, submissions

    participation = None if baseline else submissions.join(competition, user)
    team_id = None if baseline else entrants.team_id_of(competition.id, user.id)
    at = at or utcnow()
    if status is None:
        status = SubmissionStatus.FAILED if error else SubmissionStatus.SCORED
    submission = Submission(
        competition=competition,
        participation=participation,
        user=user,
        team_id=team_id,
        status=status,
        file_name="predictions.csv",
        file_key=f"submissions/{competition.id}/{next(_names)}.csv",
        file_size=100,
        file_sha256="0" * 64,
        counted=not baseline and status is not SubmissionStatus.FAILED,
        is_baseline=baseline,
        public_score=public,
        private_score=private,
        n_public=None if public is None else 50,
        n_private=None if private is None else 50,
        error=error,
        solution_sha256="1" * 64 if public is not None else None,
        submitted_at=at,
        finished_at=at if status in (SubmissionStatus.SCORED, SubmissionStatus.FAILED) else None,
        **({"phase": phase} if phase is not None else {}),
    )
    db.session.add(submission)
    db.session.commit()
    return submission


def write_phased_bundle(folder, *, dev_closes: str, spec: dict | None = None, final: dict | None = None, n: int = 150):
    """write_bundle with two phases: development on its files, then final on test_final.csv with a solution of its
    own; returns (folder, development test ids, development x, final ids, final x, final labels)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(11)
    x = rng.normal(size=n)
    y = (x + rng.normal(scale=0.7, size=n) > 0.8).astype(int)
    ids = [f"fin{i:05d}" for i in range(n)]
    phases = [
        {"name": "development", "closes_at": dev_closes},
        {
            "name": "final",
            "files": ["test_final.csv", "sample_submission_final.csv"],
            "solution": "solution_final.csv",
            **(final or {}),
        },
    ]
    folder, dev_ids, _, dev_x = write_bundle(folder, spec={"phases": phases, **(spec or {})})
    pd.DataFrame({"id": ids, "x": x}).to_csv(folder / "test_final.csv", index=False)
    pd.DataFrame({"id": ids, "label": 0.5}).to_csv(folder / "sample_submission_final.csv", index=False)
    pd.DataFrame({"id": ids, "label": y}).to_csv(folder / "solution_final.csv", index=False)
    return folder, dev_ids, dev_x, ids, x, y
