"""Competition bundles: a folder or zip with ``competition.yaml``, validated whole before anything is written.

Every problem found is reported at once, so an organiser fixes a bundle in one
round; only a bundle without problems reaches storage and the database. A zip is
never unpacked past its limits: each file at most MAX_DECOMPRESSED_BYTES and all
of them MAX_BUNDLE_BYTES, checked on the sizes the zip declares and counted again
while reading, and files are streamed, never held whole in memory.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol, Self

import yaml
from flask import current_app

import scorers
from app.extensions import db
from app.models import Competition, Dataset, DatasetFile, DatasetVersion, FileKind, User
from app.services.storage import get_storage

USAGE = "Usage"

SPEC_NAME = "competition.yaml"
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,98}[a-z0-9]$")
FILE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
MAX_BUNDLE_MEMBERS = 100
LARGEST_SETTING = 2**31 - 1  # the integer settings live in Integer columns, 32 bits on PostgreSQL
MAX_TEXT_BYTES = 1024 * 1024  # competition.yaml and the overview: text for a page, not data
KNOWN_KEYS = {
    "slug",
    "title",
    "overview",
    "metric",
    "metric_params",
    "id_column",
    "target_column",
    "files",
    "solution",
    "public_fraction",
    "split_seed",
    "opens_at",
    "closes_at",
    "daily_limit",
    "total_limit",
    "final_selections",
}


class BundleError(ValueError):
    """A bundle was refused; ``problems`` lists every reason, each a sentence an organiser can act on."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class BundleFile(Protocol):
    """A file of a bundle opened for reading; leaving its with block closes it."""

    def read(self, size: int = -1, /) -> bytes: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, exc_type: Any, exc: Any, traceback: Any, /) -> None: ...


@dataclass
class Bundle:
    """A readable bundle: its spec and a way to open each of its files."""

    spec: dict[str, Any]
    opener: Callable[[str], BundleFile]
    names: set[str]
    problems: list[str] = field(default_factory=list)
    max_total: int | None = None  # bytes its files may unpack to in all (a zip's limit)

    def open(self, name: str) -> BundleFile:
        """Open a file of the bundle for reading."""
        return self.opener(name)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MB"


class _Capped:
    """A zip member's stream that counts what it gives and refuses to give more than limit bytes."""

    def __init__(self, stream: IO[bytes], name: str, limit: int) -> None:
        self.stream, self.name, self.limit, self.size = stream, name, limit, 0

    def read(self, size: int = -1) -> bytes:
        try:
            chunk = self.stream.read(size)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise BundleError([f"The zip's file {self.name!r} is damaged: {error}."]) from None
        self.size += len(chunk)
        if self.size > self.limit:
            raise BundleError(
                [f"{self.name!r} unpacks to more than {_megabytes(self.limit)}, the most a file may hold."]
            )
        return chunk

    def __enter__(self) -> _Capped:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stream.close()


def read_bundle(source: str | Path | BinaryIO) -> Bundle:
    """Open a bundle from a folder, a zip path or a zip stream; refuses what is not a bundle."""
    if isinstance(source, (str, Path)) and Path(source).is_dir():
        return _from_folder(Path(source))
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, FileNotFoundError, IsADirectoryError, OSError) as error:
        raise BundleError([f"Not a bundle folder or zip file: {error}."]) from None
    return _from_zip(archive)


def _from_folder(folder: Path) -> Bundle:
    names = {p.name for p in folder.iterdir() if p.is_file()}
    return Bundle(
        _parse_spec(lambda: _read_text(lambda: (folder / SPEC_NAME).open("rb"), SPEC_NAME), names),
        lambda n: (folder / n).open("rb"),
        names,
    )


def _check_declared_sizes(members: list[zipfile.ZipInfo]) -> None:
    """Refuse a zip whose files, by its own account, unpack to more than the limits."""
    member_limit, total_limit = current_app.config["MAX_DECOMPRESSED_BYTES"], current_app.config["MAX_BUNDLE_BYTES"]
    problems = [
        f"{m.filename!r} unpacks to {_megabytes(m.file_size)}; a file of a bundle may hold at most "
        f"{_megabytes(member_limit)}."
        for m in members
        if m.file_size > member_limit
    ]
    total = sum(m.file_size for m in members)
    if total > total_limit:
        problems.append(
            f"The zip unpacks to {_megabytes(total)} in all; a bundle may hold at most {_megabytes(total_limit)}."
        )
    if problems:
        raise BundleError(problems)


