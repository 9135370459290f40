"""Moving files: resumable, verified downloads and streamed uploads, with progress bars.

Nothing here reads a whole file into memory: downloads are written as they
arrive, uploads are read from disk as the connection takes them.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

CHUNK = 1024 * 1024
MULTIPART_THRESHOLD = 100 * 1024 * 1024  # files up to this size go up in one PUT
PART_SIZE = 16 * 1024 * 1024  # larger ones in parts of this size (S3 takes 5 MiB to 5 GiB)...
MAX_PARTS = 1000  # ...and at most this many (the server's limit)


def progress_bar(total: int, description: str, enabled: bool | None, initial: int = 0) -> tqdm:
    """A byte progress bar on standard error; ``enabled=None`` shows it only on a terminal."""
    return tqdm(
        total=total,
        initial=initial,
        desc=description,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        disable=None if enabled is None else not enabled,
        leave=False,
        dynamic_ncols=True,
    )


def file_sha256(path: Path, *, progress: bool | None = None) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle, progress_bar(path.stat().st_size, f"hashing {path.name}", progress) as bar:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def plan_parts(size: int) -> list[int]:
    """The sizes of the parts a file of size bytes is uploaded in: one up to MULTIPART_THRESHOLD, else PART_SIZE.

    Parts grow past PART_SIZE so that a file never has more than MAX_PARTS of them.
    """
    if size <= MULTIPART_THRESHOLD:
        return [size]
    part_size = max(PART_SIZE, -(-size // MAX_PARTS))
    return [min(part_size, size - offset) for offset in range(0, size, part_size)]


def file_checksums(
    path: Path, part_sizes: list[int], *, sha256: bool = True, progress: bool | None = None
) -> tuple[str | None, list[str]]:
    """The file's SHA-256 (hex; None unless asked for) and the CRC32 of each part (big-endian, base64, as S3 has it)."""
    digest = hashlib.sha256() if sha256 else None
    crc32s = []
    with path.open("rb") as handle, progress_bar(sum(part_sizes), f"checksumming {path.name}", progress) as bar:
        for part_size in part_sizes:
            crc, left = 0, part_size
            while left and (chunk := handle.read(min(CHUNK, left))):
                if digest is not None:
                    digest.update(chunk)
                crc = zlib.crc32(chunk, crc)
                left -= len(chunk)
                bar.update(len(chunk))
            if left:
                raise ValueError(f"{path} changed while it was read: {left} bytes fewer than expected")
            crc32s.append(base64.b64encode(crc.to_bytes(4, "big")).decode())
    return (digest.hexdigest() if digest is not None else None), crc32s


def safe_name(name: str) -> str:
    """A server-given file name as a plain name in the target folder, never a path out of it."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if base in ("", ".", "..") or base.startswith("."):
        raise ValueError(f"refusing to write a file named {name!r}")
    return base


def hash_prefix(path: Path) -> tuple[hashlib._Hash, int]:
    """The running SHA-256 of what a partial download already holds, and its length."""
    digest = hashlib.sha256()
    size = 0
    if path.exists():
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    return digest, size


class FileSlice:
    """Bytes offset..offset+length of a file as a readable body with a known length, reporting progress."""

    def __init__(self, path: Path, offset: int, length: int, on_read: Callable[[int], object] | None = None) -> None:
        self.path, self.offset, self.length, self.on_read = path, offset, length, on_read
        self._handle: BinaryIO | None = None
        self._left = length

    def __len__(self) -> int:
        return self.length

    def read(self, size: int = -1) -> bytes:
        """The next bytes of the slice; empty at its end."""
        if self._handle is None:
            self._handle = self.path.open("rb")
            self._handle.seek(self.offset)
        if self._left <= 0:
            self._handle.close()
            return b""
        size = self._left if size is None or size < 0 else min(size, self._left)
        chunk = self._handle.read(size)
        self._left -= len(chunk)
        if self.on_read:
            self.on_read(len(chunk))
        return chunk

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(CHUNK):
            yield chunk

    def close(self) -> None:
        """Close the underlying file."""
        if self._handle is not None:
            self._handle.close()

    def __del__(self) -> None:
        self.close()


class MultipartBody:
    """A multipart/form-data body streamed from disk, with its exact length known up front."""

    def __init__(
        self, path: Path, fields: dict[str, str], boundary: str, on_read: Callable[[int], object] | None = None
    ) -> None:
        head = b""
        for name, value in fields.items():
            head += (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                + value.encode()
                + b"\r\n"
            )
        file_name = path.name.replace('"', "_")
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self._parts: list[bytes | FileSlice] = [
            head,
            FileSlice(path, 0, path.stat().st_size, on_read),
            f"\r\n--{boundary}--\r\n".encode(),
        ]
        self.length = sum(len(part) for part in self._parts)

    def __len__(self) -> int:
        return self.length

    def read(self, size: int = -1) -> bytes:
        """The next bytes of the body."""
        while self._parts:
            part = self._parts[0]
            if isinstance(part, bytes):
                if size is None or size < 0 or size >= len(part):
                    self._parts.pop(0)
                    return part
                self._parts[0] = part[size:]
                return part[:size]
            chunk = part.read(size)
            if chunk:
                return chunk
            self._parts.pop(0)
        return b""

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(CHUNK):
            yield chunk


def replace_atomically(part: Path, final: Path) -> None:
    """Move a finished download into place."""
    os.replace(part, final)
