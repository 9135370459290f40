"""The production topology under load, through a rolling restart.

Starts, as separate processes on loopback: gunicorn (WEB_PROCESSES processes, gunicorn.conf.py, as the web
pods run it), two `flask worker` processes, a moto S3 endpoint, on the machine's PostgreSQL (a fresh
database) and Redis (BENCH_REDIS_URL or TEST_REDIS_URL; a queue of its own); seeds the demo (`flask demo`),
then runs locust headless (bench/_locustfile.py) with USERS simulated users for DURATION seconds: viewers
browse leaderboards and dataset pages, researchers submit predictions and poll their status, shifters
open runs and certify them. During the load one worker gets SIGTERM and is started again, and one web
process gets SIGTERM (gunicorn starts another), as a rolling deployment does.

Prints p50/p95/p99 per page and API route, errors, and the submissions accepted, scored and lost; targets:
0 errors, 0 lost, p95 of every page <= 500 ms, of the leaderboard and status API calls <= 200 ms. Exits 1
on an error or a lost submission. Needs PostgreSQL (BENCH_DATABASE_URL or TEST_DATABASE_URL names the
server) and Redis; about four minutes (LOAD_DURATION sets the seconds of load).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

from _support import postgres_database

REPO = Path(__file__).resolve().parents[1]
USERS = 50
SPAWN_RATE = 10  # users started per second
DURATION = int(os.environ.get("LOAD_DURATION") or 150)  # seconds of load
WEB_PROCESSES = 4
WORKERS = 2
RESTART_WORKER_AT = DURATION // 3  # seconds into the load
RESTART_WEB_AT = DURATION * 3 // 5
RESEARCHERS = 20
SHIFTERS = 12
EXTRA_TASKS = 8  # labelling tasks over the demo's runs, so that shifters never run out
PAGE_P95_MS = 500
API_P95_MS = 200
FAST_API = ("api GET /competitions/[slug]/leaderboard", "api GET /submissions/[id]")
PASSWORD = "load-test-password"
METRICS_TOKEN = "load-metrics"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


@contextmanager
def _process(args: list[str], env: dict, log: Path):
    """A child process in a session of its own, logging to a file, ended (with its children) on exit."""
    handle = log.open("ab")
    process = subprocess.Popen(args, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        handle.close()


def _flask(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=REPO, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _seed(env: dict, folder: Path) -> dict:
    """What the simulated users need: the load's competition, tokens, shifters, tasks, dataset runs."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
    sys.path.insert(0, str(REPO))
    from app import create_app
    from app.extensions import db
    from app.models import Competition, DatasetVersion, LabellingTask, Role
    from app.services.certification.tasks import create_task
    from app.services.competitions import submissions
    from app.services.competitions.bundles import import_bundle
    from app.services.datasets import queries
    from config import Config
    from tests.helpers import make_token, make_user, predictions_csv, write_bundle

    app = create_app(Config(env), RATELIMIT_ENABLED=False, REAPER_INTERVAL=0)
    with app.app_context():
        bundle, ids, _, x = write_bundle(
            folder / "bundle", n=3000, spec={"slug": "load-test", "title": "Load test", "daily_limit": 100_000}
        )
        competition = import_bundle(bundle)
        researchers = []
        for number in range(RESEARCHERS):
            user = make_user(f"load-researcher-{number}", password=PASSWORD)
            submissions.join(competition, user)
            db.session.commit()
            researchers.append(make_token(user))
        shifters = []
        for number in range(SHIFTERS):
            user = make_user(f"load-shifter-{number}", Role.SHIFTER, password=PASSWORD)
            shifters.append((user.username, make_token(user)))
        reco = db.session.execute(db.select(LabellingTask.reco)).scalars().first()
        tasks = [create_task(f"Load test {n}", reco.value, blind_fraction=0) for n in range(EXTRA_TASKS)]
        datasets = []
        for version in db.session.execute(db.select(DatasetVersion)).scalars():
            table = queries.lumisections(version)
            if table is not None:
                runs = sorted({int(run) for run in table[queries.RUN]})
                datasets.append({"slug": version.dataset.slug, "version": version.number, "runs": runs})
        slugs = [c.slug for c in db.session.execute(db.select(Competition).order_by(Competition.id)).scalars()]
        fixture = {
            "competitions": slugs,
            "load_competition": competition.slug,
            "datasets": datasets,
            "researchers": researchers,
            "shifters": shifters,
            "password": PASSWORD,
            "tasks": [{"id": t.id, "checklists": t.checklist_names} for t in tasks],
            "predictions": predictions_csv(ids, x).decode(),
        }
        db.engine.dispose()
    return fixture


