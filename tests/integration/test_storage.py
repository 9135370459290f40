"""The storage interface, the same on the filesystem and on an S3 endpoint over HTTP."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
import requests

from app.services.storage import (
    FileSystemStorage,
    InvalidKey,
    RangedFile,
    StorageError,
    storage_from_url,
    validate_key,
)
from app.services.storage_s3 import S3Storage

BAD_KEYS = [
    "",
    "../secret",
    "a/../../b",
    "/etc/passwd",
    "a//b",
    "a/./b",
    "a\\b",
    "C:/x",
    "a\x00b",
    "line\nbreak",
    "tab\tkey",
]


@pytest.fixture
def s3_storage(s3_bucket):
    """An S3 backend on a new, empty bucket of the endpoint."""
    bucket, endpoint = s3_bucket
    return storage_from_url(f"s3://{bucket}/some/prefix", endpoint_url=endpoint)


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.s3)])
def storage(request, tmp_path):
    """Each storage backend, empty."""
    if request.param == "file":
        return FileSystemStorage(tmp_path / "store")
    return request.getfixturevalue("s3_storage")


def test_put_reads_back_with_size_and_sha256(storage):
    data = os.urandom(3 * 1024 * 1024 + 17)  # more than one chunk
    stored = storage.put("datasets/1/train.csv", io.BytesIO(data))
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert storage.exists("datasets/1/train.csv")
    assert storage.size("datasets/1/train.csv") == len(data)
    with storage.open("datasets/1/train.csv") as handle:
        assert handle.read() == data


def test_put_replaces_and_delete_removes(storage):
    storage.put("a/b.txt", io.BytesIO(b"first"))
    storage.put("a/b.txt", io.BytesIO(b"second"))
    with storage.open("a/b.txt") as handle:
        assert handle.read() == b"second"
    storage.delete("a/b.txt")
    assert not storage.exists("a/b.txt")
    storage.delete("a/b.txt")  # deleting what is gone is fine
    with pytest.raises(FileNotFoundError):
        storage.open("a/b.txt")
    with pytest.raises(FileNotFoundError):
        storage.size("a/b.txt")


def test_too_large_upload_leaves_nothing_behind(storage, tmp_path):
    with pytest.raises(StorageError, match="larger than 1000 bytes"):
        storage.put("uploads/big.csv", io.BytesIO(b"x" * 5000), max_size=1000)
    assert not storage.exists("uploads/big.csv")
    if isinstance(storage, FileSystemStorage):
        assert not any(path.is_file() for path in (tmp_path / "store").rglob("*"))


@pytest.mark.parametrize("key", BAD_KEYS)
def test_traversal_and_control_characters_are_refused(storage, key):
    with pytest.raises(InvalidKey):
        storage.put(key, io.BytesIO(b"x"))
    with pytest.raises(InvalidKey):
        storage.open(key)
    with pytest.raises(InvalidKey):
        storage.exists(key)
    with pytest.raises(InvalidKey):
        storage.download_url(key)


def test_symlink_cannot_lead_out_of_the_root(tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text("solution")
    root = tmp_path / "store"
    root.mkdir()
    (root / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(InvalidKey, match="outside the storage root"):
        FileSystemStorage(root).open("link/secret")


def test_valid_keys_pass():
    for key in ["a", "datasets/3/v1/train.csv", "sub/42/predictions.csv.gz", "ä/ü.parquet"]:
        assert validate_key(key) == key


def test_filesystem_has_no_download_url(tmp_path):
    storage = FileSystemStorage(tmp_path)
    storage.put("f.csv", io.BytesIO(b"1"))
    assert storage.download_url("f.csv") is None


@pytest.mark.s3
def test_presigned_url_is_fetched_over_http(s3_storage):
    s3_storage.put("public/test.csv", io.BytesIO(b"id,x\n1,2\n"))
    url = s3_storage.download_url("public/test.csv", expires_in=60, filename="test.csv")
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == b"id,x\n1,2\n"
    assert 'filename="test.csv"' in response.headers["Content-Disposition"]
    assert "some/prefix/public/test.csv" in url
    tampered = requests.get(url.replace("public/test.csv", "public/other.csv"), timeout=10)
    assert tampered.status_code == 403


@pytest.mark.s3
def test_presigned_urls_name_the_public_endpoint_when_it_differs(s3_bucket):
    """Web processes reach the store by one name (a cluster service), clients by another."""
    bucket, endpoint = s3_bucket
    public = endpoint.replace("127.0.0.1", "localhost")
    storage = storage_from_url(f"s3://{bucket}/p", endpoint_url=endpoint, public_endpoint_url=public)
    storage.put("public/test.csv", io.BytesIO(b"id,x\n1,2\n"))
    download = storage.download_url("public/test.csv", expires_in=60)
    assert download.startswith(f"{public}/") and requests.get(download, timeout=10).content == b"id,x\n1,2\n"
    upload = storage.presigned_put("uploads/p.csv", size=5, expires_in=60)
    assert upload.url.startswith(f"{public}/")
    assert requests.put(upload.url, data=b"id,x\n", timeout=10).status_code == 200
    assert storage.size("uploads/p.csv") == 5
    internal = storage_from_url(f"s3://{bucket}/p", endpoint_url=endpoint)
    assert internal.download_url("public/test.csv").startswith(f"{endpoint}/")


def test_storage_url_picks_the_backend(tmp_path):
    assert isinstance(storage_from_url(f"file://{tmp_path}"), FileSystemStorage)
    s3 = storage_from_url("s3://bucket/pre/fix/", endpoint_url="http://127.0.0.1:1")
    assert isinstance(s3, S3Storage) and (s3.bucket, s3.prefix) == ("bucket", "pre/fix")
    with pytest.raises(ValueError, match="not one of file, s3"):
        storage_from_url("ftp://host/x")


def test_a_ranged_file_reads_and_seeks_as_a_file_fetching_only_what_is_asked(storage, monkeypatch):
    content = bytes(range(256)) * 4096  # 1 MB
    storage.put("ranged.bin", io.BytesIO(content))
    fetched: list[tuple[int, int]] = []
    read_range = storage.read_range

    def counted(key, start, length):
        fetched.append((start, length))
        return read_range(key, start, length)

    monkeypatch.setattr(storage, "read_range", counted)
    ranged = RangedFile(storage, "ranged.bin")
    assert ranged.size() == len(content) and ranged.seekable()
    ranged.seek(-10, os.SEEK_END)
    assert ranged.read() == content[-10:] and ranged.tell() == len(content)
    ranged.seek(1000)
    assert ranged.read(24) == content[1000:1024] and ranged.read(0) == b""
    assert fetched == [(len(content) - 10, 10), (1000, 24)]
    # Ranges fetched ahead: neighbours merged into one request, the far one apart; reads inside them fetch nothing.
    fetched.clear()
    ranged.prefetch([(100_000, 100_100), (100_200, 100_300), (900_000, 900_050)])
    assert sorted(fetched) == [(100_000, 300), (900_000, 50)]
    ranged.seek(100_250)
    assert ranged.read(50) == content[100_250:100_300] and len(fetched) == 2
