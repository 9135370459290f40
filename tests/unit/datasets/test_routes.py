"""The pages of a dataset laid out by run and lumisection: labels on the train side, hidden on the test side."""

from __future__ import annotations

import io

import pytest

from app.extensions import db
from app.models import Dataset, DatasetFile, DatasetVersion, FileKind
from app.services.storage import get_storage

SLUG = "tracker-ls"
TRAIN = "run_number,lumisection,pileup,label\n" + "".join(f"100,{n},30,{int(n in (2, 3))}\n" for n in range(1, 6))
TEST = "run_number,lumisection,pileup\n" + "".join(f"200,{n},31\n" for n in range(1, 6))


@pytest.fixture
def dataset(app):
    """A published version: run 100 on the train side (lumisections 2-3 bad), run 200 on the test side."""
    with app.app_context():
        version = DatasetVersion(dataset=Dataset(slug=SLUG, title="Tracker lumisections"), number=1)
        for position, (name, content) in enumerate((("train.csv", TRAIN), ("test.csv", TEST))):
            key = f"{version.storage_prefix}/public/{name}"
            stored = get_storage().put(key, io.BytesIO(content.encode()))
            version.files.append(
                DatasetFile(
                    kind=FileKind.PUBLIC,
                    name=name,
                    position=position,
                    storage_key=key,
                    size=stored.size,
                    sha256=stored.sha256,
                )
            )
        db.session.add(version)
        db.session.commit()
    return f"/datasets/{SLUG}/v1/runs"


def test_a_test_lumisection_says_its_label_is_hidden(client, dataset):
    page = client.get(f"{dataset}/200/ls/3")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="label">label hidden: a test lumisection<' in html
    assert f"{dataset}/100/ls/1" in html  # compared with the first lumisection labelled good


def test_the_test_run_page_leads_to_its_lumisections_without_labels(client, dataset):
    html = client.get(f"{dataset}/200").get_data(as_text=True)
    assert "labels hidden (test side)" in html
    opened = client.get(f"{dataset}/200/ls?ls=1")
    assert opened.status_code == 302 and client.get(opened.headers["Location"]).status_code == 200


@pytest.mark.parametrize(("lumisection", "label", "reference"), [(2, "bad", 1), (4, "good", 5)])
def test_a_train_lumisection_shows_its_label_beside_the_nearest_good_one(
    client, dataset, lumisection, label, reference
):
    html = client.get(f"{dataset}/100/ls/{lumisection}").get_data(as_text=True)
    assert f'data-testid="label">{label}<' in html
    assert f'href="{dataset}/100/ls/{reference}">100:{reference}</a>, the nearest lumisection labelled good' in html
