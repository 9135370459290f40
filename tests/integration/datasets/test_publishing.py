"""Publishing a task's approved labels as a dataset version, and a competition on it, through pages, API and CLI."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pandas as pd
import pytest

from app.extensions import db
from app.models import (
    AuditEntry,
    Competition,
    Dataset,
    DatasetFile,
    DatasetVersion,
    LabellingTask,
    Lumisection,
    Role,
    User,
)
from app.models.runs import CONDITIONS
from app.services.certification import lumimask
from app.services.datasets import publishing
from app.services.datasets.version_files import FILES, summary_of
from app.services.runs.importer import import_oms
from app.services.runs.oms import LUMISECTION_FIELDS
from app.services.storage import StorageError, get_storage
from tests.helpers import PASSWORD, bearer, make_token, make_user

pytestmark = pytest.mark.databases("sqlite", "postgresql")

# Lumisections per run; DCS off (tob not ready) in a few ranges; what each certification says.
RUNS = {380001 + i: n for i, n in enumerate([120, 80, 100, 60, 110, 150, 130, 70, 40, 90, 60, 50])}
DCS_OFF = {380002: (30, 39), 380006: (140, 150)}
APPROVED = {
    380001: {},
    380002: {},
    380003: {"bad_lumisections": [{"first": 20, "last": 39, "components": ["tracking"]}], "comment": "tracking"},
    380004: {},
    380005: {"bad_lumisections": [{"first": 1, "last": 10}, {"first": 50, "last": 59}], "comment": "strip HV"},
    380006: {},
    380007: {"bad_lumisections": [{"first": 100, "last": 130, "components": ["pixel"]}], "comment": "pixel"},
    380008: {},
    380009: {"pixel": "bad", "comment": "pixel off for the whole run"},
    380010: {},
}
PENDING, REJECTED = 380011, 380012


def oms_document(seed: int = 5) -> dict:
    """A column-oriented OMS per-lumisection document for RUNS, as `flask runs import` reads it."""
    rng = random.Random(seed)
    flags = ("beams_stable", "cms_active", "bpix_ready", "fpix_ready", "tibtid_ready", "tob_ready", "tecp_ready")
    columns: dict[str, list] = {name: [] for name in LUMISECTION_FIELDS}
    for run, count in RUNS.items():
        first_off, last_off = DCS_OFF.get(run, (0, -1))
        for number in range(1, count + 1):
            # OMS records tiny negative luminosities where there is none, as at the start of a run.
            recorded = -1e-10 if number == 1 else rng.uniform(0.5, 1.5) * 1e-4
            values = {
                "run_number": run,
                "lumisection_number": number,
                "fill_number": 9000 + run % 100,
                "delivered_lumi_per_lumisection": recorded * 1.05,
                "recorded_lumi_per_lumisection": recorded,
                "pileup": rng.uniform(30, 60),
                "physics_flag": True,
                **dict.fromkeys(flags, True),
                "tecm_ready": True,
            }
            values["tob_ready"] = not first_off <= number <= last_off
            for name, value in values.items():
                columns[name].append(value)
    return columns


def certification_body(run: int, **changes) -> dict:
    base = {
        "run_number": run,
        "reco": "express",
        "pixel": "good",
        "strip": "good",
        "tracking": "good",
        "bad_lumisections": [],
        "checklist": {"general": True, "pixel": True, "strip": True, "tracking": True},
        "comment": "",
    }
    return base | changes


def certify(client, token: str, task_id: int, run: int, **changes) -> int:
    response = client.post(
        f"/api/v1/tasks/{task_id}/certifications", headers=bearer(token), json=certification_body(run, **changes)
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def review(client, token: str, certification_id: int, decision: str = "approve", comment: str = "") -> None:
    response = client.post(
        f"/api/v1/certifications/{certification_id}/review",
        headers=bearer(token),
        json={"decision": decision, "comment": comment},
    )
    assert response.status_code == 200, response.get_json()


def create_task(runner, name: str) -> int:
    result = runner.invoke(args=["tasks", "create", name, "--reco", "express", "--runs", "380001-380012"])
    assert result.exit_code == 0, result.output
    return int(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def desk(app, client, runner):
    """Twelve runs imported from OMS, a task certifying them: ten approved, one pending, one rejected."""
    with app.app_context():
        import_oms(oms_document())
        tokens = {
            name: make_token(make_user(name, role))
            for name, role in [
                ("sam", Role.SHIFTER),
                ("lea", Role.SHIFT_LEADER),
                ("olga", Role.ORGANISER),
                ("rita", Role.RESEARCHER),
            ]
        }
    task_id = create_task(runner, "Express 2026A")
    for run, changes in APPROVED.items():
        review(client, tokens["lea"], certify(client, tokens["sam"], task_id, run, **changes))
    certify(client, tokens["sam"], task_id, PENDING)
    review(client, tokens["lea"], certify(client, tokens["sam"], task_id, REJECTED), "reject", "look again at strip")
    return {"task": task_id, "tokens": tokens}


def post_publish(client, auth, task_id: int, **fields):
    data = {"slug": "", "title": "", "test_fraction": "0.3", "public_share": "0.3", "seed": "7"} | fields
    data["csrf_token"] = auth.csrf_token(f"/tasks/{task_id}/publish")
    return client.post(f"/tasks/{task_id}/publish", data=data)


def read_version(app, version_id: int) -> dict[str, pd.DataFrame]:
    """The stored files of a version, by name, read straight from storage."""
    with app.app_context():
        version = db.session.get(DatasetVersion, version_id)
        files = {}
        for f in version.files:
            with get_storage().open(f.storage_key) as handle:
                files[f.name] = pd.read_csv(io.BytesIO(handle.read()), dtype={"id": str})
        return files


def stored_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "storage").rglob("*") if p.is_file()]


def count_rows(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(
            db.session.execute(db.select(db.func.count()).select_from(model)).scalar_one()
            for model in (Dataset, DatasetVersion, DatasetFile)
        )


@pytest.fixture
def published(app, client, auth, desk):
    """The task published through its page by a shift leader; returns the new version's id."""
    auth.login("lea", PASSWORD)
    response = post_publish(client, auth, desk["task"])
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        version = db.session.execute(db.select(DatasetVersion)).scalar_one()
        assert response.headers["Location"] == f"/tasks/{desk['task']}/published/{version.id}"
        entry = db.session.execute(db.select(AuditEntry).where(AuditEntry.action == "publish")).scalar_one()
        assert (entry.entity_id, entry.after["version"]) == (version.id, 1)
        return version.id


