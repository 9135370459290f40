"""Reading a bundle: a folder or a zip, its members within their limits, competition.yaml parsed."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.services.competitions import bundle_reader
from app.services.errors import Refused
from tests.helpers import write_bundle


def zipped(folder) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    buffer.seek(0)
    return buffer


def test_a_folder_and_its_zip_read_the_same(app, tmp_path):
    folder, *_ = write_bundle(tmp_path / "bundle")
    with app.app_context():
        from_folder = bundle_reader.read_bundle(folder)
        from_zip = bundle_reader.read_bundle(zipped(folder))
    assert from_folder.names == from_zip.names
    assert from_folder.spec == from_zip.spec and from_zip.spec["metric"]
    with app.app_context():
        assert from_zip.open("overview.md").read() == (folder / "overview.md").read_bytes()


def test_a_zip_without_competition_yaml_is_refused_by_name(app, tmp_path):
    folder, *_ = write_bundle(tmp_path / "bundle")
    (folder / bundle_reader.SPEC_NAME).unlink()
    with app.app_context(), pytest.raises(Refused, match=r"competition\.yaml"):
        bundle_reader.read_bundle(zipped(folder))


def test_a_zip_of_too_many_members_is_refused_before_reading_them(app, tmp_path):
    folder, *_ = write_bundle(tmp_path / "bundle")
    for number in range(bundle_reader.MAX_BUNDLE_MEMBERS):
        (folder / f"extra{number}.txt").write_text("x")
    with app.app_context(), pytest.raises(Refused, match=f"at most {bundle_reader.MAX_BUNDLE_MEMBERS}"):
        bundle_reader.read_bundle(zipped(folder))


def test_what_is_not_a_bundle_is_refused(app, tmp_path):
    with app.app_context(), pytest.raises(Refused, match="Not a bundle"):
        bundle_reader.read_bundle(io.BytesIO(b"not a zip at all"))
