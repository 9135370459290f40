"""Competition bundles: a valid one becomes a competition; a bad one changes nothing and says why."""

import hashlib
import shutil
import struct
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from app.extensions import db
from app.models import Competition, Dataset, DatasetFile, FileKind
from app.services.competitions.bundles import import_bundle
from app.services.errors import Refused
from app.services.storage import get_storage
from tests.helpers import write_bundle


def _stored_files(app) -> list:
    root = get_storage().root
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_valid_bundle_becomes_a_competition_with_hashed_files(app, tmp_path):
    folder, *_ = write_bundle(tmp_path / "b", spec={"closes_at": "2030-01-01T00:00:00Z", "total_limit": 50})
    with app.app_context():
        competition = import_bundle(folder)
        assert competition.slug == "test-comp" and competition.metric == "roc_auc"
        assert competition.closes_at.isoformat() == "2030-01-01T00:00:00+00:00"
        assert (competition.daily_limit, competition.total_limit, competition.final_selections) == (5, 50, 2)
        assert competition.sample_submission == "sample_submission.csv"
        assert "Find the **bad** lumisections." in competition.overview
        files = {f.name: f for f in competition.dataset_version.files}
        assert [f.name for f in competition.dataset_version.public_files] == [
            "train.csv",
            "test.csv",
            "sample_submission.csv",
        ]
        assert files["solution.csv"].kind is FileKind.SOLUTION and competition.solution_file.name == "solution.csv"
        for name, row in files.items():
            data = (folder / name).read_bytes()
            assert row.sha256 == hashlib.sha256(data).hexdigest() and row.size == len(data)
            with get_storage().open(row.storage_key) as handle:
                assert handle.read() == data
        assert "/solution/" in files["solution.csv"].storage_key and "/public/" in files["test.csv"].storage_key


def test_zip_of_a_folder_imports_too(app, tmp_path):
    _folder, *_ = write_bundle(tmp_path / "my-bundle")
    archive = shutil.make_archive(str(tmp_path / "bundle"), "zip", root_dir=tmp_path, base_dir="my-bundle")
    with app.app_context():
        assert import_bundle(archive).slug == "test-comp"


def _spec_edit(folder, **changes):
    spec = yaml.safe_load((folder / "competition.yaml").read_text())
    spec.update(changes)
    (folder / "competition.yaml").write_text(yaml.safe_dump(spec))


BAD_BUNDLES = {
    "unknown metric": (lambda f: _spec_edit(f, metric="accuracy_of_vibes"), "accuracy_of_vibes"),
    "missing file": (lambda f: (f / "test.csv").unlink(), "The bundle has no file 'test.csv'."),
    "duplicated solution ids": (
        lambda f: pd.concat([pd.read_csv(f / "solution.csv")] * 2).to_csv(f / "solution.csv", index=False),
        "ls00200",
    ),
    "unparsable date": (
        lambda f: _spec_edit(f, closes_at="next tuesday"),
        "closes_at 'next tuesday' is not a date",
    ),
    "close before open": (
        lambda f: _spec_edit(f, opens_at="2026-05-01T00:00:00Z", closes_at="2026-04-01T00:00:00Z"),
        "closes_at must come after opens_at.",
    ),
    "typo in a setting": (
        lambda f: _spec_edit(f, daily_limt=3),
        "Unknown settings in competition.yaml: daily_limt",
    ),
    "bad slug": (lambda f: _spec_edit(f, slug="Not A Slug!"), "slug 'Not A Slug!' must be"),
    "solution made public": (
        lambda f: _spec_edit(f, files=["train.csv", "solution.csv"]),
        "must not also be a public file",
    ),
    "zero daily limit": (
        lambda f: _spec_edit(f, daily_limit=0),
        "daily_limit must be a whole number from 1 to 2147483647, not 0.",
    ),
    **{
        f"{key} beyond a database integer": (
            lambda f, key=key: _spec_edit(f, **{key: 2**70}),
            f"{key} must be a whole number from {minimum} to 2147483647, not {2**70}.",
        )
        for key, minimum in (("split_seed", 0), ("daily_limit", 1), ("total_limit", 1), ("final_selections", 1))
    },
}