def _from_zip(archive: zipfile.ZipFile) -> Bundle:
    members = [m for m in archive.infolist() if not m.is_dir() and "__MACOSX" not in m.filename]
    if len(members) > MAX_BUNDLE_MEMBERS:
        raise BundleError([f"The zip holds {len(members)} files; a bundle has at most {MAX_BUNDLE_MEMBERS}."])
    _check_declared_sizes(members)
    # Accept the files at the top of the zip or inside one top-level folder, as zipping a folder gives.
    specs = [m.filename for m in members if m.filename.rsplit("/", 1)[-1] == SPEC_NAME]
    if len(specs) != 1:
        raise BundleError([f"The zip must hold exactly one {SPEC_NAME}; it holds {len(specs)}."])
    prefix = specs[0][: -len(SPEC_NAME)]
    by_name = {m.filename[len(prefix) :]: m for m in members if m.filename.startswith(prefix)}
    names = {n for n in by_name if "/" not in n}
    # Counted while read too: the sizes a zip declares are only its own word.
    limit = current_app.config["MAX_DECOMPRESSED_BYTES"]

    def opener(name: str) -> BundleFile:
        return _Capped(archive.open(by_name[name]), name, limit)

    spec = _parse_spec(lambda: _read_text(lambda: opener(SPEC_NAME), SPEC_NAME), names)
    return Bundle(spec, opener, names, max_total=current_app.config["MAX_BUNDLE_BYTES"])


def _read_text(opener: Callable[[], BundleFile], name: str) -> bytes:
    """A small text file of the bundle, refused past MAX_TEXT_BYTES rather than read whole."""
    with opener() as handle:
        data = handle.read(MAX_TEXT_BYTES + 1)
    if len(data) > MAX_TEXT_BYTES:
        raise BundleError([f"{name} is larger than {_megabytes(MAX_TEXT_BYTES)}, the most it may hold."])
    return data


def _parse_spec(read: Callable[[], bytes], names: set[str]) -> dict[str, Any]:
    if SPEC_NAME not in names:
        raise BundleError([f"The bundle has no {SPEC_NAME}."])
    try:
        spec = yaml.safe_load(read())
    except yaml.YAMLError as error:
        raise BundleError([f"{SPEC_NAME} is not valid YAML: {error}"]) from None
    if not isinstance(spec, dict):
        raise BundleError([f"{SPEC_NAME} must be a mapping of settings such as 'slug: my-competition'."])
    return spec


def _timestamp(value: Any, key: str, problems: list[str]) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"{key} {value!r} is not a date and time such as 2026-12-31T23:59:59Z.")
            return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _integer(spec: dict, key: str, default: int | None, minimum: int, problems: list[str]) -> int | None:
    value = spec.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= LARGEST_SETTING:
        problems.append(f"{key} must be a whole number from {minimum} to {LARGEST_SETTING}, not {value!r}.")
        return None
    return value