def _gunicorn_children(master: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master and fields[0] != "Z":
            children.append(int(stat.parent.name))
    return sorted(children)


def _warm_up(base: str, master: int, counts: Path) -> None:
    """Until every gunicorn process has loaded the app and answered (each writes its request counts then),
    and eight requests at once come back within two seconds: the load measures serving, not booting."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    pages = ["/healthz", "/", "/competitions", "/datasets"]
    deadline = time.monotonic() + 300
    with ThreadPoolExecutor(8) as pool:
        while True:
            if time.monotonic() > deadline:
                print("gunicorn is still slow after 5 minutes of warm-up (a busy machine?): loading anyway")
                return
            start = time.monotonic()
            answers = list(pool.map(lambda n: requests.get(base + pages[n % len(pages)], timeout=60), range(8)))
            quick = time.monotonic() - start < 2 and all(a.status_code == 200 for a in answers)
            served = {path.stem.rsplit("_", 1)[1] for path in counts.glob("histogram_*.db")}
            if quick and {str(pid) for pid in _gunicorn_children(master)} <= served:
                return


def _wait_for_workers(redis_url: str, queue: str, count: int) -> None:
    """Until count workers wait for jobs on the queue (their SIGTERM handlers set)."""
    from redis import Redis
    from rq import Queue, Worker

    connection = Redis.from_url(redis_url)
    deadline = time.monotonic() + 300
    while True:
        states = [worker.get_state() for worker in Worker.all(queue=Queue(queue, connection=connection))]
        if states.count("idle") + states.count("busy") >= count:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} workers did not start within 5 minutes: {states}")
        time.sleep(0.5)


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _statuses(database_url: str, slug: str) -> dict[str, int]:
    import psycopg2

    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.status, count(*) FROM submissions s JOIN competitions c ON c.id = s.competition_id "
                "WHERE c.slug = %s GROUP BY s.status",
                (slug,),
            )
            return {str(status).lower(): count for status, count in cursor.fetchall()}
    finally:
        connection.close()


def _percentiles(stats_csv: Path) -> list[dict]:
    with stats_csv.open() as handle:
        return list(csv.DictReader(handle))


def main() -> int:
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if server:
        os.environ["BENCH_DATABASE_URL"] = server
    redis_url = os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
    folder = Path(tempfile.mkdtemp(prefix="dqm-load-"))
    logs = folder / "logs"
    logs.mkdir()
    events: list[str] = []
    started = time.monotonic()

    def event(message: str) -> None:
        events.append(f"{time.monotonic() - started:6.1f} s  {message}")
        print(events[-1], flush=True)

    with ExitStack() as stack:
        database_url = stack.enter_context(postgres_database())
        s3_port = _free_port()
        stack.enter_context(
            _process(
                [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)],
                dict(os.environ),
                logs / "moto.log",
            )
        )
        _wait_for_port(s3_port, 30)
        bucket = f"load-{uuid.uuid4().hex[:8]}"
        queue = f"load-{uuid.uuid4().hex[:8]}"
        web_port = _free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith(("TEST_", "BENCH_", "FLASK_"))} | {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "RQ_QUEUE": queue,
            "STORAGE_URL": f"s3://{bucket}/storage",
            "S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
            "AWS_ACCESS_KEY_ID": "load",
            "AWS_SECRET_ACCESS_KEY": "load",
            "AWS_DEFAULT_REGION": "us-east-1",
            "SECRET_KEY": uuid.uuid4().hex,
            "TRUSTED_PROXIES": "1",
            "LOG_FORMAT": "json",
            "METRICS_TOKEN": METRICS_TOKEN,
            "PROMETHEUS_MULTIPROC_DIR": str(folder / "prometheus"),
            "WEB_CONCURRENCY": str(WEB_PROCESSES),
            "GUNICORN_THREADS": "4",
            "PORT": str(web_port),
        }
        web_command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
        web_command += ["--bind", f"127.0.0.1:{web_port}", "wsgi:app"]
        import boto3

        boto3.client(
            "s3", endpoint_url=env["S3_ENDPOINT_URL"], aws_access_key_id="load", aws_secret_access_key="load"
        ).create_bucket(Bucket=bucket)
        _flask(env, "db", "upgrade")
        event("migrated; seeding the demo")
        _flask(env, "demo")
        fixture = _seed(env, folder)
        (folder / "fixture.json").write_text(json.dumps(fixture))
        event(
            f"seeded: {len(fixture['competitions'])} competitions, {len(fixture['datasets'])} datasets, "
            f"{len(fixture['tasks'])} extra tasks"
        )

        web = stack.enter_context(
            _process(
                web_command,
                env,
                logs / "web.log",
            )
        )
        _wait_for_port(web_port, 60)
        workers = [
            stack.enter_context(
                _process([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], env, logs / f"worker-{n}.log")
            )
            for n in range(WORKERS)
        ]
        _warm_up(f"http://127.0.0.1:{web_port}", web.pid, folder / "prometheus")
        _wait_for_workers(redis_url, queue, WORKERS)
        event(f"gunicorn {web.pid} with {WEB_PROCESSES} processes on port {web_port}, {WORKERS} workers: all ready")

        locust = stack.enter_context(
            _process(
                [
                    *(sys.executable, "-m", "locust", "-f", str(REPO / "bench" / "_locustfile.py"), "--headless"),
                    *("--users", str(USERS), "--spawn-rate", str(SPAWN_RATE), "--run-time", f"{DURATION}s"),
                    *("--host", f"http://127.0.0.1:{web_port}", "--csv", str(folder / "locust")),
                    *("--stop-timeout", "60", "--only-summary", "--loglevel", "WARNING"),
                ],
                env | {"LOAD_FIXTURE": str(folder / "fixture.json")},
                logs / "locust.log",
            )
        )
        load_started = time.monotonic()
        load_average = [os.getloadavg()[0]]
        event(f"locust: {USERS} users for {DURATION} s")
        restarted_worker = restarted_web = False
        while locust.poll() is None:
            elapsed = time.monotonic() - load_started
            if not restarted_worker and elapsed >= RESTART_WORKER_AT:
                restarted_worker = True
                old = workers[0]
                os.kill(old.pid, signal.SIGTERM)
                event(f"SIGTERM to worker {old.pid}")
                old.wait(700)
                event(f"worker {old.pid} finished its job and exited ({old.returncode}); starting another")
                workers[0] = stack.enter_context(
                    _process([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], env, logs / "worker-0b.log")
                )
                _wait_for_workers(redis_url, queue, WORKERS)
                event(f"worker {workers[0].pid} took its place")
            if not restarted_web and elapsed >= RESTART_WEB_AT:
                restarted_web = True
                before = _gunicorn_children(web.pid)
                os.kill(before[0], signal.SIGTERM)
                event(f"SIGTERM to web process {before[0]}")
                while before[0] in _gunicorn_children(web.pid) or len(_gunicorn_children(web.pid)) < WEB_PROCESSES:
                    time.sleep(0.1)
                event(f"gunicorn replaced it: {sorted(set(_gunicorn_children(web.pid)) - set(before))}")
            if int(elapsed) % 10 == 0:
                load_average.append(os.getloadavg()[0])
            time.sleep(0.5)
        event(f"locust done ({locust.returncode})")
        web_rss = max((_rss_mb(pid) for pid in _gunicorn_children(web.pid)), default=0.0)
        worker_rss = max((_rss_mb(w.pid) for w in workers), default=0.0)

        deadline = time.monotonic() + 300
        while True:
            counts = _statuses(database_url, fixture["load_competition"])
            if counts.get("queued", 0) + counts.get("scoring", 0) == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        event(f"submissions settled: {counts}")
        import requests

        metrics = requests.get(
            f"http://127.0.0.1:{web_port}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30
        ).text
        from redis import Redis
        from rq import Queue

        connection = Redis.from_url(redis_url)
        Queue(queue, connection=connection).delete(delete_jobs=True)
        connection.delete(f"playground:metrics:{queue}")
    return _report(folder, counts, metrics, web_rss, worker_rss, queue, load_average)


def _report(
    folder: Path,
    counts: dict[str, int],
    metrics: str,
    web_rss: float,
    worker_rss: float,
    queue: str,
    load_average: list[float],
) -> int:
    rows = _percentiles(folder / "locust_stats.csv")
    failures = _percentiles(folder / "locust_failures.csv") if (folder / "locust_failures.csv").exists() else []
    print()
    print(f"{USERS} users, {DURATION} s, gunicorn x{WEB_PROCESSES}, {WORKERS} workers, PostgreSQL, Redis, moto S3")
    print(f"{'route':58} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}  target")
    misses = []
    total = errors = 0
    for row in rows:
        name = row["Name"]
        if name == "Aggregated":
            total, errors = int(row["Request Count"]), int(row["Failure Count"])
            continue
        p50, p95, p99 = (float(row[k] or 0) for k in ("50%", "95%", "99%"))
        target = PAGE_P95_MS if name.startswith("page") else API_P95_MS if name in FAST_API else None
        verdict = "" if target is None else f"p95 <= {target}: " + ("ok" if p95 <= target else "MISSED")
        if target is not None and p95 > target:
            misses.append(name)
        print(
            f"{name:58} {row['Request Count']:>8} {row['Failure Count']:>6} {p50:7.0f} {p95:7.0f} {p99:7.0f}  {verdict}"
        )
    for failure in failures:
        print(f"  error: {failure['Method']} {failure['Name']}: {failure['Error']} x{failure['Occurrences']}")
    accepted = sum(counts.values())
    scored = counts.get("scored", 0)
    lost = accepted - scored
    print(f"requests {total}, errors {errors}")
    print(f"submissions accepted {accepted}, scored {scored}, lost {lost}")
    watched = ("playground_submissions_reaped_total", "playground_jobs_failed_total", "playground_scoring_duration")
    for line in metrics.splitlines():
        if (line.startswith(watched) and ("_count" in line or "_total" in line)) or f'queue="{queue}"' in line:
            print(f"  /metrics {line}")
    print(
        f"machine load average (1 min, {os.cpu_count()} cores) during the load: "
        f"{min(load_average):.1f} to {max(load_average):.1f}, mean {sum(load_average) / len(load_average):.1f}"
    )
    print(f"largest RSS: web process {web_rss:.0f} MB, worker {worker_rss:.0f} MB")
    print("latency targets: " + ("all met" if not misses else f"missed by {', '.join(misses)}"))
    print(f"logs and locust's CSV files: {folder}")
    return 1 if errors or lost else 0


if __name__ == "__main__":
    sys.exit(main())
