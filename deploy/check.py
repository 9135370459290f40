"""`make deploy-check`: the manifests of deploy/ rendered and checked offline, with no cluster and no kustomize.

    python deploy/check.py [REPO]        # exit 0 when every check holds; each problem on a line of its own

What it does, in order:

1. **Renders** each overlay (``deploy/overlays/*``), and each overlay with each optional component
   (``deploy/components/*``) added, the way ``kubectl apply -k`` / ``oc apply -k`` would. kustomize is not
   installed here, so this file renders the subset of kustomize the manifests use, and refuses anything
   else by name rather than guess: ``resources`` (files and directories), ``components``, ``patches``
   given as JSON 6902 operations (add, remove, replace, test) with a ``target`` (group, version, kind,
   name), ``images`` (name, newName, newTag, digest) and ``namespace``. Strategic-merge patches,
   generators, ``commonLabels`` and the rest are reported as unsupported: use JSON 6902, or extend this.
2. **Validates** every rendered resource, and ``deploy/secret.example.yaml``, strictly (no unknown field)
   against the Kubernetes 1.30 schemas shipped by the ``kubernetes-validate`` package; the custom resources
   the manifests may use (OpenShift's Route, KEDA's ScaledObject and TriggerAuthentication) against the
   minimal schemas below. Any other kind is refused.
3. **Checks the rules** the deployment relies on: every container and init container sets
   ``allowPrivilegeEscalation: false``, ``runAsNonRoot: true``, ``readOnlyRootFilesystem: true`` and drops
   every capability, mounts an emptyDir at /tmp, has memory requests and limits, and reads the ConfigMap
   and the Secret whole; no fixed user or group id in the OpenShift overlay; a Route or an Ingress reaches
   the web Service's port; the web pods have readiness and liveness probes on /healthz; the migration Job
   runs ``flask db upgrade`` and web and worker pods wait for it; the worker's
   ``terminationGracePeriodSeconds`` covers JOB_TIMEOUT + 30 and its /tmp holds a decompressed submission
   (5 x MAX_UPLOAD_MB); an autoscaler and a PodDisruptionBudget cover the web pods; a Deployment's
   ``replicas`` is left to its autoscaler when it has one; the KEDA trigger reads the queue RQ_QUEUE.
4. **Checks consistency** with the rest of the repository: the ConfigMap and the Secret hold every variable
   of the README's configuration table (and the S3 keys) and nothing the platform does not read, secrets in
   the Secret only; every container runs the one image of the ``images`` entry, tagged with the version of
   pyproject.toml, the image the compose file builds; the Dockerfile runs as a numeric non-root user in
   group 0 with gunicorn and gunicorn.conf.py; gunicorn and prometheus_client are pinned in requirements.
"""

from __future__ import annotations

import copy
import functools
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

KUBERNETES_VERSION = "1.30"
KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "resources", "components", "patches", "images", "namespace"}
POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}
CONFIGMAP = "playground-config"
SECRET = "playground-secrets"
SECRET_EXAMPLE = "deploy/secret.example.yaml"
# Read by the platform without being in the README's table: S3 credentials, the usual AWS variables.
S3_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}
# Names of secrets, which belong in the Secret; PASSWORD_LOGIN only switches the login form on or off.
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD(?!_LOGIN$)|ACCESS_KEY|^DATABASE_URL$|^REDIS_URL$")
JOB_GRACE_MARGIN = 30  # seconds a stopping worker gets beyond JOB_TIMEOUT
DECOMPRESSED_UPLOADS = 5  # a worker's /tmp holds one submission decompressed: five times MAX_UPLOAD_MB

# ---------------------------------------------------------------------------------------------------------
# Minimal schemas of the custom resources the manifests may use: the fields they set, no others.

_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_METADATA = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
        "namespace": {"type": "string"},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
    },
}


def _resource(api_version: str, kind: str, spec: dict) -> dict:
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": _METADATA,
            "spec": spec,
        },
    }


def _closed(required: list[str], **properties: Any) -> dict:
    return {"type": "object", "required": required, "additionalProperties": False, "properties": properties}


