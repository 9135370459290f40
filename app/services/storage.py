"""File storage behind one interface: a local folder or an S3-compatible bucket, chosen by URL.

Keys are relative, slash-separated paths such as ``datasets/3/train.csv``. Every
write computes the SHA-256 and size of what it stored while streaming, so callers
record provenance without reading a file twice.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import unquote, urlparse

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


def _hashing_chunks(stream: BinaryIO, digest: hashlib._Hash, limit: int | None) -> Iterator[bytes]:
    total = 0
    while chunk := stream.read(CHUNK_SIZE):
        total += len(chunk)
        if limit is not None and total > limit:
            raise StorageError(f"the file is larger than {limit} bytes")
        digest.update(chunk)
        yield chunk


class Storage(Protocol):
    """What every storage backend offers."""

    def put(self, key: str, stream: BinaryIO, *, max_size: int | None = None) -> StoredFile: ...
    def open(self, key: str) -> BinaryIO: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int: ...
    def download_url(self, key: str, *, expires_in: int = 300, filename: str | None = None) -> str | None: ...
    def read_range(self, key: str, start: int, length: int) -> bytes: ...


@dataclass(frozen=True)
class PresignedPut:
    """A URL to PUT bytes to, and the headers the PUT must carry (signed into the URL: the store checks them)."""

    url: str
    headers: dict[str, str]


class DirectUploads(Protocol):
    """What a backend offers when clients can upload to it straight, through presigned URLs."""

    def presigned_put(
        self, key: str, *, expires_in: int, sha256: str | None = None, crc32: str | None = None
    ) -> PresignedPut: ...
    def start_multipart(self, key: str, *, crc32_parts: bool = False) -> str: ...
    def presigned_part(
        self, key: str, multipart_id: str, number: int, *, expires_in: int, crc32: str | None = None
    ) -> PresignedPut: ...
    def complete_multipart(self, key: str, multipart_id: str) -> None: ...
    def abort_multipart(self, key: str, multipart_id: str) -> None: ...


def accepts_direct_uploads(storage: Storage) -> bool:
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

    def put(self, key: str, stream: BinaryIO, *, max_size: int | None = None) -> StoredFile:
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


class S3Storage:
    """Objects in an S3-compatible bucket (AWS, MinIO, Ceph, moto) under an optional prefix."""

    direct_uploads = True

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        public_endpoint_url: str | None = None,
        client=None,
    ) -> None:
        import boto3
        from botocore.config import Config as BotoConfig

        self.bucket = bucket
        self.prefix = prefix.strip("/")

        def connect(url: str | None):
            config = BotoConfig(signature_version="s3v4", retries={"max_attempts": 5, "mode": "standard"})
            return boto3.client("s3", endpoint_url=url, config=config)

        self.client = client or connect(endpoint_url)
        # Presigned URLs are for browsers and researchers' machines: they name the store as those see it
        # (a cluster's web processes may reach it by an internal name). The host is part of the signature.
        self.presigner = connect(public_endpoint_url) if public_endpoint_url else self.client

    def _key(self, key: str) -> str:
        key = validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, stream: BinaryIO, *, max_size: int | None = None) -> StoredFile:
        """Upload the stream, hashing it on the way; multipart for large files."""
        full_key = self._key(key)
        digest = hashlib.sha256()
        counter = _CountingReader(stream, digest, max_size)
        try:
            self.client.upload_fileobj(counter, self.bucket, full_key)
        except StorageError:
            raise
        except Exception as error:
            raise StorageError(f"could not store {key!r}: {error}") from error
        return StoredFile(key, counter.size, digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        """A streaming reader of the object's body."""
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(f"no stored file {key!r}") from None
        return body

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def _head(self, key: str) -> dict | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def exists(self, key: str) -> bool:
        """Whether an object is stored under key."""
        return self._head(key) is not None

    def size(self, key: str) -> int:
        """Size in bytes of the stored object."""
        head = self._head(key)
        if head is None:
            raise FileNotFoundError(f"no stored file {key!r}")
        return int(head["ContentLength"])

    def download_url(self, key: str, *, expires_in: int = 300, filename: str | None = None) -> str | None:
        """A presigned GET URL, valid for expires_in seconds."""
        params = {"Bucket": self.bucket, "Key": self._key(key)}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return self.presigner.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    def read_range(self, key: str, start: int, length: int) -> bytes:
        """At most length bytes of the object from offset start."""
        if length <= 0:
            return b""
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{start + length - 1}"
            )
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(f"no stored file {key!r}") from None
        with response["Body"] as body:
            return body.read()

    def presigned_put(
        self, key: str, *, expires_in: int, sha256: str | None = None, crc32: str | None = None
    ) -> PresignedPut:
        """A URL a client PUTs the whole object to, valid for expires_in seconds.

        With the file's sha256 (hex), or else its crc32 (base64), the PUT must carry that
        checksum and the store refuses a body that does not match it.
        """
        params = {"Bucket": self.bucket, "Key": self._key(key)}
        if sha256:
            params["ChecksumSHA256"] = _base64_of_hex(sha256)
        elif crc32:
            params["ChecksumCRC32"] = crc32
        return self._presign("put_object", params, expires_in)

    def start_multipart(self, key: str, *, crc32_parts: bool = False) -> str:
        """Begin a multipart upload of the object; returns its upload id.

        With crc32_parts, every part carries its CRC32, which the store checks on arrival.
        """
        extra = {"ChecksumAlgorithm": "CRC32"} if crc32_parts else {}
        return self.client.create_multipart_upload(Bucket=self.bucket, Key=self._key(key), **extra)["UploadId"]

    def presigned_part(
        self, key: str, multipart_id: str, number: int, *, expires_in: int, crc32: str | None = None
    ) -> PresignedPut:
        """A URL a client PUTs part number (from 1) of a multipart upload to; with crc32 (base64), checked."""
        params = {"Bucket": self.bucket, "Key": self._key(key), "UploadId": multipart_id, "PartNumber": number}
        if crc32:
            params["ChecksumCRC32"] = crc32
        return self._presign("upload_part", params, expires_in)

    def _presign(self, operation: str, params: dict, expires_in: int) -> PresignedPut:
        url = self.presigner.generate_presigned_url(operation, Params=params, ExpiresIn=expires_in)
        # Checksums are signed headers (Signature V4), so the PUT must send them as given here.
        headers = {
            name: params[field]
            for field, name in (("ChecksumSHA256", "x-amz-checksum-sha256"), ("ChecksumCRC32", "x-amz-checksum-crc32"))
            if field in params
        }
        return PresignedPut(url, headers)

    def complete_multipart(self, key: str, multipart_id: str) -> None:
        """Assemble the object from the parts the store received (not from what a client claims it sent)."""
        from botocore.exceptions import ClientError

        parts = []
        paginator = self.client.get_paginator("list_parts")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Key=self._key(key), UploadId=multipart_id):
                # A part sent with a checksum is listed with it, and the store wants it back on completion.
                parts += [
                    {"PartNumber": p["PartNumber"], "ETag": p["ETag"]}
                    | ({"ChecksumCRC32": p["ChecksumCRC32"]} if p.get("ChecksumCRC32") else {})
                    for p in page.get("Parts", [])
                ]
            if not parts:
                raise FileNotFoundError(f"no part of {key!r} was uploaded")
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=self._key(key), UploadId=multipart_id, MultipartUpload={"Parts": parts}
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in ("NoSuchUpload", "InvalidPart", "InvalidPartOrder", "EntityTooSmall"):
                raise FileNotFoundError(f"the parts of {key!r} do not make a file: {code}") from None
            raise StorageError(f"could not assemble {key!r}: {error}") from error

    def abort_multipart(self, key: str, multipart_id: str) -> None:
        """Drop a multipart upload and every part received; an unknown upload is not an error."""
        from botocore.exceptions import ClientError

        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self._key(key), UploadId=multipart_id)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("NoSuchUpload", "404"):
                raise


def _base64_of_hex(digest: str) -> str:
    return base64.b64encode(bytes.fromhex(digest)).decode()


class _CountingReader:
    """A file-like wrapper that hashes and counts what boto3 reads, and enforces a size limit."""

    def __init__(self, stream: BinaryIO, digest, limit: int | None) -> None:
        self.stream, self.digest, self.limit, self.size = stream, digest, limit, 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.stream.read(n)
        self.size += len(chunk)
        if self.limit is not None and self.size > self.limit:
            raise StorageError(f"the file is larger than {self.limit} bytes")
        self.digest.update(chunk)
        return chunk


def _file_backend(url, endpoints: dict[str, str | None]) -> Storage:
    return FileSystemStorage(unquote(url.path))


def _s3_backend(url, endpoints: dict[str, str | None]) -> Storage:
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


def get_storage() -> Storage:
    """The current app's storage backend."""
    from flask import current_app

    return current_app.extensions["storage"]