def test_published_dataset_never_splits_a_run_and_its_golden_is_the_api_golden(app, client, desk, published):
    files = read_version(app, published)
    train, test, solution = files["train.csv"], files["test.csv"], files["solution.csv"]
    train_runs, test_runs = set(train["run_number"]), set(test["run_number"])
    assert not train_runs & test_runs and train_runs and test_runs
    assert train_runs | test_runs == set(APPROVED)  # neither the pending nor the rejected run
    assert len(train) + len(test) == sum(RUNS[run] for run in APPROVED)

    # The good lumisections of the dataset, built from its files, are the task's golden JSON as the API serves it.
    labelled = pd.concat([train[["id", "run_number", "lumisection", "label"]], test.merge(solution, on="id")])
    good = labelled[labelled["label"] == 0]
    mask = lumimask.from_lumisections(zip(good["run_number"], good["lumisection"], strict=True))
    served = client.get(f"/api/v1/tasks/{desk['task']}/golden.json", headers=bearer(desk["tokens"]["lea"]))
    assert served.status_code == 200
    assert lumimask.dumps(mask) == served.get_data(as_text=True)
    assert mask == lumimask.loads(served.get_data())
    # Bad ranges, a bad component and DCS off all end up labelled 1.
    assert set(labelled.loc[labelled["label"] == 1, "run_number"]) == {380002, 380003, 380005, 380006, 380007, 380009}
    assert (labelled["id"] == labelled["run_number"].astype(str) + "_" + labelled["lumisection"].astype(str)).all()


def test_published_files_hold_conditions_usage_and_luminosity_weights(app, published):
    files = read_version(app, published)
    train, test, solution, sample = (
        files[n] for n in ("train.csv", "test.csv", "solution.csv", "sample_submission.csv")
    )
    assert list(train.columns) == ["id", "run_number", "lumisection", *CONDITIONS, "label"]
    assert list(test.columns) == list(train.columns[:-1])
    assert list(solution.columns) == ["id", "label", "Usage", "weight"]
    assert list(sample.columns) == ["id", "label"] and list(sample["id"]) == list(test["id"]) == list(solution["id"])
    # Both labels on both sides of the leaderboard split.
    assert set(solution["Usage"]) == {"Public", "Private"}
    assert solution.groupby("Usage")["label"].nunique().to_dict() == {"Private": 2, "Public": 2}
    with app.app_context():
        recorded = {
            f"{run}_{number}": lumi
            for run, number, lumi in db.session.execute(
                db.select(Lumisection.run_number, Lumisection.number, Lumisection.recorded_lumi)
            )
        }
    expected = [max(recorded[i], 0.0) for i in solution["id"]]
    assert solution["weight"].tolist() == pytest.approx(expected, rel=1e-12, abs=0)
    assert (solution["weight"] >= 0).all() and (solution["weight"] == 0).any()  # the negative first lumisections