_INT = {"type": "integer", "minimum": 0}
_STR = {"type": "string"}
CUSTOM_SCHEMAS: dict[tuple[str, str], dict] = {
    ("route.openshift.io/v1", "Route"): _resource(
        "route.openshift.io/v1",
        "Route",
        _closed(
            ["to"],
            host=_STR,
            path=_STR,
            subdomain=_STR,
            to=_closed(["kind", "name"], kind={"const": "Service"}, name=_STR, weight=_INT),
            port=_closed(["targetPort"], targetPort={"type": ["string", "integer"]}),
            tls=_closed(
                ["termination"],
                termination={"enum": ["edge", "passthrough", "reencrypt"]},
                insecureEdgeTerminationPolicy={"enum": ["Allow", "Disable", "Redirect", "None"]},
                certificate=_STR,
                key=_STR,
                caCertificate=_STR,
                destinationCACertificate=_STR,
            ),
            wildcardPolicy={"enum": ["None", "Subdomain"]},
        ),
    ),
    ("keda.sh/v1alpha1", "ScaledObject"): _resource(
        "keda.sh/v1alpha1",
        "ScaledObject",
        _closed(
            ["scaleTargetRef", "triggers"],
            scaleTargetRef=_closed(["name"], name=_STR, apiVersion=_STR, kind=_STR, envSourceContainerName=_STR),
            pollingInterval=_INT,
            cooldownPeriod=_INT,
            initialCooldownPeriod=_INT,
            idleReplicaCount=_INT,
            minReplicaCount=_INT,
            maxReplicaCount={"type": "integer", "minimum": 1},
            advanced=_closed(
                [],
                restoreToOriginalReplicaCount={"type": "boolean"},
                horizontalPodAutoscalerConfig=_closed([], name=_STR, behavior={"type": "object"}),
            ),
            triggers={
                "type": "array",
                "minItems": 1,
                "items": _closed(
                    ["type", "metadata"],
                    type=_STR,
                    name=_STR,
                    metadata=_STRING_MAP,
                    metricType={"enum": ["AverageValue", "Value", "Utilization"]},
                    authenticationRef=_closed(
                        ["name"], name=_STR, kind={"enum": ["TriggerAuthentication", "ClusterTriggerAuthentication"]}
                    ),
                ),
            },
        ),
    ),
    ("keda.sh/v1alpha1", "TriggerAuthentication"): _resource(
        "keda.sh/v1alpha1",
        "TriggerAuthentication",
        _closed(
            [],
            secretTargetRef={
                "type": "array",
                "items": _closed(["parameter", "name", "key"], parameter=_STR, name=_STR, key=_STR),
            },
            env={
                "type": "array",
                "items": _closed(["parameter", "name"], parameter=_STR, name=_STR, containerName=_STR),
            },
        ),
    ),
}


class Unsupported(Exception):
    """A kustomization asks for something this renderer does not do."""


# ---------------------------------------------------------------------------------------------------------
# Rendering: the subset of kustomize the manifests use.


def _load_documents(path: Path) -> list[dict]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document is not None]


def _kustomization(folder: Path) -> dict:
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        if (folder / name).is_file():
            spec = yaml.safe_load((folder / name).read_text()) or {}
            unknown = set(spec) - KUSTOMIZATION_FIELDS
            if unknown:
                raise Unsupported(f"{folder / name}: {', '.join(sorted(unknown))} not supported by deploy/check.py")
            return spec
    raise Unsupported(f"{folder}: no kustomization.yaml")


def render(folder: Path, extra_components: list[Path] | None = None) -> list[dict]:
    """The resources `kubectl apply -k folder` would apply, with extra components added to its own."""
    spec = _kustomization(folder)
    if spec.get("kind", "Kustomization") not in ("Kustomization", "Component"):
        raise Unsupported(f"{folder}: kind {spec.get('kind')}")
    resources: list[dict] = []
    for entry in spec.get("resources") or []:
        path = (folder / entry).resolve()
        resources += render(path) if path.is_dir() else _load_documents(path)
    for component in [*(folder / c for c in spec.get("components") or []), *(extra_components or [])]:
        resources = _apply_component(component.resolve(), resources)
    resources = _transform(folder, spec, resources)
    seen: set[tuple[str, str]] = set()
    for resource in resources:
        key = (resource.get("kind", "?"), resource.get("metadata", {}).get("name", "?"))
        if key in seen:
            raise Unsupported(f"{folder}: {key[0]}/{key[1]} is defined twice")
        seen.add(key)
    return resources