def validate(bundle: Bundle) -> dict[str, Any]:
    """Check the whole bundle; returns the competition settings, or raises BundleError listing every problem."""
    spec, problems = bundle.spec, []
    unknown = sorted(set(spec) - KNOWN_KEYS)
    if unknown:
        problems.append(
            f"Unknown settings in {SPEC_NAME}: {', '.join(unknown)} (known: {', '.join(sorted(KNOWN_KEYS))})."
        )
    slug = str(spec.get("slug", ""))
    if not SLUG_PATTERN.match(slug):
        problems.append(f"slug {slug!r} must be 3 to 100 lowercase letters, digits and dashes, like ls-anomaly-2018.")
    elif db.session.execute(db.select(Competition.id).where(Competition.slug == slug)).first():
        problems.append(f"A competition with the slug {slug!r} already exists.")
    elif db.session.execute(db.select(Dataset.id).where(Dataset.slug == slug)).first():
        problems.append(f"A dataset with the slug {slug!r} already exists: choose another slug.")
    title = str(spec.get("title") or "").strip()
    if not title:
        problems.append("title is missing.")
    elif len(title) > 200:
        problems.append(f"title has {len(title)} characters; a title has at most 200.")
    for key in ("id_column", "target_column"):
        if spec.get(key) is not None and (not isinstance(spec[key], str) or not 0 < len(spec[key]) <= 100):
            problems.append(f"{key} must be a column name of 1 to 100 characters, not {str(spec[key])[:120]!r}.")
    metric_name = spec.get("metric")
    scorer = None
    try:
        scorer = scorers.get(str(metric_name), **(spec.get("metric_params") or {}))
    except (KeyError, ValueError, TypeError) as error:
        problems.append(f"metric: {error}")

    files = spec.get("files") or []
    if not isinstance(files, list) or not files:
        problems.append("files must list the public files researchers download, e.g. [train.csv, test.csv].")
        files = []
    solution = spec.get("solution")
    if not solution:
        problems.append("solution is missing: name the hidden file with the true targets.")
    for name in [*files, *([solution] if solution else [])]:
        if not isinstance(name, str) or not FILE_NAME_PATTERN.match(name):
            problems.append(f"File name {name!r} must be a plain file name without folders.")
        elif name not in bundle.names:
            problems.append(f"The bundle has no file {name!r}.")
    if solution in files:
        problems.append(f"The solution {solution!r} must not also be a public file.")
    overview = spec.get("overview")
    if overview is not None and overview not in bundle.names:
        problems.append(f"The bundle has no overview file {overview!r}.")

    opens_at = _timestamp(spec.get("opens_at"), "opens_at", problems)
    closes_at = _timestamp(spec.get("closes_at"), "closes_at", problems)
    if opens_at and closes_at and closes_at <= opens_at:
        problems.append("closes_at must come after opens_at.")
    fraction = spec.get("public_fraction", 0.3)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction <= 1:
        problems.append(f"public_fraction must be a number between 0 and 1, not {fraction!r}.")
    settings = {
        "slug": slug,
        "title": title,
        "metric": metric_name,
        "metric_params": spec.get("metric_params") or {},
        "id_column": str(spec.get("id_column") or "id"),
        "target_column": spec.get("target_column"),
        "files": files,
        "solution": solution,
        "overview_file": overview,
        "public_fraction": float(fraction) if isinstance(fraction, (int, float)) else 0.3,
        "split_seed": _integer(spec, "split_seed", 0, 0, problems),
        "opens_at": opens_at,
        "closes_at": closes_at,
        "daily_limit": _integer(spec, "daily_limit", 5, 1, problems),
        "total_limit": _integer(spec, "total_limit", None, 1, problems),
        "final_selections": _integer(spec, "final_selections", 2, 1, problems),
    }
    if scorer is not None and solution in bundle.names and not problems:
        check_solution(bundle, settings, scorer, problems)
    if not problems:
        problems += split_clashes(settings, "use another solution file, or drop its Usage column")
    if problems:
        raise BundleError(problems)
    return settings


def check_solution(bundle: Bundle, settings: dict, scorer: scorers.Scorer, problems: list[str]) -> None:
    """The solution must load as the scorer will load it, and the sample submission must pass against it."""
    max_bytes = current_app.config["MAX_DECOMPRESSED_BYTES"]
    try:
        with bundle.open(settings["solution"]) as handle:
            hashing = _Hashing(handle)
            table = scorers.read_table(
                hashing, what="solution", text_columns=[settings["id_column"]], max_bytes=max_bytes
            )
        solution = scorers.Solution.from_table(
            table,
            id_column=settings["id_column"],
            target_column=settings["target_column"],
            public_fraction=settings["public_fraction"],
            split_seed=settings["split_seed"],
        )
        scorer.check_solution(solution)
    except scorers.ValidationError as error:
        problems.append(f"solution {settings['solution']!r}: {error}")
        return
    settings["solution_sha256"] = hashing.hexdigest()
    settings["solution_usage"] = USAGE in table.column_names
    settings["target_column"] = solution.target_column
    sample = next((n for n in settings["files"] if n.startswith("sample_submission")), None)
    settings["sample_submission"] = sample
    if sample:
        try:
            with bundle.open(sample) as handle:
                scorer.score(solution, scorers.read_submission(handle, solution, max_bytes=max_bytes))
        except scorers.ValidationError as error:
            problems.append(f"{sample!r} would be refused as a submission: {error}")


