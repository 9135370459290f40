"""File storage behind one interface: a local folder or an S3-compatible bucket, chosen by URL.

Keys are relative, slash-separated paths such as ``datasets/3/train.csv``. Every
write computes the SHA-256 and size of what it stored while streaming, so callers
record provenance without reading a file twice. The S3 backend and its presigned
URLs live in ``storage_s3``.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import os
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, TypeGuard
from urllib.parse import unquote, urlparse

from scorers.io import Readable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, scoped_session

CHUNK_SIZE = 1024 * 1024


class InvalidKey(ValueError):
    """A storage key that could escape its prefix or confuse a backend."""


class StorageError(RuntimeError):
    """The store could not complete an operation."""


@dataclass(frozen=True)
class StoredFile:
    """What a write stored: its key, size in bytes and SHA-256 hex digest."""

    key: str
    size: int
    sha256: str


def validate_key(key: str) -> str:
    """Return the key if it is a safe relative path, else raise InvalidKey saying why."""
    if not isinstance(key, str) or not key:
        raise InvalidKey("a storage key must be a non-empty string")
    if any(unicodedata.category(ch) == "Cc" for ch in key):
        raise InvalidKey(f"storage key {key!r} contains control characters")
    if key.startswith("/") or "\\" in key or (len(key) > 1 and key[1] == ":"):
        raise InvalidKey(f"storage key {key!r} must be a relative path with forward slashes")
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise InvalidKey(f"storage key {key!r} must not contain empty, '.' or '..' segments")
    if len(key) > 900:
        raise InvalidKey("storage key is longer than 900 characters")
    return key


def _hashing_chunks(stream: Readable, digest: hashlib._Hash, limit: int | None) -> Iterator[bytes]:
    total = 0
    while chunk := stream.read(CHUNK_SIZE):
        total += len(chunk)
        if limit is not None and total > limit:
            raise StorageError(f"the file is larger than {limit} bytes")
        digest.update(chunk)
        yield chunk


class Storage(Protocol):
    """What every storage backend offers.

    A backend whose files a client cannot fetch straight (``download_url`` gives None) has them on this machine:
    ``local_path`` is where the web process streams them from.
    """

    def put(self, key: str, stream: Readable, *, max_size: int | None = None) -> StoredFile: ...
    def open(self, key: str) -> BinaryIO: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int: ...
    def download_url(self, key: str, *, expires_in: int = 300, filename: str | None = None) -> str | None: ...
    def read_range(self, key: str, start: int, length: int) -> bytes: ...
    def local_path(self, key: str) -> Path: ...


@dataclass(frozen=True)
class PresignedPut:
    """A URL to PUT bytes to, and the headers the PUT must carry (signed into the URL: the store checks them)."""

    url: str
    headers: dict[str, str]


class DirectUploads(Protocol):
    """What a backend offers when clients can upload to it straight, through presigned URLs."""

    def presigned_put(
        self, key: str, *, size: int, expires_in: int, sha256: str | None = None, crc32: str | None = None
    ) -> PresignedPut: ...
    def start_multipart(self, key: str, *, crc32_parts: bool = False) -> str: ...
    def presigned_part(
        self, key: str, multipart_id: str, number: int, *, size: int, expires_in: int, crc32: str | None = None
    ) -> PresignedPut: ...
    def complete_multipart(self, key: str, multipart_id: str) -> None: ...
    def abort_multipart(self, key: str, multipart_id: str) -> None: ...


class DirectUploadStorage(Storage, DirectUploads, Protocol):
    """A backend that stores files and also takes them from clients straight."""


def accepts_direct_uploads(storage: Storage) -> TypeGuard[DirectUploadStorage]:
    """Whether clients can upload to this backend themselves (S3), rather than through the web process."""
    return getattr(storage, "direct_uploads", False)


class FileSystemStorage:
    """Files under a root folder; the embedded default."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        if self.root not in path.parents:
            raise InvalidKey(f"storage key {key!r} resolves outside the storage root")
        return path

    def put(self, key: str, stream: Readable, *, max_size: int | None = None) -> StoredFile:
        """Write the stream under key atomically: readers see the old file or the whole new one."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                for chunk in _hashing_chunks(stream, digest, max_size):
                    tmp.write(chunk)
                    size += len(chunk)
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return StoredFile(key, size, digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        """Open the stored file for reading."""
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise FileNotFoundError(f"no stored file {key!r}") from None

    def delete(self, key: str) -> None:
        """Remove the file; deleting a missing key is not an error."""
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        """Whether a file is stored under key."""
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        """Size in bytes of the stored file."""
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise FileNotFoundError(f"no stored file {key!r}") from None

    def download_url(self, key: str, *, expires_in: int = 300, filename: str | None = None) -> str | None:
        """None: local files are streamed by the web process itself."""
        self._path(key)
        return None

    def read_range(self, key: str, start: int, length: int) -> bytes:
        """At most length bytes of the file from offset start."""
        with self.open(key) as handle:
            handle.seek(start)
            return handle.read(length)

    def local_path(self, key: str) -> Path:
        """The file's path on this machine, for streaming with HTTP ranges."""
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(f"no stored file {key!r}")
        return path


WHOLE_READ = 4 * 1024 * 1024  # a stored file this small is fetched in one request rather than in ranges
RANGE_GAP = 256 * 1024  # ranges to fetch closer than this are fetched as one


