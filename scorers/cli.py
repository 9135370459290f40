"""`python -m scorers score` and `python -m scorers list`: JSON out; exit 2 and a message on bad input."""

from __future__ import annotations

import argparse
import json
import os
import sys

from scorers.errors import UnknownMetricError, ValidationError
from scorers.metrics import REGISTRY, get
from scorers.solution import Solution

USAGE_ERROR = 2
MB = 1024 * 1024
# Five times the platform's default upload limit, as the platform's workers allow.
DEFAULT_MAX_MB = 1000


def _megabytes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of MB") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of MB")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def _param(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    try:
        if not sep:
            raise ValueError(text)
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must read NAME=NUMBER") from None


def parser() -> argparse.ArgumentParser:
    """The command line's arguments."""
    main = argparse.ArgumentParser(prog="python -m scorers", description="Score competition predictions.")
    commands = main.add_subparsers(dest="command", required=True)
    score = commands.add_parser("score", help="score a submission file; prints one JSON object")
    score.add_argument("--metric", required=True, help="a name that `python -m scorers list` shows")
    score.add_argument("--solution", required=True, help="the solution: CSV, gzip CSV or Parquet")
    score.add_argument("--submission", required=True, help="the predictions: CSV, gzip CSV or Parquet")
    score.add_argument(
        "--public-fraction", type=_fraction, default=0.3, help="share of public ids, without a Usage column"
    )
    score.add_argument("--split-seed", type=int, default=0, help="seed of the split, without a Usage column")
    score.add_argument("--id-column", default="id")
    score.add_argument(
        "--target-column",
        default=None,
        help="default: the one column besides the id, Usage and weight",
    )
    score.add_argument(
        "--max-mb",
        type=_megabytes,
        default=os.environ.get("SCORERS_MAX_MB", DEFAULT_MAX_MB),
        help=f"the most a file may hold once decompressed, in MB (default: $SCORERS_MAX_MB, else {DEFAULT_MAX_MB})",
    )
    score.add_argument(
        "--param", type=_param, action="append", default=[], metavar="NAME=VALUE", help="a metric parameter"
    )
    listing = commands.add_parser("list", help="list the metrics: name, direction, parameters")
    listing.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    return main


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = parser().parse_args(argv)
    if args.command == "list":
        _list(args.json)
        return 0
    try:
        result = _score(args)
    except (ValidationError, UnknownMetricError) as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as error:
        print(f"error: cannot read {error.filename}: {error.strerror}", file=sys.stderr)
        return USAGE_ERROR
    print(json.dumps(result, allow_nan=False))
    return 0


def _score(args: argparse.Namespace) -> dict:
    try:
        scorer = get(args.metric, **dict(args.param))
    except ValueError as error:  # a parameter the metric does not take, or a value out of its range
        raise ValidationError(str(error)) from None
    solution = Solution.load(
        args.solution,
        id_column=args.id_column,
        target_column=args.target_column,
        public_fraction=args.public_fraction,
        split_seed=args.split_seed,
        max_bytes=args.max_mb * MB,
    )
    with open(args.submission, "rb") as submission:
        return scorer.score(solution, submission, max_bytes=args.max_mb * MB).as_json()


def _list(as_json: bool) -> None:
    described = [cls.as_json() for cls in REGISTRY.values()]
    if as_json:
        print(json.dumps(described))
        return
    for metric in described:
        parameters = ", ".join(f"{key}={value:g}" for key, value in metric["parameters"].items()) or "-"
        print(f"{metric['name']:<18} {metric['direction']:<7} {parameters:<14} {metric['description']}")
