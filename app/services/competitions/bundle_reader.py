"""Reading a competition bundle: a folder, or a zip opened within its limits, and its ``competition.yaml``.

A zip is never unpacked past its limits: each file at most MAX_DECOMPRESSED_BYTES and all of them
MAX_BUNDLE_BYTES, checked on the sizes the zip declares and counted again while reading, and files are
streamed, never held whole in memory. What cannot be read is Refused; what it says is checked by
``bundle_checks``.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol, Self

import yaml
from flask import current_app

from app.services.errors import Refused

SPEC_NAME = "competition.yaml"
MAX_BUNDLE_MEMBERS = 100
MAX_TEXT_BYTES = 1024 * 1024  # competition.yaml and the overview: text for a page, not data


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


def megabytes(size: int) -> str:
    """A size in whole megabytes, for messages."""
    return f"{size / (1024 * 1024):,.0f} MB"


class _Capped:
    """A zip member's stream that counts what it gives and refuses to give more than limit bytes."""

    def __init__(self, stream: IO[bytes], name: str, limit: int) -> None:
        self.stream, self.name, self.limit, self.size = stream, name, limit, 0

    def read(self, size: int = -1) -> bytes:
        try:
            chunk = self.stream.read(size)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise Refused(f"The zip's file {self.name!r} is damaged: {error}.") from None
        self.size += len(chunk)
        if self.size > self.limit:
            raise Refused(f"{self.name!r} unpacks to more than {megabytes(self.limit)}, the most a file may hold.", 413)
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
        raise Refused(f"Not a bundle folder or zip file: {error}.") from None
    return _from_zip(archive)


def _from_folder(folder: Path) -> Bundle:
    names = {p.name for p in folder.iterdir() if p.is_file()}
    return Bundle(
        _parse_spec(lambda: read_text(lambda: (folder / SPEC_NAME).open("rb"), SPEC_NAME), names),
        lambda n: (folder / n).open("rb"),
        names,
    )


def _check_declared_sizes(members: list[zipfile.ZipInfo]) -> None:
    """Refuse a zip whose files, by its own account, unpack to more than the limits."""
    member_limit, total_limit = current_app.config["MAX_DECOMPRESSED_BYTES"], current_app.config["MAX_BUNDLE_BYTES"]
    problems = [
        f"{m.filename!r} unpacks to {megabytes(m.file_size)}; a file of a bundle may hold at most "
        f"{megabytes(member_limit)}."
        for m in members
        if m.file_size > member_limit
    ]
    total = sum(m.file_size for m in members)
    if total > total_limit:
        problems.append(
            f"The zip unpacks to {megabytes(total)} in all; a bundle may hold at most {megabytes(total_limit)}."
        )
    if problems:
        raise Refused(problems, 413)


def _from_zip(archive: zipfile.ZipFile) -> Bundle:
    members = [m for m in archive.infolist() if not m.is_dir() and "__MACOSX" not in m.filename]
    if len(members) > MAX_BUNDLE_MEMBERS:
        raise Refused(f"The zip holds {len(members)} files; a bundle has at most {MAX_BUNDLE_MEMBERS}.", 413)
    _check_declared_sizes(members)
    # Accept the files at the top of the zip or inside one top-level folder, as zipping a folder gives.
    specs = [m.filename for m in members if m.filename.rsplit("/", 1)[-1] == SPEC_NAME]
    if len(specs) != 1:
        raise Refused(f"The zip must hold exactly one {SPEC_NAME}; it holds {len(specs)}.")
    prefix = specs[0][: -len(SPEC_NAME)]
    by_name = {m.filename[len(prefix) :]: m for m in members if m.filename.startswith(prefix)}
    names = {n for n in by_name if "/" not in n}
    # Counted while read too: the sizes a zip declares are only its own word.
    limit = current_app.config["MAX_DECOMPRESSED_BYTES"]

    def opener(name: str) -> BundleFile:
        return _Capped(archive.open(by_name[name]), name, limit)

    spec = _parse_spec(lambda: read_text(lambda: opener(SPEC_NAME), SPEC_NAME), names)
    return Bundle(spec, opener, names, max_total=current_app.config["MAX_BUNDLE_BYTES"])


def read_text(opener: Callable[[], BundleFile], name: str) -> bytes:
    """A small text file of the bundle, refused (413) past MAX_TEXT_BYTES rather than read whole."""
    with opener() as handle:
        data = handle.read(MAX_TEXT_BYTES + 1)
    if len(data) > MAX_TEXT_BYTES:
        raise Refused(f"{name} is larger than {megabytes(MAX_TEXT_BYTES)}, the most it may hold.", 413)
    return data


def _parse_spec(read: Callable[[], bytes], names: set[str]) -> dict[str, Any]:
    if SPEC_NAME not in names:
        raise Refused(f"The bundle has no {SPEC_NAME}.")
    try:
        spec = yaml.safe_load(read())
    except yaml.YAMLError as error:
        raise Refused(f"{SPEC_NAME} is not valid YAML: {error}") from None
    if not isinstance(spec, dict):
        raise Refused(f"{SPEC_NAME} must be a mapping of settings such as 'slug: my-competition'.")
    return spec