class _Hashing:
    """A reader that hashes what is read through it: the solution's sha256 without a second pass."""

    def __init__(self, stream: BundleFile) -> None:
        self.stream, self.digest = stream, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.digest.update(chunk)
        return chunk

    def hexdigest(self) -> str:
        """The sha256 of everything read so far."""
        return self.digest.hexdigest()


def split_clashes(settings: dict, change: str) -> list[str]:
    """Competitions already scoring the same solution file (by sha256) with the same public/private split.

    Every private board is revealed some day, so a second competition on the same split would reveal the
    private scores of the first, or the first those of the second. A solution with a Usage column fixes its
    split itself, whatever the fraction and seed; otherwise the fraction and the seed make the split.
    """
    if "solution_sha256" not in settings:
        return []
    same_file = db.session.execute(
        db.select(Competition)
        .join(DatasetFile, DatasetFile.id == Competition.solution_file_id)
        .where(DatasetFile.sha256 == settings["solution_sha256"])
        .order_by(Competition.id)
    ).scalars()
    problems = []
    for other in same_file:
        if settings["solution_usage"]:
            problems.append(
                f"The competition {other.slug!r} already scores this solution, whose Usage column fixes the "
                f"public and private split: its private board would reveal this one's, and the other way "
                f"round. To build another competition, {change}."
            )
        elif other.public_fraction == settings["public_fraction"] and other.split_seed == settings["split_seed"]:
            problems.append(
                f"The competition {other.slug!r} already scores this solution with public_fraction "
                f"{other.public_fraction:g} and split_seed {other.split_seed}: its private board would reveal "
                "this one's. Choose another split_seed (or public_fraction)."
            )
    return problems


def import_bundle(source: str | Path | BinaryIO, *, created_by: User | None = None) -> Competition:
    """Validate a bundle and, if it holds, store its files and create the competition; returns it, committed."""
    bundle = read_bundle(source)
    settings = validate(bundle)
    overview = ""
    if settings["overview_file"]:
        text = _read_text(lambda: bundle.open(settings["overview_file"]), settings["overview_file"])
        overview = text.decode("utf-8", errors="replace")

    dataset = Dataset(slug=settings["slug"], title=settings["title"], created_by_id=created_by and created_by.id)
    version = DatasetVersion(dataset=dataset, number=1, notes="Imported from a competition bundle.")
    storage, stored_keys, stored_bytes = get_storage(), [], 0
    try:
        for position, (name, kind) in enumerate(
            [*((n, FileKind.PUBLIC) for n in settings["files"]), (settings["solution"], FileKind.SOLUTION)]
        ):
            key = f"{version.storage_prefix}/{kind.value}/{name}"
            with bundle.open(name) as handle:
                stored = storage.put(key, handle)
            stored_keys.append(key)
            stored_bytes += stored.size
            if bundle.max_total is not None and stored_bytes > bundle.max_total:
                limit = _megabytes(bundle.max_total)
                raise BundleError([f"The bundle's files unpack to more than {limit} in all, the most accepted."])
            version.files.append(
                DatasetFile(
                    kind=kind,
                    name=name,
                    position=position,
                    storage_key=key,
                    size=stored.size,
                    sha256=stored.sha256,
                )
            )
        competition = Competition(
            slug=settings["slug"],
            title=settings["title"],
            overview=overview,
            dataset_version=version,
            solution_file=version.files[-1],
            sample_submission=settings.get("sample_submission"),
            metric=settings["metric"],
            metric_params=settings["metric_params"],
            id_column=settings["id_column"],
            target_column=settings["target_column"],
            public_fraction=settings["public_fraction"],
            split_seed=settings["split_seed"],
            opens_at=settings["opens_at"],
            closes_at=settings["closes_at"],
            daily_limit=settings["daily_limit"],
            total_limit=settings["total_limit"],
            final_selections=settings["final_selections"],
            created_by_id=created_by and created_by.id,
        )
        db.session.add_all([dataset, competition])
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for key in stored_keys:
            storage.delete(key)
        raise
    return competition
