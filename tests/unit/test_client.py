"""The client package on its own: no server imports, streamed bodies, retries on 429/503, clean errors."""

from __future__ import annotations

import base64
import hashlib
import io
import subprocess
import sys
import zlib
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from flask import Flask, jsonify, request
from playground_client import ApiError, Client, config
from playground_client.cli import main
from playground_client.models import Competition, Submission
from playground_client.transfer import FileSlice, MultipartBody, file_checksums, plan_parts, safe_name
from werkzeug.formparser import parse_form_data

from tests import services


def test_client_imports_nothing_of_the_server():
    code = (
        "import sys, playground_client, playground_client.cli\n"
        "server = [m for m in sys.modules if m.split('.')[0] in ('app', 'flask', 'workers', 'scorers', 'sqlalchemy')]\n"
        "assert not server, server"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd="/")
    assert result.returncode == 0, result.stderr


def test_multipart_body_streams_exactly_what_a_form_parser_reads(tmp_path):
    path = tmp_path / 'pred "1".csv'
    content = b"id,label\n" + b"x,0.5\n" * 100_000
    path.write_bytes(content)
    seen = []
    body = MultipartBody(path, {"description": "naïve try"}, "b0undary", seen.append)
    raw = b"".join(iter(lambda: body.read(7000), b""))
    assert len(raw) == len(body)
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": "multipart/form-data; boundary=b0undary",
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw),
    }
    _, form, files = parse_form_data(environ)
    assert form["description"] == "naïve try"
    received = files["file"]
    try:
        assert received.read() == content and received.filename == "pred _1_.csv"
    finally:
        received.close()
    assert sum(seen) == len(content)


