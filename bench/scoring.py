"""Scoring 1,000,000 rows: the scorers path against a naive pandas path and a floor, measured in one run.

(a) scorers: read both files, validate, score public and private (`scorers.score_files`);
(b) naive: pandas.read_csv both, merge on id, sklearn's roc_auc_score on each side;
(c) floor: pyarrow reads of both files plus one NumPy argsort of the scores.

The files are CSV: ids, 0/1 labels with 2% positives, float scores, a Usage column with 30% public. Each
path runs in a process of its own (so that peak memory is its own, read from ru_maxrss, which sees pyarrow's
allocations), once to warm up and then REPEAT times, taking turns with the other paths; the median is
printed. The same is done for a submission whose ids come in shuffled order. Targets: (a) <= 1.5 x (c)
in the solution's order, (a) <= 2.5 x (c) shuffled, peak memory of (a) under 400 MB. Last, the split
from public_fraction and split_seed, for solutions without Usage, is timed on 1,000,000 ids.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

ROWS = 1_000_000
REPEAT = 7
REPO = Path(__file__).resolve().parents[1]

PATHS = {
    "scorers": """
import scorers

def run():
    return scorers.score_files("roc_auc", SOLUTION, SUBMISSION)
""",
    "naive": """
import pandas as pd
from sklearn.metrics import roc_auc_score

def run():
    solution, submission = pd.read_csv(SOLUTION), pd.read_csv(SUBMISSION)
    merged = solution.merge(submission, on="id", suffixes=("", "_pred"))
    return [
        roc_auc_score(part["label"], part["label_pred"])
        for part in (merged[merged["Usage"] == side] for side in ("Public", "Private"))
    ]
""",
    "floor": """
import numpy as np
import pyarrow.csv as pacsv

def run():
    pacsv.read_csv(SOLUTION)
    return np.argsort(pacsv.read_csv(SUBMISSION).column("label").to_numpy())
""",
    "scorers, solution loaded once": """
import scorers

solution = scorers.Solution.load(SOLUTION)

def run():
    return scorers.get("roc_auc").score(solution, SUBMISSION)
""",
}

# A path's process: imports, one warm-up run, then one timed run per line read, answered on stdout.
RUNNER = """
import json, resource, sys, time
sys.path.insert(0, {repo!r})
SOLUTION, SUBMISSION = {solution!r}, {submission!r}
{body}
run()
print("ready", flush=True)
for _ in sys.stdin:
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(json.dumps({{"seconds": seconds, "peak_mb": peak}}), flush=True)
"""


def write_files(folder: Path) -> dict[str, Path]:
    """The solution, a submission in the solution's order and the same submission shuffled, as CSV."""
    rng = np.random.default_rng(0)
    ids = np.arange(ROWS)
    labels = (rng.random(ROWS) < 0.02).astype(np.int8)
    usage = np.where(rng.random(ROWS) < 0.3, "Public", "Private")
    scores = labels * 0.3 + rng.random(ROWS)
    shuffle = rng.permutation(ROWS)
    tables = {
        "solution": pa.table({"id": ids, "label": labels, "Usage": usage}),
        "submission": pa.table({"id": ids, "label": scores}),
        "shuffled": pa.table({"id": ids[shuffle], "label": scores[shuffle]}),
    }
    options = pacsv.WriteOptions(quoting_style="none")
    paths = {}
    for name, table in tables.items():
        paths[name] = folder / f"{name}.csv"
        pacsv.write_csv(table, paths[name], write_options=options)
    return paths


def measure(solution: Path, submission: Path) -> dict[str, dict]:
    """Each path's median seconds and peak memory, its runs taking turns with the others' so that any
    change in the machine's load falls on all paths alike."""
    processes = {}
    for path, body in PATHS.items():
        code = RUNNER.format(repo=str(REPO), solution=str(solution), submission=str(submission), body=body)
        processes[path] = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
    runs: dict[str, list[dict]] = {path: [] for path in PATHS}
    try:
        for process in processes.values():
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError("a benchmark process failed to start")
        for _ in range(REPEAT):
            for path, process in processes.items():
                process.stdin.write("run\n")
                process.stdin.flush()
                runs[path].append(json.loads(process.stdout.readline()))
    finally:
        for process in processes.values():
            process.stdin.close()
            process.wait()
    return {
        path: {
            "seconds": statistics.median(run["seconds"] for run in results),
            "peak_mb": max(run["peak_mb"] for run in results),
        }
        for path, results in runs.items()
    }


def report(label: str, solution: Path, submission: Path, target: float) -> None:
    """Print the three times, the two ratios and the peak memory of (a) for one submission."""
    measured = measure(solution, submission)
    a, b, c = measured["scorers"], measured["naive"], measured["floor"]
    cached = measured["scorers, solution loaded once"]
    ratio = a["seconds"] / c["seconds"]
    verdict = "met" if ratio <= target else f"missed by {ratio / target - 1:.0%}"
    memory = "met" if a["peak_mb"] < 400 else "missed"
    print(f"{label}:")
    print(f"  (a) scorers: read, validate, score both sides  {a['seconds']:6.3f} s")
    print(f"  (b) naive: pandas, merge, scikit-learn         {b['seconds']:6.3f} s")
    print(f"  (c) floor: pyarrow reads and one argsort       {c['seconds']:6.3f} s")
    print(f"  (a)/(c) = {ratio:.2f}  (target <= {target}: {verdict})")
    print(f"  (b)/(a) = {b['seconds'] / a['seconds']:.2f}")
    print(f"  peak memory of (a): {a['peak_mb']:.0f} MB  (target < 400 MB: {memory})")
    print(f"  for reference, (a) with the solution loaded once, as workers do: {cached['seconds']:.3f} s")


def report_split() -> None:
    """Print how long the split from public_fraction and split_seed takes, for solutions without Usage."""
    sys.path.insert(0, str(REPO))
    from scorers.split import public_mask

    print(f"split by a hash of each id and the seed (no Usage column), {ROWS:,} ids:")
    numbers = np.arange(ROWS) + 315_000_000
    texts = [f"{number // 4000}_ls{number % 4000}" for number in numbers]  # run and lumisection
    for label, ids in (("integer ids", pa.array(numbers)), ("text ids", pa.array(texts))):
        public_mask(ids, 0.3, 42)
        times = []
        for _ in range(REPEAT):
            start = time.perf_counter()
            public_mask(ids, 0.3, 42)
            times.append(time.perf_counter() - start)
        print(f"  {label}: {statistics.median(times):.3f} s")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = write_files(Path(folder))
        print(f"roc_auc on {ROWS:,} rows of CSV (2% positives, 30% public), median of {REPEAT} warm runs")
        report("submission in the solution's order", paths["solution"], paths["submission"], 1.5)
        report("submission in shuffled order", paths["solution"], paths["shuffled"], 2.5)
    report_split()


if __name__ == "__main__":
    main()
