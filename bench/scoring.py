"""Scoring 1,000,000 rows: the scorers path against a naive pandas path and a floor, in one run.

(a) scorers: read both files, validate, score public and private;
(b) naive: pandas.read_csv both, merge on id, sklearn roc_auc_score on each side;
(c) floor: pyarrow reads of both files plus one NumPy argsort of the scores.
Each path runs in a fresh process (imports excluded from the time), three times; the
median is printed, with the peak memory of (a). Targets: (a) <= 1.5 x (c), shuffled
(a) <= 2.5 x (c), peak memory of (a) under 400 MB.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROWS = 1_000_000
REPEAT = 3
REPO = Path(__file__).resolve().parents[1]

PATHS = {
    "scorers": """
import scorers
t = time.perf_counter()
result = scorers.score_files("roc_auc", SOLUTION, SUBMISSION)
elapsed = time.perf_counter() - t
""",
    "naive": """
import pandas as pd
from sklearn.metrics import roc_auc_score
t = time.perf_counter()
sol, sub = pd.read_csv(SOLUTION), pd.read_csv(SUBMISSION)
merged = sol.merge(sub, on="id", suffixes=("", "_pred"))
for side in ("Public", "Private"):
    part = merged[merged["Usage"] == side]
    roc_auc_score(part["label"], part["label_pred"])
elapsed = time.perf_counter() - t
""",
    "floor": """
import numpy as np
import pyarrow.csv as pacsv
t = time.perf_counter()
sol, sub = pacsv.read_csv(SOLUTION), pacsv.read_csv(SUBMISSION)
np.argsort(sub.column("label").to_numpy())
elapsed = time.perf_counter() - t
""",
}

RUNNER = """
import json, resource, sys, time
sys.path.insert(0, {repo!r})
SOLUTION, SUBMISSION = {solution!r}, {submission!r}
{body}
print(json.dumps({{"seconds": elapsed, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def write_files(folder: Path) -> tuple[Path, Path, Path]:
    """Solution, submission in the same order, and submission in shuffled order."""
    rng = np.random.default_rng(0)
    ids = np.arange(ROWS)
    labels = (rng.random(ROWS) < 0.02).astype(np.int8)
    usage = np.where(rng.random(ROWS) < 0.3, "Public", "Private")
    scores = labels * 0.3 + rng.random(ROWS)
    pd.DataFrame({"id": ids, "label": labels, "Usage": usage}).to_csv(folder / "solution.csv", index=False)
    submission = pd.DataFrame({"id": ids, "label": scores})
    submission.to_csv(folder / "submission.csv", index=False)
    submission.sample(frac=1, random_state=1).to_csv(folder / "shuffled.csv", index=False)
    return folder / "solution.csv", folder / "submission.csv", folder / "shuffled.csv"


def measure(path: str, solution: Path, submission: Path) -> dict:
    """Median seconds and the largest peak memory over REPEAT fresh processes."""
    runs = []
    for _ in range(REPEAT):
        code = RUNNER.format(repo=str(REPO), solution=str(solution), submission=str(submission), body=PATHS[path])
        output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
    return {"seconds": statistics.median(r["seconds"] for r in runs), "peak_mb": max(r["peak_mb"] for r in runs)}


def report(label: str, solution: Path, submission: Path, target: float) -> None:
    a, b, c = (measure(path, solution, submission) for path in ("scorers", "naive", "floor"))
    ratio = a["seconds"] / c["seconds"]
    print(f"{label}:")
    print(f"  (a) scorers {a['seconds']:.3f} s  peak {a['peak_mb']:.0f} MB (target < 400 MB)")
    print(f"  (b) naive   {b['seconds']:.3f} s")
    print(f"  (c) floor   {c['seconds']:.3f} s")
    print(f"  (a)/(c) = {ratio:.2f} (target <= {target}) {'ok' if ratio <= target else 'MISSED'}")
    print(f"  (b)/(a) = {b['seconds'] / a['seconds']:.2f}")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        solution, submission, shuffled = write_files(Path(folder))
        print(f"roc_auc on {ROWS:,} rows (2% positives, 30% public), median of {REPEAT} fresh processes")
        report("submission in the solution's order", solution, submission, 1.5)
        report("submission in shuffled order", solution, shuffled, 2.5)


if __name__ == "__main__":
    main()