def test_file_slice_reads_its_range_only(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(bytes(range(256)) * 10)
    piece = FileSlice(path, 100, 50)
    assert len(piece) == 50 and b"".join(piece) == (bytes(range(256)) * 10)[100:150]


MB = 1024 * 1024


@pytest.mark.parametrize(
    ("size", "sizes"),
    [
        (1, [1]),
        (100 * MB, [100 * MB]),  # one PUT up to the threshold
        (100 * MB + 1, [16 * MB] * 6 + [4 * MB + 1]),
        (20_000 * MB, [20 * MB] * 1000),  # parts grow rather than pass 1,000
    ],
)
def test_large_files_are_planned_in_parts_s3_accepts(size, sizes):
    assert plan_parts(size) == sizes


def test_checksums_are_the_files_sha256_and_each_parts_crc32(tmp_path):
    content = bytes(range(256)) * 12_289  # parts that end inside a read block
    path = tmp_path / "p.csv"
    path.write_bytes(content)
    sizes = [1_000_000, 1_500_000, len(content) - 2_500_000]
    sha256, crc32s = file_checksums(path, sizes, progress=False)
    assert sha256 == hashlib.sha256(content).hexdigest()
    pieces = [content[:1_000_000], content[1_000_000:2_500_000], content[2_500_000:]]
    assert crc32s == [base64.b64encode(zlib.crc32(piece).to_bytes(4, "big")).decode() for piece in pieces]
    assert file_checksums(path, sizes, sha256=False, progress=False) == (None, crc32s)


def test_checksums_refuse_a_file_shorter_than_planned(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(b"id,label\n")
    with pytest.raises(ValueError, match="changed while it was read"):
        file_checksums(path, [100], progress=False)


def test_server_file_names_cannot_leave_the_download_folder():
    assert safe_name("../etc/passwd") == "passwd"
    assert safe_name("a\\..\\b.csv") == "b.csv"
    for name in (".bashrc", "..", "data/"):
        with pytest.raises(ValueError):
            safe_name(name)


def test_records_keep_fields_the_client_does_not_know_yet():
    competition = Competition.from_json(
        {
            "slug": "c",
            "title": "C",
            "phase": "open",
            "metric": "roc_auc",
            "opens_at": None,
            "closes_at": "2026-12-31T23:59:59+00:00",
            "daily_limit": 5,
            "total_limit": None,
            "final_selections": 2,
            "participants": 3,
            "new_field": 1,
            "quota": {"remaining_today": 4, "remaining_total": None, "next_slot_at": None},
        }
    )
    assert competition.closes_at.year == 2026 and competition.quota.remaining_today == 4
    assert competition.raw["new_field"] == 1
    submission = Submission.from_json({"id": 1, "status": "scoring"})
    assert submission.finished is False and submission.public_score is None


def test_environment_overrides_the_saved_login(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("PLAYGROUND_URL", raising=False)
    monkeypatch.delenv("PLAYGROUND_TOKEN", raising=False)
    config.save("http://saved", "saved-token")
    assert config.load() == config.Login("http://saved", "saved-token")
    monkeypatch.setenv("PLAYGROUND_TOKEN", "env-token")
    assert config.load() == config.Login("http://saved", "env-token")


class Flaky:
    """A tiny HTTP server answering a scripted list of statuses, then 200."""

    def __init__(self, statuses: list[tuple[int, dict]]) -> None:
        self.statuses, self.calls = list(statuses), 0
        app = Flask(__name__)

        @app.route("/api/v1/me", methods=["GET", "POST"])
        def me():
            self.calls += 1
            if self.statuses:
                status, headers = self.statuses.pop(0)
                if status == 502:
                    return "<html>bad gateway</html>", 502, headers
                return jsonify(error={"code": "rate_limited", "message": f"slow down ({status})"}), status, headers
            return jsonify(username="rita", roles=[], body=request.get_data(as_text=True))

        self.url, self.stop = services.serve(app)


@pytest.fixture
def flaky() -> Iterator[callable]:
    servers = []

    def start(*statuses: tuple[int, dict]) -> Flaky:
        servers.append(Flaky(list(statuses)))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def _client(url: str, **options) -> tuple[Client, list[float]]:
    client = Client(url, "token", **options)
    waited: list[float] = []
    client.sleep = waited.append
    return client, waited


def test_429_is_retried_after_the_servers_retry_after(flaky):
    server = flaky((429, {"Retry-After": "3"}), (429, {"Retry-After": "1"}))
    client, waited = _client(server.url)
    assert client.me()["username"] == "rita"
    assert waited == [3.0, 1.0] and server.calls == 3


def test_retry_after_zero_waits_a_second_rather_than_hammering(flaky):
    """A window that resets within the second is announced as 0: retrying at once would use up every retry."""
    server = flaky((429, {"Retry-After": "0"}), (429, {"Retry-After": "0"}))
    client, waited = _client(server.url)
    assert client.me()["username"] == "rita"
    assert waited == [1.0, 1.0]


def test_503_without_retry_after_backs_off_exponentially(flaky):
    server = flaky((503, {}), (503, {}), (503, {}))
    client, waited = _client(server.url)
    assert client.me()["username"] == "rita"
    assert waited == [1.0, 2.0, 4.0]


def test_a_retried_body_is_sent_again_whole(flaky):
    server = flaky((503, {}))
    client, _ = _client(server.url)
    assert client.request("POST", "/me", body=lambda: io.BytesIO(b"payload")).json()["body"] == "payload"


def test_retry_after_longer_than_max_wait_is_raised_with_the_servers_message(flaky):
    server = flaky((429, {"Retry-After": "7200"}))
    client, waited = _client(server.url, max_wait=120)
    with pytest.raises(ApiError, match=r"slow down \(429\)") as refused:
        client.me()
    assert refused.value.status == 429 and waited == []


def test_retries_are_bounded(flaky):
    server = flaky(*[(503, {})] * 10)
    client, waited = _client(server.url, max_retries=2)
    with pytest.raises(ApiError, match=r"slow down \(503\)"):
        client.me()
    assert server.calls == 3 and len(waited) == 2


def test_an_error_page_that_is_not_json_still_gives_a_message(flaky):
    server = flaky(*[(502, {})] * 10)
    client, _ = _client(server.url, max_retries=0)
    with pytest.raises(ApiError, match="502 BAD GATEWAY"):
        client.me()


def test_unreachable_server_is_one_line_and_exit_status_1():
    url = f"http://127.0.0.1:{services.free_port()}"
    result = CliRunner().invoke(main, ["whoami"], env={"PLAYGROUND_URL": url, "PLAYGROUND_TOKEN": "t"})
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == f"Error: cannot reach {url}: Connection refused"


def test_commands_without_a_login_say_how_to_log_in(tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path), "PLAYGROUND_URL": None, "PLAYGROUND_TOKEN": None}
    result = CliRunner().invoke(main, ["competitions"], env=env)
    assert result.exit_code == 1 and "playground login" in result.output


class FakePlatform:
    """The upload routes of the API and a store behind presigned URLs, the store refusing PUTs as scripted."""

    BAD_DIGEST = "<Error><Code>BadDigest</Code><Message>The SHA256 you specified did not match.</Message></Error>"

    def __init__(self, store_statuses: list[int]) -> None:
        self.store_statuses = list(store_statuses)
        self.announced: dict = {}
        self.puts: list[tuple[bytes, dict]] = []
        self.confirmed: dict | None = None
        self.cancelled = False
        app = Flask(__name__)

        @app.post("/api/v1/competitions/c/uploads")
        def start():
            self.announced = request.get_json()
            headers = {"x-amz-checksum-sha256": self.announced.get("sha256", "")}
            part = {"number": 1, "offset": 0, "size": self.announced["size"], "url": f"{self.url}/store/u1"}
            return jsonify(id="u1", parts=[part | {"headers": headers}]), 201

        @app.put("/store/u1")
        def store():
            self.puts.append((request.get_data(), dict(request.headers)))
            status = self.store_statuses.pop(0) if self.store_statuses else 200
            return (self.BAD_DIGEST if status == 400 else ""), status

        @app.post("/api/v1/uploads/u1/complete")
        def complete():
            self.confirmed = request.get_json()
            return jsonify(id=7, status="queued"), 202

        @app.delete("/api/v1/uploads/u1")
        def cancel():
            self.cancelled = True
            return "", 204

        @app.get("/api/v1/submissions/7")
        def submission():
            return jsonify(id=7, status="queued")

        self.url, self.stop = services.serve(app)


@pytest.fixture
def fake_platform() -> Iterator[callable]:
    started = []

    def start(*store_statuses: int) -> FakePlatform:
        started.append(FakePlatform(list(store_statuses)))
        return started[-1]

    yield start
    for fake in started:
        fake.stop()


def test_a_part_the_store_finds_damaged_is_sent_again(fake_platform, tmp_path):
    content = b"id,label\n" + b"".join(b"ls%d,0.5\n" % i for i in range(1000))
    (tmp_path / "p.csv").write_bytes(content)
    fake = fake_platform(400)
    notes: list[str] = []
    submission = Client(fake.url, "token", on_wait=notes.append).submit("c", tmp_path / "p.csv")
    assert submission.id == 7
    digest = hashlib.sha256(content).hexdigest()
    assert fake.announced["sha256"] == digest
    assert fake.announced["parts"] == [
        {"size": len(content), "crc32": base64.b64encode(zlib.crc32(content).to_bytes(4, "big")).decode()}
    ]
    assert [body for body, _ in fake.puts] == [content, content]
    assert all(headers["X-Amz-Checksum-Sha256"] == digest for _, headers in fake.puts)
    assert fake.confirmed == {"size": len(content), "sha256": digest}
    assert notes == ["part 1 arrived damaged; sending it again"]


def test_a_part_damaged_every_time_fails_with_the_stores_words_and_cancels_the_upload(fake_platform, tmp_path):
    (tmp_path / "p.csv").write_bytes(b"id,label\nls1,0.5\n")
    fake = fake_platform(400, 400, 400)
    with pytest.raises(ApiError, match=r"refused the upload \(400\): The SHA256 you specified did not match"):
        Client(fake.url, "token").submit("c", tmp_path / "p.csv")
    assert len(fake.puts) == 3 and fake.confirmed is None and fake.cancelled