def test_summary_page_shows_both_sides_and_leads_organisers_to_a_competition(app, client, auth, desk, published):
    with app.app_context():
        summary = summary_of(db.session.get(DatasetVersion, published))
    page = client.get(f"/tasks/{desk['task']}/published/{published}").get_data(as_text=True)
    for side in (summary.train, summary.test):
        row = f'<td class="text-end">{side.runs}</td><td class="text-end">{side.lumisections}</td>'
        assert row in page and f"{100 * side.bad_share:.1f} %" in page
    assert f"/competitions/new?dataset_version={published}" not in page  # a shift leader does not create them
    auth.logout()
    auth.login("olga", PASSWORD)
    page = client.get(f"/tasks/{desk['task']}/published/{published}").get_data(as_text=True)
    assert f"/competitions/new?dataset_version={published}" in page
    assert summary.train.runs + summary.test.runs == len(APPROVED)
    assert abs(summary.train.bad_share - summary.test.bad_share) < 0.05
    assert 0.2 < summary.test.lumisections / (summary.train.lumisections + summary.test.lumisections) < 0.4


def test_same_seed_gives_the_same_files_in_the_next_version(app, client, auth, desk, published):
    assert post_publish(client, auth, desk["task"], slug="express-2026a").status_code == 302
    with app.app_context():
        first, second = db.session.execute(db.select(DatasetVersion).order_by(DatasetVersion.id)).scalars().all()
        assert (first.dataset_id, first.number, second.number) == (second.dataset_id, 1, 2)
        assert [(f.name, f.sha256) for f in first.files] == [(f.name, f.sha256) for f in second.files]
        assert {f.storage_key.split("/")[2] for f in second.files} == {"v2"}


def test_refused_without_approved_labels_writes_no_rows_and_no_files(app, client, auth, runner, desk, tmp_path):
    empty = create_task(runner, "Nothing approved")
    auth.login("lea", PASSWORD)
    response = post_publish(client, auth, empty)
    assert response.status_code == 409
    assert "has no approved certification" in response.get_data(as_text=True)
    assert count_rows(app) == (0, 0, 0) and stored_files(tmp_path) == []


def test_refused_with_a_single_run_writes_no_rows_and_no_files(app, client, auth, runner, desk, tmp_path):
    single = create_task(runner, "One run")
    review(client, desk["tokens"]["lea"], certify(client, desk["tokens"]["sam"], single, 380001))
    auth.login("lea", PASSWORD)
    response = post_publish(client, auth, single)
    assert response.status_code == 409
    assert "a split by run needs at least two runs" in response.get_data(as_text=True)
    assert count_rows(app) == (0, 0, 0) and stored_files(tmp_path) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"test_fraction": "1.5"}, "Number must be between"),
        ({"seed": "-1"}, "Number must be between 0 and"),
        ({"slug": "Not A Slug"}, "must be 3 to 100 lowercase letters"),
    ],
)
def test_bad_settings_are_refused_and_write_nothing(app, client, auth, desk, tmp_path, fields, message):
    auth.login("lea", PASSWORD)
    response = post_publish(client, auth, desk["task"], **fields)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert count_rows(app) == (0, 0, 0) and stored_files(tmp_path) == []


class FailingStorage:
    """The real storage, except that the n-th write fails after storing its file (a lost connection)."""

    def __init__(self, storage, fail_at: int) -> None:
        self.storage, self.fail_at, self.writes = storage, fail_at, 0

    def put(self, key, stream, **kwargs):
        self.writes += 1
        stored = self.storage.put(key, stream, **kwargs)
        if self.writes == self.fail_at:
            raise StorageError(f"connection lost after storing {key}")
        return stored

    def __getattr__(self, name):
        return getattr(self.storage, name)


