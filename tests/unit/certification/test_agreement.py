"""Double certification: two shifters certify each run blind, shift leaders see where and how far they agree."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from app.models import Role
from app.services.certification.agreement import cohen_kappa, overlap
from app.services.runs.importer import import_file
from tests.helpers import PASSWORD, bearer, make_token, make_user

RUNS = (315257, 315259, 315264)
CHECKLIST = {"general": True, "pixel": True, "strip": True, "tracking": True}
pytestmark = pytest.mark.databases("sqlite", "postgresql")


@pytest.fixture
def desk(app, runner, tmp_path):
    mask = tmp_path / "dcs.json"
    mask.write_text('{"315257": [[1, 88]], "315259": [[1, 172]], "315264": [[32, 261]]}')
    with app.app_context():
        import_file(mask, "dcs")
        tokens = {
            name: make_token(make_user(name, role))
            for name, role in [
                ("sam", Role.SHIFTER),
                ("sue", Role.SHIFTER),
                ("tom", Role.SHIFTER),
                ("lea", Role.SHIFT_LEADER),
            ]
        }
    result = runner.invoke(args=["tasks", "create", "blind-2018", "--reco", "express", "--double"])
    assert result.exit_code == 0, result.output
    return {"task": int(result.stdout.strip().splitlines()[-1]), "tokens": tokens}


def certify(client, desk, who, run, tracking="good", ranges=(), **extra):
    body = {
        "run_number": run,
        "pixel": "good",
        "strip": "good",
        "tracking": tracking,
        "checklist": CHECKLIST,
        "bad_lumisections": [{"first": a, "last": b, "components": ["tracking"]} for a, b in ranges],
        "comment": "see the tracking plots" if tracking == "bad" or ranges else "",
        **extra,
    }
    return client.post(f"/api/v1/tasks/{desk['task']}/certifications", headers=bearer(desk["tokens"][who]), json=body)


def approve(client, desk, certification_id):
    response = client.post(
        f"/api/v1/certifications/{certification_id}/review",
        headers=bearer(desk["tokens"]["lea"]),
        json={"decision": "approve"},
    )
    assert response.status_code == 200


def test_each_run_takes_two_certifications_from_two_shifters(client, desk):
    first = certify(client, desk, "sam", RUNS[1])
    assert first.status_code == 201 and first.get_json()["copy"] == 1
    again = certify(client, desk, "sam", RUNS[1])
    assert again.status_code == 409 and "you already certified" in again.get_json()["error"]["message"]
    second = certify(client, desk, "sue", RUNS[1], ranges=[(10, 20)])
    assert second.status_code == 201 and second.get_json()["copy"] == 2
    third = certify(client, desk, "tom", RUNS[1])
    assert third.status_code == 409 and "already certified" in third.get_json()["error"]["message"]


def test_the_second_shifter_certifies_blind(client, auth, desk):
    sams = certify(client, desk, "sam", RUNS[1], ranges=[(30, 40)]).get_json()["id"]
    hidden = client.get(f"/api/v1/certifications/{sams}", headers=bearer(desk["tokens"]["sue"]))
    assert hidden.status_code == 403
    auth.login("sue", PASSWORD)
    page = client.get(f"/tasks/{desk['task']}/runs/{RUNS[1]}").get_data(as_text=True)
    assert 'id="certify-form"' in page and 'data-testid="blind"' in page
    assert "30-40" not in page and "Certified by sam" not in page
    assert "30-40" not in client.get(f"/runs/{RUNS[1]}").get_data(as_text=True)
    task_page = client.get(f"/tasks/{desk['task']}").get_data(as_text=True)
    assert f"Certify next run ({RUNS[0]})" in task_page and "certified by another shifter" in task_page
    auth.logout()
    auth.login("lea", PASSWORD)
    leader_page = client.get(f"/tasks/{desk['task']}/runs/{RUNS[1]}").get_data(as_text=True)
    assert "Certified by sam" in leader_page and "30-40" in leader_page


def test_shift_leaders_see_disagreements_kappa_and_overlap(client, auth, desk):
    certify(client, desk, "sam", RUNS[0])
    certify(client, desk, "sue", RUNS[0])
    certify(client, desk, "sam", RUNS[1], ranges=[(11, 20)])
    certify(client, desk, "sue", RUNS[1], tracking="bad", ranges=[(16, 25)])
    certify(client, desk, "sam", RUNS[2])  # only one certification yet: not compared
    auth.login("lea", PASSWORD)
    page = client.get(f"/tasks/{desk['task']}/agreement").get_data(as_text=True)
    assert "2 runs certified twice; 1 with a disagreement." in page
    assert f'data-testid="disagreement-{RUNS[1]}"' in page and f"disagreement-{RUNS[0]}" not in page
    # tracking: (good, good) and (good, bad): observed 1/2, expected (2*1 + 0*1)/4 = 1/2, so kappa 0.
    assert 'data-testid="kappa-tracking">0.00<' in page
    assert 'data-testid="kappa-pixel">n/a<' in page  # every certification says good
    # lumisections 16-20 marked by both, 11-25 by either: 5 of 15.
    assert 'data-testid="overlap">33%<' in page
    auth.logout()
    auth.login("sam", PASSWORD)
    assert client.get(f"/tasks/{desk['task']}/agreement").status_code == 403


def test_the_golden_json_takes_every_approved_certification_into_account(client, desk):
    first = certify(client, desk, "sam", RUNS[1], ranges=[(11, 20)]).get_json()["id"]
    second = certify(client, desk, "sue", RUNS[1], ranges=[(16, 25)]).get_json()["id"]
    approve(client, desk, first)
    golden = client.get(f"/api/v1/tasks/{desk['task']}/golden.json", headers=bearer(desk["tokens"]["lea"]))
    assert golden.get_json() == {str(RUNS[1]): [[1, 10], [21, 172]]}
    approve(client, desk, second)
    golden = client.get(f"/api/v1/tasks/{desk['task']}/golden.json", headers=bearer(desk["tokens"]["lea"]))
    assert golden.get_json() == {str(RUNS[1]): [[1, 10], [26, 172]]}


@given(st.lists(st.tuples(st.sampled_from("gbe"), st.sampled_from("gbe")), min_size=1, max_size=40))
def test_cohen_kappa_matches_scikit_learn(pairs):
    ours = cohen_kappa(pairs)
    first, second = zip(*pairs, strict=True)
    if ours is None:
        assert len(set(first) | set(second)) == 1
    else:
        assert ours == pytest.approx(cohen_kappa_score(first, second))


def test_kappa_of_perfect_and_of_chance_agreement():
    assert cohen_kappa([("good", "good"), ("bad", "bad")]) == 1
    rng = random.Random(3)
    noise = [(rng.choice("gb"), rng.choice("gb")) for _ in range(4000)]
    assert abs(cohen_kappa(noise)) < 0.05
    assert cohen_kappa([]) is None


def test_overlap_of_bad_lumisections():
    assert overlap({1, 2, 3}, {2, 3, 4}) == 0.5
    assert overlap(set(), set()) is None
    assert overlap({1}, set()) == 0
