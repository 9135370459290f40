"""Large uploads: a 500 MB prediction file submitted through the client, presigned vs plain multipart.

For each path a fresh gunicorn web process (one worker) serves the API on S3
storage (a moto server started here); the bench prints the wall time of
`Client.submit` and the web process's peak resident memory above its idle level.
The baseline is a plain boto3 `upload_file` of the same file to the same endpoint,
in the same run. Targets: on the presigned path the web process's memory does not
grow with the file (its peak rises by less than a fixed 32 MB, whatever the size),
and the submission takes at most 1.5 x the boto3 upload.

Needs PostgreSQL (BENCH_DATABASE_URL or TEST_DATABASE_URL names the server) and
Redis (BENCH_REDIS_URL or TEST_REDIS_URL), so that scoring stays out of the web
process; BENCH_UPLOAD_MB changes the file's size.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _support import make_app, postgres_database

from tests.services import free_port

REPO = Path(__file__).resolve().parents[1]
MB = 1024 * 1024
SIZE_MB = int(os.environ.get("BENCH_UPLOAD_MB") or 500)
REPEAT = 5
TARGET_RATIO = 1.5
MEMORY_LIMIT_MB = 32  # the web process's peak may rise this much on the presigned path, whatever the file's size


def wait_until_up(url: str, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def write_predictions(path: Path, size: int) -> None:
    """A CSV of id,label rows of about size bytes (the ids repeat: nothing scores it here)."""
    import numpy as np

    rng = np.random.default_rng(0)
    block = "".join(f"ls{i:09d},{p:.17f}\n" for i, p in enumerate(rng.random(200_000))).encode()
    with path.open("wb") as handle:
        handle.write(b"id,label\n")
        written = 0
        while written < size:
            piece = block[: size - written]
            handle.write(piece)
            written += len(piece)


class WebProcess:
    """`gunicorn wsgi:app` with one worker, whose resident memory is read from /proc."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.process = subprocess.Popen(
            [gunicorn, "-w", "1", "--threads", "4", "--timeout", "600", "-b", f"127.0.0.1:{self.port}", "wsgi:app"],
            cwd=REPO,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_up(f"{self.url}/api/v1/competitions")
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        self.worker = int(children[0])
        self.idle_kb = self._status("VmRSS")

    def _status(self, field: str) -> int:
        for line in Path(f"/proc/{self.worker}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)

    def peak_growth_mb(self) -> float:
        """How far the worker's peak resident memory rose above its idle level, in MB."""
        return (self._status("VmHWM") - self.idle_kb) / 1024

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(30)


def main() -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    import boto3

    from tests.services import MotoServer

    redis_url = os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
    for name, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    moto = MotoServer()
    work = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3", endpoint_url=moto.url)
    s3.create_bucket(Bucket=bucket)
    try:
        with postgres_database() as url:
            settings = {
                "STORAGE_URL": f"s3://{bucket}/bench",
                "S3_ENDPOINT_URL": moto.url,
                "REDIS_URL": redis_url,
                "RQ_QUEUE": queue,
                "MAX_UPLOAD_MB": str(SIZE_MB + 100),
            }
            token = _setup(url, work, settings)
            predictions = work / "predictions.csv"
            write_predictions(predictions, SIZE_MB * MB)
            env = os.environ | {"DATABASE_URL": url, "SECRET_KEY": "bench", "REAPER_INTERVAL": "0"} | settings
            _measure(env, token, predictions, s3, bucket)
    finally:
        from redis import Redis

        connection = Redis.from_url(redis_url)
        for key in connection.scan_iter(f"rq:*{queue}*"):
            connection.delete(key)
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)


def _setup(url: str, work: Path, settings: dict[str, str]) -> str:
    """Migrate, import a competition that takes many submissions a day, and make a joined researcher."""
    overrides = {k: v for k, v in settings.items() if k != "MAX_UPLOAD_MB"}
    app = make_app(url, work / "unused", **overrides)
    from app.services.competitions.bundles import import_bundle
    from tests.helpers import bearer, make_token, make_user, write_bundle

    with app.app_context():
        folder, *_ = write_bundle(work / "bundle", n=3000, spec={"daily_limit": 100})
        slug = import_bundle(folder).slug
        token = make_token(make_user("bench"))
    app.test_client().post(f"/api/v1/competitions/{slug}/join", headers=bearer(token), json={"accept_rules": True})
    return token