@pytest.mark.parametrize("case", list(BAD_BUNDLES))
def test_bad_bundle_is_refused_whole_and_leaves_nothing(app, tmp_path, case):
    folder, *_ = write_bundle(tmp_path / "b")
    break_it, expected = BAD_BUNDLES[case]
    break_it(folder)
    with app.app_context():
        with pytest.raises(Refused) as refused:
            import_bundle(folder)
        assert expected in str(refused.value)
        for model in (Competition, Dataset, DatasetFile):
            assert db.session.execute(db.select(model)).first() is None
        assert _stored_files(app) == []


def test_every_problem_is_listed_at_once(app, tmp_path):
    folder, *_ = write_bundle(tmp_path / "b", spec={"metric": "nope", "daily_limit": -1})
    (folder / "train.csv").unlink()
    with app.app_context(), pytest.raises(Refused) as refused:
        import_bundle(folder)
    assert len(refused.value.problems) == 3


def test_taken_slug_is_refused(app, tmp_path):
    first, *_ = write_bundle(tmp_path / "a")
    second, *_ = write_bundle(tmp_path / "b")
    with app.app_context():
        import_bundle(first)
        with pytest.raises(Refused, match="already exists"):
            import_bundle(second)


def test_not_a_zip_is_refused(app, tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"definitely not a zip")
    with app.app_context(), pytest.raises(Refused, match="Not a bundle"):
        import_bundle(junk)


def test_zip_without_spec_is_refused(app, tmp_path):
    path = tmp_path / "empty.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("train.csv", "id,x\n")
    with app.app_context(), pytest.raises(Refused, match=r"exactly one competition\.yaml"):
        import_bundle(path)