def _apply_component(folder: Path, resources: list[dict]) -> list[dict]:
    spec = _kustomization(folder)
    if spec.get("kind") != "Component":
        raise Unsupported(f"{folder}: a component must be of kind Component")
    added: list[dict] = []
    for entry in spec.get("resources") or []:
        path = (folder / entry).resolve()
        added += render(path) if path.is_dir() else _load_documents(path)
    return _transform(folder, spec, resources + added)


def _transform(folder: Path, spec: dict, resources: list[dict]) -> list[dict]:
    resources = copy.deepcopy(resources)
    for patch in spec.get("patches") or []:
        _apply_patch(folder, patch, resources)
    for image in spec.get("images") or []:
        for resource in resources:
            for container in _containers(resource):
                if _image_name(container.get("image", "")) == image["name"]:
                    container["image"] = _new_image(container["image"], image)
    if spec.get("namespace"):
        for resource in resources:
            resource.setdefault("metadata", {})["namespace"] = spec["namespace"]
    return resources


def _apply_patch(folder: Path, patch: dict, resources: list[dict]) -> None:
    target = patch.get("target")
    text = patch.get("patch") if "patch" in patch else (folder / patch["path"]).read_text()
    operations = yaml.safe_load(text)
    if not target or not isinstance(operations, list):
        raise Unsupported(f"{folder}: only JSON 6902 patches with a target are supported (not strategic merge)")
    matched = [resource for resource in resources if _selected(resource, target)]
    if not matched:
        raise Unsupported(f"{folder}: the patch target {target} matches no resource")
    for resource in matched:
        for operation in operations:
            _json_patch(resource, operation, f"{folder} {resource['kind']}/{resource['metadata']['name']}")


def _selected(resource: dict, target: dict) -> bool:
    group, _, version = resource.get("apiVersion", "").rpartition("/")
    wanted = {"group": group, "version": version, "kind": resource.get("kind"), "name": resource["metadata"]["name"]}
    unknown = set(target) - set(wanted)
    if unknown:
        raise Unsupported(f"patch target fields {sorted(unknown)} not supported by deploy/check.py")
    return all(wanted[field] == value for field, value in target.items())


def _json_patch(document: dict, operation: dict, where: str) -> None:
    """Apply one JSON 6902 operation (add, remove, replace, test) in place."""
    op, path = operation.get("op"), operation.get("path", "")
    if op not in ("add", "remove", "replace", "test"):
        raise Unsupported(f"{where}: JSON patch op {op!r} not supported by deploy/check.py")
    keys = [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]]
    if not keys:
        raise Unsupported(f"{where}: a JSON patch on the whole document")
    parent: Any = document
    for key in keys[:-1]:
        parent = parent[int(key)] if isinstance(parent, list) else parent.get(key)
        if parent is None:
            raise Unsupported(f"{where}: JSON patch path {path} does not exist")
    last = keys[-1]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if op == "add":
            parent.insert(index, operation["value"])
        elif op == "remove":
            parent.pop(index)
        elif op == "replace":
            parent[index] = operation["value"]
        elif parent[index] != operation["value"]:
            raise Unsupported(f"{where}: JSON patch test failed at {path}")
        return
    if op in ("remove", "replace", "test") and last not in parent:
        raise Unsupported(f"{where}: JSON patch path {path} does not exist")
    if op in ("add", "replace"):
        parent[last] = operation["value"]
    elif op == "remove":
        del parent[last]
    elif parent[last] != operation["value"]:
        raise Unsupported(f"{where}: JSON patch test failed at {path}")


def _image_name(image: str) -> str:
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def _new_image(old: str, image: dict) -> str:
    name = image.get("newName") or _image_name(old)
    if image.get("digest"):
        return f"{name}@{image['digest']}"
    tag = image.get("newTag")
    if tag is None:
        rest = old[len(_image_name(old)) :]
        return name + rest
    return f"{name}:{tag}"


def _pod_spec(resource: dict) -> dict | None:
    if resource.get("kind") not in POD_TEMPLATE_KINDS:
        return None
    return resource.get("spec", {}).get("template", {}).get("spec")


def _containers(resource: dict) -> Iterator[dict]:
    pod = _pod_spec(resource)
    if pod:
        yield from pod.get("initContainers") or []
        yield from pod.get("containers") or []