class RangedFile(io.RawIOBase):
    """A stored file read in byte ranges (HTTP Range GETs on S3): a seekable, read-only file object, so that
    ``pyarrow.parquet.ParquetFile`` reads a file's footer and the column chunks it needs, never the whole file.

    Ranges read are kept; ``prefetch`` fetches many at once, in parallel, so that reading one column of every
    row group costs a few round trips rather than one per row group.
    """

    def __init__(self, storage: Storage, key: str, size: int | None = None) -> None:
        super().__init__()
        self.storage, self.key = storage, key
        self._size = storage.size(key) if size is None else size
        self._position = 0
        self._starts: list[int] = []  # sorted starts of the blocks fetched
        self._blocks: dict[int, bytes] = {}

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def size(self) -> int:
        """The file's length in bytes."""
        return self._size

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        end = self._size if size is None or size < 0 else min(self._size, self._position + size)
        if end <= self._position:
            return b""
        data = self._cached(self._position, end) or self._fetch(self._position, end)
        self._position = end
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self.read(-1)

    def _cached(self, start: int, end: int) -> bytes | None:
        """The bytes start..end if one block fetched holds them all."""
        i = bisect.bisect_right(self._starts, start) - 1
        if i < 0:
            return None
        block_start = self._starts[i]
        block = self._blocks[block_start]
        if end > block_start + len(block):
            return None
        return block[start - block_start : end - block_start]

    def _fetch(self, start: int, end: int) -> bytes:
        data = self.storage.read_range(self.key, start, end - start)
        self._keep(start, data)
        return data

    def _keep(self, start: int, data: bytes) -> None:
        if start not in self._blocks:
            bisect.insort(self._starts, start)
        self._blocks[start] = data

    def prefetch(self, ranges: Sequence[tuple[int, int]], *, workers: int = 8) -> None:
        """Fetch the byte ranges (start, end) ahead of reading them: neighbours merged, the rest in parallel."""
        merged: list[list[int]] = []
        for start, end in sorted(ranges):
            start, end = max(0, start), min(self._size, end)
            if end <= start:
                continue
            if merged and start - merged[-1][1] <= RANGE_GAP:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        wanted = [(start, end) for start, end in merged if self._cached(start, end) is None]
        if len(wanted) <= 1:
            for start, end in wanted:
                self._fetch(start, end)
            return
        with ThreadPoolExecutor(max_workers=min(workers, len(wanted))) as pool:
            fetched = list(pool.map(lambda r: self.storage.read_range(self.key, r[0], r[1] - r[0]), wanted))
        for (start, _), data in zip(wanted, fetched, strict=True):
            self._keep(start, data)


def open_ranged(storage: Storage, key: str, size: int | None = None) -> BinaryIO:
    """A stored file to read parts of: the file itself when local, all of it when small, else a RangedFile."""
    if isinstance(storage, FileSystemStorage):
        return storage.open(key)
    size = storage.size(key) if size is None else size
    if size <= WHOLE_READ:
        return io.BytesIO(storage.read_range(key, 0, size))
    return RangedFile(storage, key, size)  # type: ignore[return-value]


def _file_backend(url, endpoints: dict[str, str | None]) -> Storage:
    return FileSystemStorage(unquote(url.path))


def _s3_backend(url, endpoints: dict[str, str | None]) -> Storage:
    from app.services.storage_s3 import S3Storage

    if not url.netloc:
        raise ValueError("STORAGE_URL s3://bucket/prefix needs a bucket name")
    return S3Storage(url.netloc, unquote(url.path), **endpoints)


BACKENDS: dict[str, Callable[..., Storage]] = {"file": _file_backend, "s3": _s3_backend}


def storage_from_url(
    storage_url: str, *, endpoint_url: str | None = None, public_endpoint_url: str | None = None
) -> Storage:
    """The backend a STORAGE_URL names: ``file:///abs/path`` or ``s3://bucket/prefix``.

    For S3, endpoint_url is where the platform reaches the store and public_endpoint_url
    (when it differs) where its presigned URLs send clients.
    """
    url = urlparse(storage_url)
    if url.scheme not in BACKENDS:
        raise ValueError(f"STORAGE_URL scheme {url.scheme!r} is not one of {', '.join(sorted(BACKENDS))}")
    return BACKENDS[url.scheme](url, {"endpoint_url": endpoint_url, "public_endpoint_url": public_endpoint_url})


class StagedFiles:
    """Files stored for rows not yet committed: each key is noted, so that a failure can delete them all."""

    def __init__(self, storage: Storage, keys: Iterable[str] = ()) -> None:
        self.storage, self.keys = storage, list(keys)

    def put(self, key: str, stream: Readable, *, max_size: int | None = None) -> StoredFile:
        """Store the stream under key, as Storage.put does."""
        self.keys.append(key)  # before the write: a failed write may still have left something
        return self.storage.put(key, stream, max_size=max_size)


@contextmanager
def staged_files(session: Session | scoped_session, *stored: str) -> Iterator[StagedFiles]:
    """Store files and commit the rows that point to them as one: if the block raises (a refusal, a failed write or
    commit), the session is rolled back and every file stored through it, and the ``stored`` keys, are deleted.

    Yields the StagedFiles to store through; the block commits as its last step.
    """
    staged = StagedFiles(get_storage(), stored)
    try:
        yield staged
    except BaseException:
        session.rollback()
        for key in staged.keys:
            staged.storage.delete(key)
        raise


def get_storage() -> Storage:
    """The current app's storage backend."""
    from flask import current_app

    return current_app.extensions["storage"]