def test_a_failed_store_deletes_what_was_stored_and_writes_no_rows(app, desk, tmp_path):
    with app.app_context():
        app.extensions["storage"] = FailingStorage(get_storage(), fail_at=len(FILES))
        task = db.session.get(LabellingTask, desk["task"])
        with pytest.raises(StorageError):
            publishing.publish(task, seed=1)
        assert app.extensions["storage"].writes == len(FILES)
    assert count_rows(app) == (0, 0, 0) and stored_files(tmp_path) == []


@pytest.mark.parametrize("who", ["sam", "rita"])
def test_shifters_and_researchers_cannot_publish(app, client, auth, desk, who):
    auth.login(who, PASSWORD)
    assert client.get(f"/tasks/{desk['task']}/publish").status_code == 403
    token = auth.csrf_token("/")
    assert client.post(f"/tasks/{desk['task']}/publish", data={"csrf_token": token, "seed": "1"}).status_code == 403
    assert count_rows(app) == (0, 0, 0)


def test_the_publish_button_shows_for_shift_leaders_only(client, auth, desk):
    auth.login("sam", PASSWORD)
    assert "Publish as dataset" not in client.get(f"/tasks/{desk['task']}").get_data(as_text=True)
    auth.logout()
    auth.login("lea", PASSWORD)
    assert "Publish as dataset" in client.get(f"/tasks/{desk['task']}").get_data(as_text=True)
    assert client.get(f"/tasks/{desk['task']}/publish").status_code == 200


def test_cli_publishes_and_prints_the_version_id(app, runner, desk):
    result = runner.invoke(args=["tasks", "publish", str(desk["task"]), "--slug", "express-cli", "--seed", "3"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        version = db.session.execute(db.select(DatasetVersion)).scalar_one()
        assert result.stdout.strip().splitlines()[-1] == str(version.id)
        assert version.dataset.slug == "express-cli" and len(version.files) == 4
    refused = runner.invoke(args=["tasks", "publish", str(desk["task"]), "--test-fraction", "2"])
    assert refused.exit_code != 0 and "test fraction must be a number strictly between 0 and 1" in refused.output


def competition_form(auth, version_id: int, **fields) -> dict:
    data = {
        "slug": "express-2026a",
        "title": "Bad lumisections of 2026A",
        "overview": "Find them.",
        "metric": "roc_auc",
        "id_column": "id",
        "target_column": "label",
        "public_fraction": "0.3",
        "split_seed": "0",
        "opens_at": "",
        "closes_at": "",
        "daily_limit": "5",
        "total_limit": "",
        "final_selections": "2",
    } | fields
    data["csrf_token"] = auth.csrf_token(f"/competitions/new?dataset_version={version_id}")
    return data


def download(client, token: str, slug: str, name: str) -> pd.DataFrame:
    """A public file of the competition through the API, as a researcher gets it."""
    response = client.get(f"/api/v1/competitions/{slug}/files/{name}", headers=bearer(token))
    content = response.get_data()
    response.close()  # a streamed file stays open until the response is closed
    assert response.status_code == 200
    return pd.read_csv(io.BytesIO(content), dtype={"id": str})


def test_prefilled_competition_on_the_dataset_scores_the_sample_submission(app, client, auth, desk, published):
    auth.logout()
    auth.login("olga", PASSWORD)
    form_page = client.get(f"/competitions/new?dataset_version={published}").get_data(as_text=True)
    assert 'value="express-2026a"' in form_page and "roc_auc" in form_page
    created = client.post(f"/competitions/new?dataset_version={published}", data=competition_form(auth, published))
    assert created.status_code == 302 and created.headers["Location"] == "/competitions/express-2026a"
    with app.app_context():
        competition = db.session.execute(db.select(Competition)).scalar_one()
        assert competition.dataset_version_id == published and competition.solution_file.name == "solution.csv"
        assert competition.sample_submission == "sample_submission.csv"
        assert db.session.execute(db.select(db.func.count()).select_from(DatasetVersion)).scalar_one() == 1

    token = desk["tokens"]["rita"]
    slug = "express-2026a"
    assert client.post(f"/api/v1/competitions/{slug}/join", headers=bearer(token), json={"accept_rules": True}).json
    assert client.get(f"/api/v1/competitions/{slug}/files/solution.csv", headers=bearer(token)).status_code == 404
    predictions = download(client, token, slug, "sample_submission.csv")
    test = download(client, token, slug, "test.csv")
    for scores, expected in ((predictions["label"], 0.5), (1 - test["tob_ready"], None)):
        accepted = client.post(
            f"/api/v1/competitions/{slug}/submissions",
            headers=bearer(token),
            data={"file": (io.BytesIO(predictions.assign(label=scores).to_csv(index=False).encode()), "p.csv")},
        )
        assert accepted.status_code == 202, accepted.get_json()
        app.extensions["job_queue"].join()
        scored = client.get(f"/api/v1/submissions/{accepted.get_json()['id']}", headers=bearer(token)).get_json()
        assert scored["status"] == "scored", scored
        if expected is not None:
            assert scored["public_score"] == pytest.approx(expected)
        else:  # DCS off is part of bad: a score that knows it beats chance
            assert scored["public_score"] > 0.5


def test_competition_form_refuses_a_taken_slug_and_a_metric_the_solution_cannot_serve(
    app, client, auth, desk, published
):
    auth.logout()
    auth.login("olga", PASSWORD)
    url = f"/competitions/new?dataset_version={published}"
    assert client.post(url, data=competition_form(auth, published)).status_code == 302
    taken = client.post(url, data=competition_form(auth, published, title="Again"))
    assert taken.status_code == 400 and "already exists" in taken.get_data(as_text=True)
    unknown = client.post(url, data=competition_form(auth, published, slug="other", metric="nope"))
    assert unknown.status_code == 400 and "Not a valid choice" in unknown.get_data(as_text=True)
    closes = client.post(
        url,
        data=competition_form(auth, published, slug="other", opens_at="2031-02-01T00:00", closes_at="2031-01-01T00:00"),
    )
    assert closes.status_code == 400 and "closes_at must come after opens_at" in closes.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Competition)).scalar_one() == 1
    assert client.get("/competitions/new?dataset_version=999999").status_code == 404