# ---------------------------------------------------------------------------------------------------------
# Checks.


class Report:
    """Problems found, each with where it is."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> None:
        """Record a problem."""
        self.problems.append(f"{where}: {message}")

    def expect(self, condition: object, where: str, message: str) -> None:
        """Record a problem unless the condition holds."""
        if not condition:
            self.fail(where, message)


def _name(resource: dict) -> str:
    return f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"


def validate_schemas(resources: list[dict], where: str, report: Report) -> None:
    """Every resource against the Kubernetes 1.30 schemas, strictly, or the custom resources' minimal ones."""
    import jsonschema
    import kubernetes_validate
    from kubernetes_validate import utils

    if not hasattr(utils.schema_contents, "cache_info"):  # each call would parse the same files again
        utils.schema_contents = functools.cache(utils.schema_contents)
    for resource in resources:
        key = (resource.get("apiVersion", ""), resource.get("kind", ""))
        if key in CUSTOM_SCHEMAS:
            for error in jsonschema.Draft202012Validator(CUSTOM_SCHEMAS[key]).iter_errors(resource):
                path = ".".join(map(str, error.absolute_path))
                report.fail(f"{where} {_name(resource)}", f"{path}: {error.message}")
            continue
        try:
            kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            report.fail(
                f"{where} {_name(resource)}", f"{key[0]} {key[1]} is neither Kubernetes' nor a known custom kind"
            )
        except kubernetes_validate.ValidationError as error:
            path = ".".join(map(str, error.path))
            report.fail(
                f"{where} {_name(resource)}", f"not valid in Kubernetes {KUBERNETES_VERSION}: {path}: {error.message}"
            )


def check_pods(resources: list[dict], where: str, openshift: bool, report: Report) -> None:
    """Security context, /tmp, resources, settings, fixed ids, for every pod template."""
    for resource in resources:
        pod = _pod_spec(resource)
        if pod is None:
            continue
        here = f"{where} {_name(resource)}"
        context = pod.get("securityContext") or {}
        report.expect(context.get("runAsNonRoot") is True, here, "pod securityContext.runAsNonRoot must be true")
        report.expect(
            (context.get("seccompProfile") or {}).get("type") == "RuntimeDefault",
            here,
            "pod securityContext.seccompProfile.type must be RuntimeDefault",
        )
        if openshift:
            for field in ("runAsUser", "runAsGroup", "fsGroup"):
                report.expect(field not in context, here, f"{field} is fixed: OpenShift assigns user ids")
        empty_dirs = {volume["name"] for volume in pod.get("volumes") or [] if "emptyDir" in volume}
        for container in _containers(resource):
            _check_container(container, empty_dirs, f"{here} container {container.get('name')}", openshift, report)


def _check_container(container: dict, empty_dirs: set[str], here: str, openshift: bool, report: Report) -> None:
    context = container.get("securityContext")
    if not context:
        report.fail(here, "no securityContext")
        context = {}
    report.expect(
        context.get("allowPrivilegeEscalation") is False, here, "securityContext.allowPrivilegeEscalation must be false"
    )
    report.expect(context.get("runAsNonRoot") is True, here, "securityContext.runAsNonRoot must be true")
    report.expect(
        context.get("readOnlyRootFilesystem") is True, here, "securityContext.readOnlyRootFilesystem must be true"
    )
    report.expect(
        "ALL" in ((context.get("capabilities") or {}).get("drop") or []),
        here,
        "securityContext.capabilities must drop ALL",
    )
    if openshift:
        for field in ("runAsUser", "runAsGroup"):
            report.expect(field not in context, here, f"{field} is fixed: OpenShift assigns user ids")
    mounts = {mount.get("mountPath"): mount.get("name") for mount in container.get("volumeMounts") or []}
    report.expect(
        mounts.get("/tmp") in empty_dirs, here, "no emptyDir volume mounted at /tmp (the root filesystem is read-only)"
    )
    resources = container.get("resources") or {}
    report.expect((resources.get("requests") or {}).get("memory"), here, "no memory request")
    report.expect((resources.get("limits") or {}).get("memory"), here, "no memory limit")
    sources = container.get("envFrom") or []
    report.expect(
        any((source.get("configMapRef") or {}).get("name") == CONFIGMAP for source in sources),
        here,
        f"does not read the ConfigMap {CONFIGMAP}",
    )
    report.expect(
        any((source.get("secretRef") or {}).get("name") == SECRET for source in sources),
        here,
        f"does not read the Secret {SECRET}",
    )


