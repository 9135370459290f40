"""`make deploy-check` (deploy/check.py): the repository's manifests pass, and a broken copy fails, naming what
broke and where."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
READ_BY_THE_CHECK = [
    "README.md",
    "config.py",
    "gunicorn.conf.py",
    "Dockerfile",
    "docker-compose.yml",
    "requirements.txt",
    "pyproject.toml",
]


def _run(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(root / "deploy" / "check.py")], capture_output=True, text=True, timeout=300, cwd=root
    )


def test_the_manifests_of_the_repository_pass():
    result = _run(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checked deploy/overlays/openshift: " in result.stdout
    assert "checked deploy/overlays/kubernetes+deploy/components/keda: " in result.stdout
    assert "Route" in result.stdout and "Ingress" in result.stdout and "ScaledObject" in result.stdout


def _replace(path: str, old: str, new: str):
    def mutate(root: Path) -> None:
        file = root / path
        text = file.read_text()
        assert old in text, f"{old!r} is not in {path}"
        file.write_text(text.replace(old, new, 1))

    return mutate


WORKER_CONTAINER_CONTEXT = """          securityContext:
            allowPrivilegeEscalation: false
            runAsNonRoot: true
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:"""


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(
            _replace(
                "deploy/base/worker-deployment.yaml",
                WORKER_CONTAINER_CONTEXT,
                "          volumeMounts:\n            - name: tmp\n              mountPath: /tmp\n      volumes:",
            ),
            "FAIL deploy/overlays/openshift Deployment/playground-worker container worker: no securityContext",
            id="a container without securityContext",
        ),
        pytest.param(
            _replace("deploy/base/configmap.yaml", 'JOB_TIMEOUT: "600"', 'JOB_TIMEOUT: "900"'),
            "Deployment/playground-worker: terminationGracePeriodSeconds 630 < JOB_TIMEOUT 900 + 30",
            id="a job timeout longer than the worker's grace period",
        ),
        pytest.param(
            _replace("README.md", "| `MAX_UPLOAD_MB` |", "| `NEW_SETTING` | new | 1 |\n| `MAX_UPLOAD_MB` |"),
            "variables of the README in neither the ConfigMap nor the Secret: ['NEW_SETTING']",
            id="a documented variable missing from the ConfigMap",
        ),
        pytest.param(
            _replace(
                "deploy/base/configmap.yaml", "  RQ_QUEUE: playground", "  RQ_QUEUE: playground\n  JOB_TIMOUT: '5'"
            ),
            "variables the platform does not read (misspelt?): ['JOB_TIMOUT']",
            id="a misspelt variable",
        ),
        pytest.param(
            _replace(
                "deploy/base/migrate-job.yaml",
                "runAsNonRoot: true\n        seccomp",
                "runAsUser: 1000\n        runAsNonRoot: true\n        seccomp",
            ),
            "FAIL deploy/overlays/openshift Job/playground-migrate: runAsUser is fixed: OpenShift assigns user ids",
            id="a fixed user id",
        ),
        pytest.param(
            _replace("deploy/base/web-service.yaml", "      port: 8080", "      port: 8080\n      targetPorts: http"),
            "Service/playground-web: not valid in Kubernetes 1.30: spec.ports.0: Additional properties are not allowed",
            id="a field Kubernetes does not know",
        ),
        pytest.param(
            _replace("deploy/overlays/openshift/route.yaml", "    targetPort: http", "    targetPort: web"),
            "Route/playground: no port web on Service playground-web",
            id="a route to no port",
        ),
        pytest.param(
            _replace(
                "deploy/base/web-deployment.yaml",
                "path: /healthz\n              port: http\n            periodSeconds: 10",
                "path: /\n              port: http\n            periodSeconds: 10",
            ),
            "container web: no readinessProbe on /healthz",
            id="a readiness probe elsewhere",
        ),
        pytest.param(
            _replace(
                "deploy/overlays/kubernetes/kustomization.yaml",
                "    patch: |-\n      - op: add",
                "    patch: |-\n      spec: {}\n      #",
            ),
            "deploy/overlays/kubernetes: cannot render:",
            id="a strategic merge patch",
        ),
        pytest.param(
            _replace("docker-compose.yml", "image: dqm-playground:latest", "image: playground:latest"),
            "docker-compose.yml: x-app builds image playground:latest, not dqm-playground",
            id="another image name in compose",
        ),
    ],
)
def test_a_broken_copy_fails_naming_the_problem(tmp_path, mutate, expected):
    shutil.copytree(REPO / "deploy", tmp_path / "deploy", ignore=shutil.ignore_patterns("__pycache__"))
    for name in READ_BY_THE_CHECK:
        shutil.copyfile(REPO / name, tmp_path / name)
    assert _run(tmp_path).returncode == 0  # the copy is whole
    mutate(tmp_path)
    result = _run(tmp_path)
    assert result.returncode == 1
    assert expected in result.stdout, result.stdout