def _timed_client(url: str, token: str):
    """A client that remembers how long the server took to confirm (assemble and check) an upload."""
    from playground_client import Client

    class TimedClient(Client):
        confirm_seconds = 0.0

        def request(self, method, path, **kwargs):
            start = time.perf_counter()
            try:
                return super().request(method, path, **kwargs)
            finally:
                if path.endswith("/complete"):
                    self.confirm_seconds = time.perf_counter() - start

    return TimedClient(url, token, progress=False)


def _time_completions(s3) -> list[float]:
    """Seconds each CompleteMultipartUpload of this boto3 client took: the store assembling the parts."""
    times: list[float] = []
    started: list[float] = []
    s3.meta.events.register("before-call.s3.CompleteMultipartUpload", lambda **_: started.append(time.perf_counter()))
    s3.meta.events.register(
        "after-call.s3.CompleteMultipartUpload", lambda **_: times.append(time.perf_counter() - started.pop())
    )
    return times


def _measure(env: dict[str, str], token: str, predictions: Path, s3, bucket: str) -> None:
    size_mb = predictions.stat().st_size / MB
    boto_times, direct_times, confirm_times, form_times = [], [], [], []
    boto_completions = _time_completions(s3)
    direct_growth = form_growth = 0.0
    for round_ in range(REPEAT):
        start = time.perf_counter()
        s3.upload_file(str(predictions), bucket, f"baseline/{round_}.csv")
        boto_times.append(time.perf_counter() - start)

        web = WebProcess(env)
        try:
            client = _timed_client(web.url, token)
            start = time.perf_counter()
            submission = client.submit("test-comp", predictions)
            direct_times.append(time.perf_counter() - start)
            confirm_times.append(client.confirm_seconds)
            assert submission.file_size == predictions.stat().st_size
            direct_growth = max(direct_growth, web.peak_growth_mb())
        finally:
            web.stop()

        if round_ == 0:  # the plain route once: it is the slow one
            web = WebProcess(env)
            try:
                client = _timed_client(web.url, token)
                start = time.perf_counter()
                accepted = client._submit_form("test-comp", predictions, "")
                form_times.append(time.perf_counter() - start)
                assert client.submission(accepted["id"]).file_size == predictions.stat().st_size
                form_growth = web.peak_growth_mb()
            finally:
                web.stop()

    boto, direct, confirm, form = (statistics.median(t) for t in (boto_times, direct_times, confirm_times, form_times))
    print(f"file: {size_mb:.0f} MB; S3 endpoint: moto; medians of {REPEAT} rounds")
    print(f"plain boto3 upload_file:          {boto:6.2f} s")
    print(f"  of which the store assembling:  {statistics.median(boto_completions):6.2f} s")
    print(f"presigned (Client.submit):        {direct:6.2f} s  web peak RSS +{direct_growth:6.1f} MB")
    print(f"  of which the confirmation:      {confirm:6.2f} s  (the store assembling the parts, the server re-reading")
    print("                                             the file for its sha256 and queueing it)")
    print(f"plain multipart (through web):    {form:6.2f} s  web peak RSS +{form_growth:6.1f} MB")
    ratio = direct / boto
    print(f"presigned / boto3 time: {ratio:.2f} (target <= {TARGET_RATIO})")
    print(f"plain multipart / boto3 time: {form / boto:.2f}")
    print(
        f"presigned web memory growth / file size: {direct_growth / size_mb:.3f} (target: under {MEMORY_LIMIT_MB} MB)"
    )
    print(f"plain multipart web memory growth / file size: {form_growth / size_mb:.3f}")
    ok = ratio <= TARGET_RATIO and direct_growth <= MEMORY_LIMIT_MB
    print("target met" if ok else "TARGET MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