def _by_kind(resources: list[dict], kind: str) -> list[dict]:
    return [resource for resource in resources if resource.get("kind") == kind]


def _component(resource: dict) -> str | None:
    template = resource.get("spec", {}).get("template", {}).get("metadata", {})
    return (template.get("labels") or {}).get("app.kubernetes.io/component")


def _int(value: object, default: int = 0) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


def _mebibytes(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024 * 1024, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([A-Za-z]*)", str(quantity))
    if not match or match.group(2) not in units:
        return 0.0
    return float(match.group(1)) * units[match.group(2)]


def check_topology(resources: list[dict], where: str, report: Report) -> None:
    """Web, worker, migration, exposure, autoscaling and disruption rules of the rendered overlay."""
    deployments = {r["metadata"]["name"]: r for r in _by_kind(resources, "Deployment")}
    config = next(
        (r.get("data") or {} for r in _by_kind(resources, "ConfigMap") if r["metadata"]["name"] == CONFIGMAP), None
    )
    if config is None:
        report.fail(where, f"no ConfigMap {CONFIGMAP}")
        config = {}
    web = [d for d in deployments.values() if _component(d) == "web"]
    workers = [d for d in deployments.values() if _component(d) == "worker"]
    report.expect(len(web) == 1, where, "one Deployment labelled app.kubernetes.io/component: web is expected")
    report.expect(len(workers) == 1, where, "one Deployment labelled app.kubernetes.io/component: worker is expected")

    scaled = {r["spec"]["scaleTargetRef"]["name"] for r in _by_kind(resources, "HorizontalPodAutoscaler")}
    keda = {r["spec"]["scaleTargetRef"]["name"] for r in _by_kind(resources, "ScaledObject")}
    for name, deployment in deployments.items():
        autoscaled = name in scaled or name in keda
        has_replicas = "replicas" in deployment["spec"]
        report.expect(
            autoscaled != has_replicas,
            f"{where} Deployment/{name}",
            "sets replicas that its autoscaler owns" if autoscaled else "has neither replicas nor an autoscaler",
        )
    for deployment in web:
        name = deployment["metadata"]["name"]
        report.expect(name in scaled, where, f"no HorizontalPodAutoscaler for Deployment/{name}")
        _check_web(deployment, where, report)
    for deployment in workers:
        _check_worker(deployment, config, where, report)
    for deployment in web + workers:
        init = deployment["spec"]["template"]["spec"].get("initContainers") or []
        report.expect(
            any("flask db current" in " ".join(c.get("command") or []) for c in init),
            f"{where} {_name(deployment)}",
            "no init container waiting for the migrations (flask db current)",
        )
    jobs = [j for j in _by_kind(resources, "Job") if _component(j) == "migrate"]
    report.expect(
        any(c.get("command") == ["flask", "db", "upgrade"] for j in jobs for c in _containers(j)),
        where,
        "no migration Job running `flask db upgrade`",
    )
    _check_disruption_budgets(resources, web + workers, where, report)
    _check_exposure(resources, where, config, report)
    for scaled_object in _by_kind(resources, "ScaledObject"):
        _check_keda(scaled_object, deployments, workers, config, where, report)


def _labels_match(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def _check_web(deployment: dict, where: str, report: Report) -> None:
    here = f"{where} {_name(deployment)}"
    containers = deployment["spec"]["template"]["spec"]["containers"]
    for container in containers:
        ports = {port.get("name") for port in container.get("ports") or []} | {
            port.get("containerPort") for port in container.get("ports") or []
        }
        for probe in ("readinessProbe", "livenessProbe"):
            get = (container.get(probe) or {}).get("httpGet") or {}
            report.expect(
                get.get("path") == "/healthz", f"{here} container {container['name']}", f"no {probe} on /healthz"
            )
            report.expect(
                get.get("port") in ports, f"{here} container {container['name']}", f"{probe} on an undeclared port"
            )
        command = " ".join(container.get("command") or [])
        report.expect(
            "gunicorn" in command and "gunicorn.conf.py" in command,
            f"{here} container {container['name']}",
            "the web runs gunicorn with gunicorn.conf.py",
        )


def _check_worker(deployment: dict, config: dict, where: str, report: Report) -> None:
    here = f"{where} {_name(deployment)}"
    pod = deployment["spec"]["template"]["spec"]
    timeout = _int(config.get("JOB_TIMEOUT") or 600)
    grace = _int(pod.get("terminationGracePeriodSeconds", 30))
    report.expect(
        grace >= timeout + JOB_GRACE_MARGIN,
        here,
        f"terminationGracePeriodSeconds {grace} < JOB_TIMEOUT {timeout} + {JOB_GRACE_MARGIN}: "
        "a stopping worker could be killed mid-job",
    )
    upload_mb = _int(config.get("MAX_UPLOAD_MB") or 200)
    tmp = next((v for v in pod.get("volumes") or [] if v.get("name") == "tmp" and "emptyDir" in v), None)
    size = _mebibytes((tmp or {}).get("emptyDir", {}).get("sizeLimit", "0"))
    report.expect(
        size >= DECOMPRESSED_UPLOADS * upload_mb,
        here,
        f"/tmp sizeLimit {size:.0f} MiB cannot hold a decompressed submission ({DECOMPRESSED_UPLOADS} x MAX_UPLOAD_MB)",
    )
    for container in pod["containers"]:
        report.expect(
            (container.get("command") or [])[:2] == ["flask", "worker"],
            f"{here} container {container['name']}",
            "the worker runs `flask worker`",
        )


def _check_disruption_budgets(resources: list[dict], deployments: list[dict], where: str, report: Report) -> None:
    budgets = _by_kind(resources, "PodDisruptionBudget")
    for deployment in deployments:
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        report.expect(
            any(_labels_match(b["spec"]["selector"].get("matchLabels") or {}, labels) for b in budgets),
            where,
            f"no PodDisruptionBudget selects the pods of {_name(deployment)}",
        )


def _check_exposure(resources: list[dict], where: str, config: dict, report: Report) -> None:
    """A Route or an Ingress reaches a Service whose port exists, and each Service selects pods."""
    templates = [r["spec"]["template"] for r in resources if _pod_spec(r) is not None]
    services = {}
    for service in _by_kind(resources, "Service"):
        selected = [
            t for t in templates if _labels_match(service["spec"].get("selector") or {}, t["metadata"]["labels"])
        ]
        report.expect(selected, f"{where} {_name(service)}", "selects no pods")
        container_ports = {
            port.get("name") for t in selected for c in t["spec"]["containers"] for port in c.get("ports") or []
        }
        for port in service["spec"].get("ports") or []:
            report.expect(
                port.get("targetPort") in container_ports,
                f"{where} {_name(service)}",
                f"targetPort {port.get('targetPort')} is no named port of its pods",
            )
        services[service["metadata"]["name"]] = {p.get("name") for p in service["spec"].get("ports") or []}
    routes = _by_kind(resources, "Route")
    ingresses = _by_kind(resources, "Ingress")
    report.expect(routes or ingresses, where, "neither a Route nor an Ingress: the platform is unreachable")
    for route in routes:
        target = route["spec"]["to"]["name"]
        port = (route["spec"].get("port") or {}).get("targetPort")
        report.expect(
            port in services.get(target, set()), f"{where} {_name(route)}", f"no port {port} on Service {target}"
        )
        report.expect(route["spec"].get("tls"), f"{where} {_name(route)}", "no TLS")
    upload_mb = _int(config.get("MAX_UPLOAD_MB") or 200)
    for ingress in ingresses:
        for rule in ingress["spec"].get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                backend = path["backend"].get("service") or {}
                port = (backend.get("port") or {}).get("name")
                report.expect(
                    port in services.get(backend.get("name"), set()),
                    f"{where} {_name(ingress)}",
                    f"no port {port} on Service {backend.get('name')}",
                )
        body = (ingress["metadata"].get("annotations") or {}).get("nginx.ingress.kubernetes.io/proxy-body-size")
        if body:
            report.expect(
                _mebibytes(body.replace("m", "M").replace("g", "G")) * 2**20 / 1e6 >= upload_mb,
                f"{where} {_name(ingress)}",
                f"proxy-body-size {body} is below MAX_UPLOAD_MB {upload_mb}",
            )


def _check_keda(scaled: dict, deployments: dict, workers: list[dict], config: dict, where: str, report: Report) -> None:
    here = f"{where} {_name(scaled)}"
    target = scaled["spec"]["scaleTargetRef"]["name"]
    report.expect(target in deployments, here, f"scales Deployment/{target}, which is not there")
    report.expect(
        any(w["metadata"]["name"] == target for w in workers), here, "scales something other than the workers"
    )
    report.expect(
        _int(scaled["spec"].get("minReplicaCount", 0)) >= 1,
        here,
        "minReplicaCount must be 1 or more: workers run the reaper",
    )
    queue = config.get("RQ_QUEUE") or "playground"
    for trigger in scaled["spec"]["triggers"]:
        if trigger["type"] == "redis":
            report.expect(
                trigger["metadata"].get("listName") == f"rq:queue:{queue}",
                here,
                f"the trigger reads {trigger['metadata'].get('listName')}, not RQ_QUEUE's list rq:queue:{queue}",
            )


# ---------------------------------------------------------------------------------------------------------
# Consistency with the rest of the repository.


def readme_variables(readme: str) -> set[str]:
    """The variables of the README's configuration table."""
    section = readme.split("\n## Configuration", 1)[-1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", section, flags=re.MULTILINE))


def read_variables(root: Path) -> set[str]:
    """Every environment variable config.py and gunicorn.conf.py read."""
    names: set[str] = set()
    for path in ("config.py", "gunicorn.conf.py"):
        source = (root / path).read_text() if (root / path).exists() else ""
        names |= set(re.findall(r"""(?:env|environ)\.get\(["']([A-Z][A-Z0-9_]*)["']""", source))
    return names


def check_variables(root: Path, base: list[dict], secret: dict | None, report: Report) -> None:
    """The ConfigMap and the Secret hold every documented variable, and only variables the platform reads."""
    config = next((r.get("data") or {} for r in _by_kind(base, "ConfigMap") if r["metadata"]["name"] == CONFIGMAP), {})
    secret_keys = set((secret or {}).get("stringData") or {}) | set((secret or {}).get("data") or {})
    documented = readme_variables((root / "README.md").read_text())
    report.expect(documented, "README.md", "no variables found in the table of the Configuration section")
    required = documented | S3_VARIABLES
    known = required | read_variables(root)
    missing = sorted(required - set(config) - secret_keys)
    report.expect(not missing, "deploy", f"variables of the README in neither the ConfigMap nor the Secret: {missing}")
    both = sorted(set(config) & secret_keys)
    report.expect(not both, "deploy", f"variables in both the ConfigMap and the Secret: {both}")
    unknown = sorted((set(config) | secret_keys) - known)
    report.expect(not unknown, "deploy", f"variables the platform does not read (misspelt?): {unknown}")
    exposed = sorted(name for name in config if SECRET_NAME.search(name))
    report.expect(not exposed, f"ConfigMap/{CONFIGMAP}", f"secrets belong in the Secret {SECRET}: {exposed}")


def check_images(root: Path, renders: dict[str, list[dict]], report: Report) -> None:
    """One image for every container, the base's `images` entry, tagged with the project's version, the one
    the compose file builds."""
    base = _kustomization(root / "deploy" / "base")
    entries = base.get("images") or []
    if len(entries) != 1:
        report.fail("deploy/base/kustomization.yaml", "one `images` entry is expected (the platform's image)")
        return
    entry = entries[0]
    expected = _new_image(entry["name"], entry)
    version = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    report.expect(
        entry.get("newTag") == version,
        "deploy/base/kustomization.yaml",
        f"image tag {entry.get('newTag')} is not the project's version {version} (pyproject.toml)",
    )
    for where, resources in renders.items():
        for resource in resources:
            for container in _containers(resource):
                report.expect(
                    container.get("image") == expected,
                    f"{where} {_name(resource)} container {container.get('name')}",
                    f"image {container.get('image')} is not {expected}",
                )
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    image = (compose.get("x-app") or {}).get("image", "")
    report.expect(
        _image_name(image) == entry["name"],
        "docker-compose.yml",
        f"x-app builds image {image or '(none)'}, not {entry['name']} as the manifests name it",
    )
    compose_variables = set((compose.get("x-app") or {}).get("environment") or {})
    unknown = sorted(
        compose_variables - readme_variables((root / "README.md").read_text()) - S3_VARIABLES - read_variables(root)
    )
    report.expect(not unknown, "docker-compose.yml", f"variables the platform does not read: {unknown}")


def check_dockerfile(root: Path, report: Report) -> None:
    """The image runs as OpenShift runs it: any user id in group 0, numeric non-root USER, gunicorn."""
    text = (root / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    report.expect(
        users and re.fullmatch(r"[1-9]\d*(:0)?", users[-1]), "Dockerfile", "the last USER must be a numeric non-root id"
    )
    report.expect(
        "chgrp -R 0" in text and "g=u" in text, "Dockerfile", "files must belong to group 0 with the owner's rights"
    )
    cmd = re.findall(r"^CMD\s+(.+)$", text, flags=re.MULTILINE)
    report.expect(
        cmd and "gunicorn" in cmd[-1] and "gunicorn.conf.py" in cmd[-1],
        "Dockerfile",
        "CMD must run gunicorn with gunicorn.conf.py",
    )
    requirements = (root / "requirements.txt").read_text()
    for package in ("gunicorn", "prometheus_client"):
        report.expect(
            re.search(rf"^{package}==\S+", requirements, flags=re.MULTILINE | re.IGNORECASE),
            "requirements.txt",
            f"{package} must be pinned",
        )


# ---------------------------------------------------------------------------------------------------------


def check(root: Path) -> tuple[Report, list[str]]:
    """Every check on the repository at root; returns the problems and what was checked."""
    report = Report()
    checked: list[str] = []
    deploy = root / "deploy"
    overlays = sorted(p for p in (deploy / "overlays").iterdir() if p.is_dir())
    components = (
        sorted(p for p in (deploy / "components").iterdir() if p.is_dir()) if (deploy / "components").is_dir() else []
    )
    report.expect(overlays, "deploy/overlays", "no overlay")
    renders: dict[str, list[dict]] = {}
    for overlay in overlays:
        for component in [None, *components]:
            where = str(overlay.relative_to(root)) + (f"+{component.relative_to(root)}" if component else "")
            try:
                resources = render(overlay, [component] if component else [])
            except (Unsupported, OSError, yaml.YAMLError, KeyError, IndexError, ValueError) as error:
                report.fail(where, f"cannot render: {error}")
                continue
            renders[where] = resources
            validate_schemas(resources, where, report)
            check_pods(resources, where, openshift=overlay.name == "openshift", report=report)
            check_topology(resources, where, report)
            kinds = sorted({r.get("kind", "?") for r in resources})
            checked.append(f"{where}: {len(resources)} resources ({', '.join(kinds)})")
    secret_documents = _load_documents(root / SECRET_EXAMPLE) if (root / SECRET_EXAMPLE).exists() else []
    secret = next((d for d in secret_documents if d.get("kind") == "Secret" and d["metadata"]["name"] == SECRET), None)
    report.expect(secret, SECRET_EXAMPLE, f"no Secret {SECRET}")
    validate_schemas(secret_documents, SECRET_EXAMPLE, report)
    try:
        base = render(deploy / "base")
    except (Unsupported, OSError, yaml.YAMLError) as error:
        report.fail("deploy/base", f"cannot render: {error}")
        base = []
    check_variables(root, base, secret, report)
    check_images(root, renders, report)
    check_dockerfile(root, report)
    checked.append(f"{SECRET_EXAMPLE}, variables (README, config.py, compose), images, Dockerfile, requirements")
    return report, checked


def main(argv: list[str]) -> int:
    """Check the repository named by the first argument (default: the one holding this file)."""
    root = Path(argv[1]).resolve() if len(argv) > 1 else Path(__file__).resolve().parents[1]
    report, checked = check(root)
    for line in checked:
        print(f"checked {line}")
    for problem in report.problems:
        print(f"FAIL {problem}")
    if report.problems:
        print(f"deploy-check: {len(report.problems)} problem(s)")
        return 1
    print(f"deploy-check: every manifest valid against Kubernetes {KUBERNETES_VERSION}, every rule holds")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
