"""The S3 backend of storage: any S3-compatible bucket (AWS, MinIO, Ceph, moto), and presigned URLs into it.

A presigned PUT carries, signed into its URL, the length of the body it accepts
and, when the client announced them, its checksums: the store itself refuses a
body of another size or content, so an upload cannot be larger than announced.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlencode

from app.services.storage import PresignedPut, StorageError, StoredFile, validate_key
from scorers.io import Readable


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
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config as BotoConfig

        self.bucket = bucket
        self.prefix = prefix.strip("/")

        def connect(url: str | None):
            config = BotoConfig(signature_version="s3v4", retries={"max_attempts": 5, "mode": "standard"})
            return boto3.client("s3", endpoint_url=url, config=config)

        self.client = client or connect(endpoint_url)
        # Uploads hold at most four 8 MB parts in memory at once, in four threads: a worker pod's memory stays
        # bounded whatever the object's size (boto3's default of ten threads and ten parts, each copied for its
        # checksum, costs several hundred megabytes on a slow store).
        self.transfer = TransferConfig(max_concurrency=4)
        self.transfer.max_in_memory_upload_chunks = 4  # s3transfer's setting, which boto3 does not take as an argument
        # Presigned URLs are for browsers and researchers' machines: they name the store as those see it
        # (a cluster's web processes may reach it by an internal name). The host is part of the signature.
        self.presigner = connect(public_endpoint_url) if public_endpoint_url else self.client
        for operation in ("PutObject", "UploadPart"):
            self.presigner.meta.events.register(f"before-sign.s3.{operation}", _length_in_query)

    def _key(self, key: str) -> str:
        key = validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, stream: Readable, *, max_size: int | None = None) -> StoredFile:
        """Upload the stream, hashing it on the way; multipart for large files."""
        full_key = self._key(key)
        digest = hashlib.sha256()
        counter = _CountingReader(stream, digest, max_size)
        try:
            self.client.upload_fileobj(counter, self.bucket, full_key, Config=self.transfer)
        except StorageError:
            raise
        except Exception as error:
            if counter.failure is not None:
                raise counter.failure from None
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

    def local_path(self, key: str) -> Path:
        """Never called: objects in a bucket are not on this machine, and download_url always gives their URL."""
        raise StorageError(f"{key!r} is in an S3 bucket, not on this machine: fetch it from its download_url")

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
        self, key: str, *, size: int, expires_in: int, sha256: str | None = None, crc32: str | None = None
    ) -> PresignedPut:
        """A URL a client PUTs the whole object of size bytes to, valid for expires_in seconds.

        The store refuses a body of any other length. With the file's sha256 (hex), or else
        its crc32 (base64), the PUT must carry that checksum and the store refuses a body
        that does not match it.
        """
        params = {"Bucket": self.bucket, "Key": self._key(key), "ContentLength": size}
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
        self, key: str, multipart_id: str, number: int, *, size: int, expires_in: int, crc32: str | None = None
    ) -> PresignedPut:
        """A URL a client PUTs part number (from 1) of a multipart upload to, of exactly size bytes.

        With crc32 (base64), its checksum is checked too.
        """
        params = {
            "Bucket": self.bucket,
            "Key": self._key(key),
            "UploadId": multipart_id,
            "PartNumber": number,
            "ContentLength": size,
        }
        if crc32:
            params["ChecksumCRC32"] = crc32
        return self._presign("upload_part", params, expires_in)

    def _presign(self, operation: str, params: dict, expires_in: int) -> PresignedPut:
        url = self.presigner.generate_presigned_url(operation, Params=params, ExpiresIn=expires_in)
        # Checksums are signed headers (Signature V4), so the PUT must send them as given here. The length is
        # signed too, but not handed out: clients send it themselves (browsers may not set it).
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


def _length_in_query(request, **_) -> None:
    """Repeat a presigned PUT's signed Content-Length as a signed query parameter, when it carries no checksum.

    AWS, MinIO and Ceph refuse a body whose length differs from the signed Content-Length
    header. moto checks only this parameter, and with it refuses the CORS preflight of a
    browser's PUT (which has no Content-Length). Browsers always announce checksums, so
    URLs with checksums carry the signed header alone: every real store checks it.
    """
    length = request.headers.get("Content-Length")
    checksummed = any(name.lower().startswith("x-amz-checksum-") for name in request.headers)
    if length is not None and not checksummed and request.context.get("is_presign_request"):
        request.url += ("&" if "?" in request.url else "?") + urlencode({"content-length": length})


def _base64_of_hex(digest: str) -> str:
    return base64.b64encode(bytes.fromhex(digest)).decode()


class _CountingReader:
    """A file-like wrapper that hashes and counts what boto3 reads, and enforces a size limit."""

    def __init__(self, stream: Readable, digest, limit: int | None) -> None:
        self.stream, self.digest, self.limit, self.size = stream, digest, limit, 0
        self.failure: Exception | None = None  # what reading the stream raised: the caller's, not the store's

    def read(self, n: int = -1) -> bytes:
        try:
            chunk = self.stream.read(n)
        except Exception as error:
            self.failure = error
            raise
        self.size += len(chunk)
        if self.limit is not None and self.size > self.limit:
            raise StorageError(f"the file is larger than {self.limit} bytes")
        self.digest.update(chunk)
        return chunk
