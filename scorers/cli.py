"""``python -m scorers score`` and ``python -m scorers list``."""

from __future__ import annotations

import argparse
import json
import sys

from scorers.errors import ValidationError
from scorers.metrics import REGISTRY
from scorers.solution import Solution
from scorers.submission import read_submission


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scorers", description="Score predictions against a solution.")
    commands = parser.add_subparsers(dest="command", required=True)
    score = commands.add_parser("score", help="score a submission file; prints one JSON object")
    score.add_argument("--metric", required=True, help="a name from `python -m scorers list`")
    score.add_argument("--solution", required=True, help="solution file: CSV, gzip CSV or Parquet")
    score.add_argument("--submission", required=True, help="submission file: CSV, gzip CSV or Parquet")
    score.add_argument("--public-fraction", type=float, default=0.3, help="used when the solution has no Usage column")
    score.add_argument("--split-seed", type=int, default=0)
    score.add_argument("--id-column", default="id")
    score.add_argument("--target-column", default=None, help="default: the solution's one other column")
    score.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a metric parameter")
    commands.add_parser("list", help="list the metrics")
    return parser


def _params(pairs: list[str]) -> dict[str, float]:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ValidationError(f"--param {pair!r} must read NAME=VALUE")
        try:
            params[name] = float(value)
        except ValueError:
            raise ValidationError(f"--param {name} must be a number, not {value!r}") from None
    return params


def _score(args: argparse.Namespace) -> dict:
    if args.metric not in REGISTRY:
        raise ValidationError(f"unknown metric {args.metric!r}; known metrics: {', '.join(sorted(REGISTRY))}")
    try:
        scorer = REGISTRY[args.metric](**_params(args.param))
    except ValueError as error:
        raise ValidationError(str(error)) from None
    try:
        solution = Solution.load(
            args.solution,
            id_column=args.id_column,
            target_column=args.target_column,
            public_fraction=args.public_fraction,
            split_seed=args.split_seed,
        )
        predictions = read_submission(args.submission, solution)
    except OSError as error:
        raise ValidationError(f"cannot read {error.filename}: {error.strerror}") from None
    return scorer.score(solution, predictions).to_dict()


def main(argv: list[str] | None = None) -> int:
    """Run the command line; exit status 2 with a message on invalid input."""
    args = _parser().parse_args(argv)
    if args.command == "list":
        for cls in REGISTRY.values():
            params = ", ".join(f"{k}={v}" for k, v in cls.defaults.items()) or "-"
            print(f"{cls.name:18} {cls.direction:7} {params}")
        return 0
    try:
        result = _score(args)
    except ValidationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0