def test_cli_import_prints_the_slug_last(app, runner, tmp_path):
    folder, *_ = write_bundle(tmp_path / "b")
    result = runner.invoke(args=["competitions", "import", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "test-comp"


def test_cli_import_lists_the_problems(app, runner, tmp_path):
    folder, *_ = write_bundle(tmp_path / "b", spec={"metric": "nope"})
    result = runner.invoke(args=["competitions", "import", str(folder)])
    assert result.exit_code != 0
    assert "the bundle was refused" in result.output and "nope" in result.output


def _same_solution(first, second, **spec):
    """A second bundle of another slug whose solution file is byte for byte the first's."""
    write_bundle(second, spec={"slug": "second-comp", **spec})
    shutil.copyfile(first / "solution.csv", second / "solution.csv")
    return second


def test_a_solution_with_usage_serves_one_competition_whatever_the_seed(app, runner, tmp_path):
    """Its Usage column fixes the split: a second competition's private board would reveal the first's."""
    first, *_ = write_bundle(tmp_path / "first", solution_usage=True)
    second = _same_solution(first, tmp_path / "second", split_seed=99, public_fraction=0.2)
    with app.app_context():
        import_bundle(first)
        with pytest.raises(Refused) as refused:
            import_bundle(second)
        assert db.session.execute(db.select(db.func.count(Competition.id))).scalar_one() == 1
    (problem,) = refused.value.problems
    assert "'test-comp' already scores this solution" in problem and "Usage column" in problem
    assert "use another solution file" in problem
    result = runner.invoke(args=["competitions", "import", str(second)])
    assert result.exit_code != 0 and "'test-comp' already scores this solution" in result.output


def test_a_solution_without_usage_serves_another_competition_only_with_another_split(app, tmp_path):
    first, *_ = write_bundle(tmp_path / "first", spec={"split_seed": 3, "public_fraction": 0.5})
    same_split = _same_solution(first, tmp_path / "same", split_seed=3, public_fraction=0.5)
    other_split = _same_solution(first, tmp_path / "other", split_seed=4, public_fraction=0.5)
    with app.app_context():
        import_bundle(first)
        with pytest.raises(Refused) as refused:
            import_bundle(same_split)
        assert "public_fraction 0.5 and split_seed 3" in refused.value.problems[0]
        assert "Choose another split_seed" in refused.value.problems[0]
        assert import_bundle(other_split).slug == "second-comp"


MB = 1024 * 1024


def _zipped(tmp_path, **sizes: int):
    """A bundle zip whose named files are replaced by that many bytes of zeros (a few KB once compressed)."""
    folder, *_ = write_bundle(tmp_path / "big")
    for name, size in sizes.items():
        with (folder / name.replace("_", ".")).open("wb") as handle:
            for _ in range(size // MB):
                handle.write(bytes(MB))
    return Path(shutil.make_archive(str(tmp_path / "bundle"), "zip", root_dir=folder))


def _nothing_imported(app) -> bool:
    return _stored_files(app) == [] and db.session.execute(db.select(Competition)).first() is None


@pytest.mark.parametrize("name", ["train_csv", "solution_csv"])
def test_a_file_that_unpacks_past_the_limit_is_refused_before_it_is_read(app, tmp_path, name):
    archive = _zipped(tmp_path, **{name: 6 * MB})
    assert archive.stat().st_size < MB
    with app.app_context():
        app.config["MAX_DECOMPRESSED_BYTES"] = 5 * MB
        with pytest.raises(Refused) as refused:
            import_bundle(archive)
        assert f"'{name.replace('_', '.')}' unpacks to 6 MB; a file of a bundle may hold at most 5 MB." in str(
            refused.value
        )
        assert _nothing_imported(app)


def test_files_that_unpack_past_the_bundle_limit_together_are_refused(app, tmp_path):
    archive = _zipped(tmp_path, train_csv=3 * MB, test_csv=3 * MB)
    with app.app_context():
        app.config["MAX_BUNDLE_BYTES"] = 5 * MB
        with pytest.raises(Refused, match="The zip unpacks to 6 MB in all; a bundle may hold at most 5 MB"):
            import_bundle(archive)
        assert _nothing_imported(app)


def _declare_size(archive: Path, name: str, size: int) -> None:
    """Make the zip say that its member unpacks to size bytes, whatever it really holds."""
    data = bytearray(archive.read_bytes())
    for signature, size_at, name_length_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        start = data.find(signature)
        while start >= 0:
            (length,) = struct.unpack_from("<H", data, start + name_length_at)
            if data[start + name_at : start + name_at + length] == name.encode():
                struct.pack_into("<I", data, start + size_at, size)
            start = data.find(signature, start + 4)
    archive.write_bytes(bytes(data))


def test_a_zip_that_lies_about_its_sizes_is_refused_and_leaves_nothing(app, tmp_path):
    archive = _zipped(tmp_path, train_csv=6 * MB)
    _declare_size(archive, "train.csv", 1000)
    with app.app_context():
        app.config["MAX_DECOMPRESSED_BYTES"] = 5 * MB
        with pytest.raises(Refused, match=r"'train\.csv' is damaged"):
            import_bundle(archive)
        assert _nothing_imported(app)


def test_an_overview_past_a_megabyte_is_refused(app, tmp_path):
    folder, *_ = write_bundle(tmp_path / "b")
    (folder / "overview.md").write_text("# Overview\n" + "words " * 200_000)
    with app.app_context():
        with pytest.raises(Refused, match=r"overview\.md is larger than 1 MB"):
            import_bundle(folder)
        assert _nothing_imported(app)


@pytest.mark.databases("sqlite", "postgresql")
@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ({"title": "t" * 201}, "title has 201 characters; a title has at most 200."),
        ({"id_column": "i" * 101}, "id_column must be a column name of 1 to 100 characters"),
        ({"target_column": ["label"]}, "target_column must be a column name of 1 to 100 characters"),
    ],
)
def test_text_settings_longer_than_their_columns_are_refused(app, tmp_path, setting, expected):
    folder, *_ = write_bundle(tmp_path / "b")
    _spec_edit(folder, **setting)
    with app.app_context():
        with pytest.raises(Refused) as refused:
            import_bundle(folder)
        assert expected in str(refused.value)
        assert db.session.execute(db.select(Competition)).first() is None
        assert _stored_files(app) == []