def test_researchers_cannot_create_competitions_on_a_dataset(client, auth, desk, published):
    auth.logout()
    auth.login("rita", PASSWORD)
    assert client.get(f"/competitions/new?dataset_version={published}").status_code == 403


def test_dataset_pages_show_the_balance_per_split_and_per_run_with_test_labels_hidden(app, client, published):
    with app.app_context():
        version = db.session.get(DatasetVersion, published)
        slug, number = version.dataset.slug, version.number
        test_runs = set(read_version(app, published)["test.csv"]["run_number"])
    assert slug in client.get("/datasets").get_data(as_text=True)
    page = client.get(f"/datasets/{slug}").get_data(as_text=True)
    assert 'data-testid="split-balance"' in page and "hidden" in page
    train_run = next(run for run in APPROVED if run not in test_runs)
    assert f"/datasets/{slug}/v{number}/runs/{train_run}" in page
    assert f"/datasets/{slug}/v{number}/runs/{PENDING}" not in page  # only approved runs are published

    # Run 380003 has lumisections 20-39 labelled bad; a test run shows no label.
    labelled = client.get(f"/datasets/{slug}/v{number}/runs/380003").get_data(as_text=True)
    if 380003 in test_runs:
        assert "labels hidden" in labelled and "20-39" not in labelled
    else:
        assert "20 labelled bad: 20-39" in labelled and 'data-testid="run-chart"' in labelled
    without_elements = client.get(f"/datasets/{slug}/v{number}/runs/380003/ls/25").get_data(as_text=True)
    assert "has no monitoring elements" in without_elements
    hidden = client.get(f"/datasets/{slug}/v{number}/runs/{next(iter(test_runs))}").get_data(as_text=True)
    assert "labels hidden (test side)" in hidden
    assert client.get(f"/datasets/{slug}/v{number}/runs/1").status_code == 404
    assert client.get(f"/datasets/{slug}/v{number + 1}").status_code == 404


def test_dataset_files_download_for_logged_in_users_until_a_competition_uses_them(app, client, auth, published):
    with app.app_context():
        version = db.session.get(DatasetVersion, published)
        slug, number = version.dataset.slug, version.number
    url = f"/datasets/{slug}/v{number}/files/train.csv"
    auth.logout()
    assert client.get(url).status_code == 302  # to the login page
    auth.login("rita", PASSWORD)
    response = client.get(url)
    assert response.status_code == 200 and response.get_data(as_text=True).startswith("id,run_number,lumisection")
    response.close()
    assert client.get(f"/datasets/{slug}/v{number}/files/solution.csv").status_code == 404


