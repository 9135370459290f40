"""The service tiers: skipped with a reason on a laptop, a failure under CI=true."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = """
from tests import services

def test_needs_redis():
    services.redis_url()
"""


@pytest.mark.parametrize(("ci", "expected"), [("", "1 skipped"), ("true", "1 failed")])
def test_unreachable_service_skips_or_fails_under_ci(tmp_path, ci, expected):
    probe = tmp_path / "test_probe.py"
    probe.write_text(PROBE)
    env = os.environ | {"CI": ci, "TEST_REDIS_URL": "redis://127.0.0.1:1/0", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-c", os.devnull, str(probe)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert expected in result.stdout, result.stdout
    assert "Redis tier unavailable" in result.stdout
