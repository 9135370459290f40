"""Absurd files are refused early and cheaply: too wide, too long, bombs that expand, messages of any length."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import scorers
from scorers import ValidationError
from scorers.cli import main

REPO = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
IDS = [f"ls{i:05d}" for i in range(300)]
# What a refusal may cost a process that imports the scorers (pyarrow, NumPy) and reads at most the
# 50 MB allowed in these tests; the files below expand to 600 MB and more.
PEAK_RSS_MB = 300


@pytest.fixture(scope="module")
def solution_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("solution") / "solution.csv"
    labels = np.arange(len(IDS)) % 3 == 0
    path.write_text("id,label\n" + "".join(f"{i},{int(y)}\n" for i, y in zip(IDS, labels, strict=True)))
    return path


@pytest.fixture(scope="module")
def solution(solution_file) -> scorers.Solution:
    return scorers.Solution.load(solution_file)


def wide_csv(columns: int) -> bytes:
    names = [f"c{i}" for i in range(columns)]
    return (",".join(names) + "\n" + ",".join("1" for _ in names) + "\n").encode()


def run_python(code: str, *, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Python code in a process of its own, which must end before timeout (a quadratic check would not)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ | (env or {}),
        check=False,
    )


def test_a_hundred_thousand_columns_are_refused_from_the_header_with_a_short_message(tmp_path, solution_file):
    """889 KB of header once cost minutes of CPU and a 2 MB message; the header alone now says enough."""
    wide = tmp_path / "wide.csv"
    wide.write_bytes(wide_csv(100_000))
    assert 800_000 < wide.stat().st_size < 1_000_000
    argv = ["score", "--metric", "roc_auc", "--solution", str(solution_file), "--submission", str(wide)]
    done = subprocess.run(
        [sys.executable, "-m", "scorers", *argv], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "columns" in done.stderr and "'id' and 'label'" in done.stderr
    assert len(done.stderr) < 500


def test_a_solution_of_a_hundred_thousand_columns_is_read_in_linear_time():
    """A solution has no column limit (organisers add what they like), so its duplicate check must be cheap."""
    code = (
        "import scorers\n"
        "names = [f'c{i % 50_000}' for i in range(100_000)]\n"
        "data = (','.join(names) + '\\n' + ','.join('1' for _ in names) + '\\n').encode()\n"
        "try:\n"
        "    scorers.Solution.load(data)\n"
        "except scorers.ValidationError as error:\n"
        "    print(error)\n"
    )
    done = run_python(code, timeout=60)
    assert "more than once" in done.stdout and "(and 49,990 more)" in done.stdout
    assert len(done.stdout) < 500


def test_a_few_columns_of_huge_names_get_a_short_message(solution):
    header = ",".join(["id", "label", *(f"{i}" + "x" * 100_000 for i in range(7))])
    with pytest.raises(ValidationError) as refused:
        scorers.read_submission(f"{header}\n{IDS[0]},0.5{',1' * 7}\n".encode(), solution)
    assert "unexpected" in str(refused.value) and len(str(refused.value)) < 2000


def test_unknown_ids_of_any_length_get_a_short_message(solution):
    rows = "".join(f"{'y' * 100_000}{i},0.5\n" for i in range(len(IDS)))
    with pytest.raises(ValidationError) as refused:
        scorers.read_submission(f"id,label\n{rows}".encode(), solution)
    assert "not in the test set" in str(refused.value) and len(str(refused.value)) < 5000


def test_far_more_rows_than_the_test_set_are_refused_before_parsing(solution):
    rows = b"ls00001,0.5\n" * 100_000
    with pytest.raises(ValidationError, match="100,000 lines below its header, more than"):
        scorers.read_submission(b"id,label\n" + rows, solution)


def test_a_few_rows_too_many_are_named(solution):
    extra = "".join(f"{i},0.5\n" for i in [*IDS, "ls99999"])
    with pytest.raises(ValidationError, match="1 id is not in the test set: ls99999"):
        scorers.read_submission(f"id,label\n{extra}".encode(), solution)


def test_a_wide_parquet_file_is_refused_from_its_metadata(solution):
    buffer = io.BytesIO()
    pq.write_table(pa.table({f"c{i}": [1] for i in range(5_000)}), buffer)
    with pytest.raises(ValidationError, match="5,000 columns; it must have exactly the columns 'id' and 'label'"):
        scorers.read_submission(buffer.getvalue(), solution)


@pytest.mark.parametrize("compressed", [False, True], ids=["csv", "gzip"])
def test_size_limit_applies_to_the_content(solution, compressed):
    content = b"id,label\n" + b"".join(f"{i},0.5\n".encode() for i in IDS)
    data = gzip.compress(content) if compressed else content
    how = " once decompressed" if compressed else ""
    with pytest.raises(ValidationError, match=f"The submission is larger than 2,000 bytes{how}, the largest accepted"):
        scorers.read_submission(data, solution, max_bytes=2000)
    assert scorers.get("roc_auc").score(solution, data, max_bytes=len(content)).n_public


def write_gzip_bomb(path: Path, size: int) -> None:
    """A gzip file of zero bytes that expands to size bytes, written without holding them."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MB)
    with path.open("wb") as handle:
        for _ in range(size // MB):
            handle.write(compressor.compress(zeros))
        handle.write(compressor.flush())


def write_parquet_bomb(path: Path, rows: int) -> None:
    """A Parquet file whose id column repeats one 1 MB dictionary entry on every row."""
    ids = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int32)), pa.array(["x" * MB]))
    pq.write_table(pa.table({"id": ids, "label": np.zeros(rows)}), path, compression="zstd")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="measures memory through Linux's /proc")
@pytest.mark.parametrize("write", [write_gzip_bomb, write_parquet_bomb], ids=["gzip", "parquet"])
def test_a_bomb_is_refused_while_memory_stays_low(tmp_path, solution_file, write):
    """A small file that expands to 600 MB: the scorer refuses it at 50 MB, and never holds more."""
    bomb = tmp_path / "bomb"
    write(bomb, 600 * MB if write is write_gzip_bomb else 600)
    assert bomb.stat().st_size < 2 * MB
    argv = ["score", "--metric", "roc_auc", "--solution", str(solution_file), "--submission", str(bomb)]
    # The kernel's high-water mark of this process's memory since it started (getrusage would count the
    # memory of the test process it was forked from).
    code = (
        "import json, re\n"
        "from pathlib import Path\n"
        "from scorers.cli import main\n"
        f"status = main({argv!r})\n"
        "peak = int(re.search(r'VmHWM:\\s+(\\d+) kB', Path('/proc/self/status').read_text()).group(1)) // 1024\n"
        "print(json.dumps({'status': status, 'peak_mb': peak}))\n"
    )
    done = run_python(code, env={"SCORERS_MAX_MB": "50"}, timeout=120)
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["peak_mb"] < PEAK_RSS_MB
    assert outcome["status"] == 2 and "larger than 50 MB" in done.stderr, done.stderr[:500]


def test_the_command_line_takes_its_limit_as_an_option(tmp_path, solution_file, capsys):
    bomb = tmp_path / "bomb.csv.gz"
    write_gzip_bomb(bomb, 3 * MB)
    argv = ["score", "--metric", "roc_auc", "--solution", str(solution_file), "--submission", str(bomb)]
    assert main([*argv, "--max-mb", "2"]) == 2
    assert "The submission is larger than 2 MB once decompressed" in capsys.readouterr().err