def test_a_second_competition_on_the_same_published_version_is_refused(app, client, auth, desk, published):
    """A published solution has a Usage column: another competition on it would share its private board."""
    auth.logout()
    auth.login("olga", PASSWORD)
    url = f"/competitions/new?dataset_version={published}"
    assert client.post(url, data=competition_form(auth, published)).status_code == 302
    again = client.post(url, data=competition_form(auth, published, slug="express-2026a-again", split_seed="9"))
    page = again.get_data(as_text=True)
    assert again.status_code == 400
    assert "The competition &#39;express-2026a&#39; already scores this solution" in page
    assert "build it on another version of the dataset" in page
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Competition)).scalar_one() == 1


def test_the_organiser_who_published_cannot_join_and_shifters_neither(app, client, auth, desk, published):
    """lea published the labels she reviewed and sam certified them: neither competes; rita does."""
    auth.logout()
    auth.login("olga", PASSWORD)
    assert client.post(f"/competitions/new?dataset_version={published}", data=competition_form(auth, published))
    with app.app_context():
        version = db.session.get(DatasetVersion, published)
        users = {
            name: db.session.execute(db.select(User).where(User.username == name)).scalar_one()
            for name in ["sam", "lea"]
        }
        assert version.task_id == desk["task"] and version.published_by_id == users["lea"].id
        for user in users.values():
            user.set_roles(user.roles | {Role.RESEARCHER})
        db.session.commit()
    answers = {
        name: client.post(
            "/api/v1/competitions/express-2026a/join", headers=bearer(desk["tokens"][name]), json={"accept_rules": True}
        )
        for name in ("sam", "lea", "rita")
    }
    assert answers["sam"].status_code == 403 and "every shifter" in answers["sam"].get_json()["error"]["message"]
    assert answers["lea"].status_code == 403 and "You published" in answers["lea"].get_json()["error"]["message"]
    assert answers["rita"].status_code == 200


def _elements(runs: dict[int, int]):
    """A 1D strip element over every lumisection of the runs, in the long DQMIO layout."""
    import numpy as np

    rows = [(run, n) for run, count in runs.items() for n in range(1, count + 1)]
    return pd.DataFrame(
        {
            "fromrun": [run for run, _ in rows],
            "fromlumi": [n for _, n in rows],
            "hname": "Summary_ClusterStoNCorr__OnTrack__TIB__layer__1",
            "metype": 3,
            "histo": [np.array([n % 5, 3, 1, 0], dtype=float) for _, n in rows],
            "entries": [float(n % 5 + 4) for _, n in rows],
            "Xmin": 0.0,
            "Xmax": 100.0,
            "Xbins": 4,
            "Ymin": 0.0,
            "Ymax": 0.0,
            "Ybins": 0,
        }
    )


def test_the_stored_monitoring_elements_of_the_runs_are_published_as_features_and_histograms(app, desk):
    from app.services.datasets import queries
    from app.services.runs import element_store

    with app.app_context():
        element_store.store_elements(_elements({380001: RUNS[380001], 380002: RUNS[380002], PENDING: 5}))
        version = publishing.publish(db.session.get(LabellingTask, desk["task"]), seed=1).version
        files = {f.name: f for f in version.public_files}
        assert "monitoring_elements.parquet" in files
        train, test = queries.read_file(files["train.csv"]), queries.read_file(files["test.csv"])
        prefix = "summary_clusterstoncorr_ontrack_tib_layer_1"
        for table in (train, test):
            assert {f"{prefix}__entries", f"{prefix}__mean", f"{prefix}__bin_00"} <= set(table.columns)
        both = pd.concat([train, test])
        with_elements = both[both["run_number"].isin([380001, 380002])]
        assert with_elements[f"{prefix}__entries"].notna().all()
        assert both[~both["run_number"].isin([380001, 380002])][f"{prefix}__entries"].isna().all()
        row = with_elements[with_elements["lumisection"] == 7].iloc[0]
        assert row[f"{prefix}__entries"] == 6.0 and row[f"{prefix}__bin_00"] == pytest.approx(2 / 6)
        shown = queries.monitoring_elements_of(version, [(380002, 7), (PENDING, 1)])
        assert shown is not None and [tuple(r) for r in shown[["fromrun", "fromlumi"]].to_numpy()] == [(380002, 7)]
        assert list(shown["histo"].iloc[0]) == [2.0, 3.0, 1.0, 0.0]  # the pending run is not published
