"""Manifests that install kexlint as a validating admission webhook (``kexlint webhook manifests``).

Objects are plain Python dicts dumped with PyYAML's safe dumper, so what we print is exactly what we
test. This module is the one source of truth for the objects: the Helm chart in ``webhook/chart``
renders the same objects by default (a test compares them), and ``--output-dir`` writes them as a
kustomize base with the user's image (no base is kept in the repository: it would be a third copy,
and one with a placeholder image).

There is no default image: an image named after the version alone exists in no registry, so the
apiserver would pull nothing and, with failurePolicy Fail, block every matching request. Build and
push ``webhook/Dockerfile`` and pass ``--image``.

The webhook itself must not trip the policies it enforces: no hostNetwork, no hostPort, a ClusterIP
Service, and a pod that passes the "restricted" Pod Security Standard.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import sys
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kexlint import __version__
from kexlint.config import DEFAULT_GATEWAY_API_VERSION, DEFAULT_KUBE_VERSION
from kexlint.model import custom_kinds, pod_templates_file

DEFAULT_NAMESPACE = "kexlint"
FAILURE_POLICIES = ("Fail", "Ignore")

APP_NAME = "kexlint"
WEBHOOK_NAME = "validate.kexlint.io"
SERVICE_NAME = "kexlint-webhook"
DEPLOYMENT_NAME = "kexlint-webhook"
SERVICE_ACCOUNT_NAME = "kexlint-webhook"
PDB_NAME = "kexlint-webhook"
TLS_SECRET_NAME = "kexlint-webhook-tls"
CONFIGMAP_NAME = "kexlint-config"
CLUSTER_ROLE_NAME = "kexlint-webhook-cluster-state"
WEBHOOK_CONFIG_NAME = "kexlint"
CONFIG_FILENAME = ".kexlint.yaml"
CLIENT_CA_FILENAME = "client-ca.crt"  # in the ConfigMap beside the config: a CA certificate is public
WEBHOOK_PATH = "/validate"
CONTAINER_PORT = 8443
SERVICE_PORT = 443
METRICS_PORT = 9090  # plain HTTP, /metrics only
# How the pod stops (docs/webhook.md, "Stopping"): preStop sleeps while the endpoint is removed from the
# Service (the apiserver keeps sending new connections to it until then); SIGTERM then closes the
# listener and idle connections, and in-flight reviews get GRACEFUL_TIMEOUT seconds; the kubelet's
# SIGKILL comes TERMINATION_GRACE seconds after the deletion, which leaves a margin after both.
PRE_STOP_SLEEP = 5
GRACEFUL_TIMEOUT = 20
TERMINATION_GRACE = 30
# Matches the image's USER (webhook/Dockerfile); numeric so the kubelet can check runAsNonRoot.
RUN_AS_USER = 65532

SELECTOR_LABELS = {"app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/component": "webhook"}
LABELS = {**SELECTOR_LABELS, "app.kubernetes.io/part-of": APP_NAME}

# An empty mapping: every built-in rule with its default settings. Replace via --config.
DEFAULT_CONFIG = f"""\
# kexlint configuration used by the admission webhook: the same format as .kexlint.yaml.
# To customise, regenerate with `kexlint webhook manifests --config FILE` or patch this ConfigMap.
kube-version: "{DEFAULT_KUBE_VERSION}"
gateway-api-version: "{DEFAULT_GATEWAY_API_VERSION}"  # the Gateway API release of the cluster's CRDs
webhook:
  mode: enforce        # warn: never deny, only return warnings (roll a policy out with it first)
  deny-level: error    # findings below it are returned as warnings
  failure-mode: allow  # answer when a rule fails internally: allow (with a warning) or deny
"""

# What the webhook validates. Only versions the apiserver still serves are listed: extensions/v1beta1
# and networking.k8s.io/v1beta1 Ingresses are gone (1.22), and matchPolicy Equivalent routes any
# other served version of these resources to us converted into the version named here.
WEBHOOK_RULES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("", "v1", ("pods", "services", "replicationcontrollers", "podtemplates")),
    ("apps", "v1", ("deployments", "replicasets", "statefulsets", "daemonsets")),
    ("batch", "v1", ("jobs", "cronjobs")),
    ("networking.k8s.io", "v1", ("ingresses", "ingressclasses")),
    # Every served version: clusters run CRDs of older Gateway API releases (TLSRoute v1alpha2/v1alpha3,
    # TCPRoute and UDPRoute v1alpha2 before v1.6).
    ("gateway.networking.k8s.io", "*", ("gateways", "listenersets", "httproutes", "grpcroutes", "tlsroutes",
                                        "tcproutes", "udproutes", "referencegrants")),
)
# Namespaces never sent to the webhook: the control plane's, and our own, so that with
# failurePolicy Fail a broken webhook can still be redeployed (otherwise its own pods are rejected).
ALWAYS_EXCLUDED_NAMESPACES = ("kube-system",)

SERVE_ARGS = [
    "webhook",
    "serve",
    "--cert",
    "/tls/tls.crt",
    "--key",
    "/tls/tls.key",
    "--config",
    f"/config/{CONFIG_FILENAME}",
    "--port",
    str(CONTAINER_PORT),
    "--metrics-port",
    str(METRICS_PORT),
    "--graceful-timeout",
    str(GRACEFUL_TIMEOUT),
]

GENERATED_HEADER = (
    "# Generated by `kexlint webhook manifests{args}` (kexlint {version}); regenerate instead of editing."
)


_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class ManifestError(Exception):
    """Invalid input to the manifest generator (bad URL, non-PEM CA bundle, ...)."""


@dataclass(frozen=True)
class ManifestOptions:
    """Everything the rendered manifests depend on; file reading happens before this, in the command."""

    image: str | None = None  # required unless url is set
    namespace: str = DEFAULT_NAMESPACE
    ca_bundle: str | None = None  # base64 of the CA PEM, as clientConfig.caBundle wants it
    failure_policy: str = "Fail"
    url: str | None = None
    config_text: str = DEFAULT_CONFIG
    tls_crt: bytes | None = None
    tls_key: bytes | None = None
    client_ca: str | None = None  # PEM: with it the server requires the apiserver's client certificate
    cluster_state: bool = False  # --cluster-state watch: RBAC to list/watch, a token, the serve flag


@dataclass(frozen=True)
class Document:
    """One object plus the file it lives in under the kustomize base and an optional comment."""

    filename: str
    obj: dict[str, Any]
    comments: tuple[str, ...] = field(default=())


class _BlockSafeDumper(yaml.SafeDumper):
    """``yaml.SafeDumper`` (so only plain data can be dumped) with kubectl-like layout.

    Multi-line strings (the embedded config file) come out as literal blocks instead of one quoted
    line full of ``\\n``, and lists are indented under their key. yaml.safe_dump() cannot take a
    Dumper, hence this subclass with yaml.dump(); the safety is the same.
    """

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_BlockSafeDumper.add_representer(str, _represent_str)


def dump_yaml(obj: Any) -> str:
    """Dump one object the way every manifest here is dumped (safe, keys in insertion order)."""
    return yaml.dump(obj, Dumper=_BlockSafeDumper, sort_keys=False, default_flow_style=False, width=100)


def webhook_url(url: str) -> str:
    """clientConfig.url for ``url``: https only, ``/validate`` appended when it has no path."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https":
        raise ManifestError(f"--url {url!r}: the apiserver only calls webhooks over https")
    if not parts.hostname:
        raise ManifestError(f"--url {url!r} has no host")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ManifestError(f"--url {url!r}: user info, query and fragment are not allowed by the apiserver")
    path = parts.path if parts.path not in ("", "/") else WEBHOOK_PATH
    return urllib.parse.urlunsplit(("https", parts.netloc, path, "", ""))


def ca_bundle_from_pem(pem: bytes, source: str = "CA bundle") -> str:
    """Base64 of a PEM CA bundle; refuses input that is not PEM (e.g. the already-encoded bundle)."""
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise ManifestError(f"{source} is not a PEM certificate (pass the ca.crt file itself)")
    return base64.b64encode(pem).decode("ascii")


def _meta(name: str, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = dict(LABELS)
    return meta


def _namespace(opts: ManifestOptions) -> dict[str, Any]:
    meta = _meta(opts.namespace)
    # The pod below meets the "restricted" profile, so enforce it: nothing laxer sneaks in here.
    meta["labels"]["pod-security.kubernetes.io/enforce"] = "restricted"
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def _service_account(opts: ManifestOptions) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(SERVICE_ACCOUNT_NAME, opts.namespace),
        # Off by default: only the watch cache (--cluster-state watch) calls the Kubernetes API, and
        # then the pod spec turns the token on for itself.
        "automountServiceAccountToken": False,
    }


def _secret(opts: ManifestOptions) -> dict[str, Any]:
    def b64(data: bytes | None) -> str:
        return base64.b64encode(data).decode("ascii") if data is not None else ""

    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(TLS_SECRET_NAME, opts.namespace),
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": b64(opts.tls_crt), "tls.key": b64(opts.tls_key)},
    }


def _configmap(opts: ManifestOptions) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(CONFIGMAP_NAME, opts.namespace),
        "data": {
            CONFIG_FILENAME: opts.config_text,
            **({CLIENT_CA_FILENAME: opts.client_ca} if opts.client_ca else {}),
        },
    }


def _deployment(opts: ManifestOptions) -> dict[str, Any]:
    def probe(path: str, period: int, initial_delay: int) -> dict[str, Any]:
        return {
            "httpGet": {"path": path, "port": CONTAINER_PORT, "scheme": "HTTPS"},
            "initialDelaySeconds": initial_delay,
            "periodSeconds": period,
            "timeoutSeconds": 2,
            "failureThreshold": 3,
        }

    container = {
        "name": "webhook",
        "image": opts.image,
        "imagePullPolicy": "IfNotPresent",
        # command as well as args: works with any image that has kexlint on PATH, not only ours.
        "command": ["kexlint"],
        "args": [*SERVE_ARGS, *(["--client-ca", f"/config/{CLIENT_CA_FILENAME}"] if opts.client_ca else [])],
        "ports": [
            {"name": "https", "containerPort": CONTAINER_PORT, "protocol": "TCP"},
            {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"},
        ],
        "readinessProbe": probe("/readyz", period=5, initial_delay=2),
        "livenessProbe": probe("/healthz", period=10, initial_delay=10),
        "lifecycle": {"preStop": {"sleep": {"seconds": PRE_STOP_SLEEP}}},
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_USER,
            "runAsGroup": RUN_AS_USER,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": "tls", "mountPath": "/tls", "readOnly": True},
            {"name": "config", "mountPath": "/config", "readOnly": True},
            # The root filesystem is read-only; gunicorn and tempfile still need a writable /tmp.
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    if opts.cluster_state:
        container["args"] += ["--cluster-state", "watch"]
        # Each worker holds its own cache: about 130 MiB per worker for 50,000 Pods and 10,000 Services
        # (bench/cluster_cache.py), and the pod runs two workers.
        container["resources"] = {"requests": {"cpu": "100m", "memory": "256Mi"},
                                  "limits": {"cpu": "1", "memory": "768Mi"}}
    pod_spec = {
        "serviceAccountName": SERVICE_ACCOUNT_NAME,
        "terminationGracePeriodSeconds": TERMINATION_GRACE,
        # Only the watch cache calls the Kubernetes API; without it the pod gets no token at all.
        "automountServiceAccountToken": opts.cluster_state,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_USER,
            "runAsGroup": RUN_AS_USER,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        # Two replicas on one node would both vanish with that node; spread them when possible.
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "labelSelector": {"matchLabels": dict(SELECTOR_LABELS)},
                            "topologyKey": "kubernetes.io/hostname",
                        },
                    }
                ]
            }
        },
        "containers": [container],
        "volumes": [
            {"name": "tls", "secret": {"secretName": TLS_SECRET_NAME}},
            {"name": "config", "configMap": {"name": CONFIGMAP_NAME}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(DEPLOYMENT_NAME, opts.namespace),
        "spec": {
            # Two replicas: with failurePolicy Fail a single pod's restart would block admissions.
            "replicas": 2,
            "selector": {"matchLabels": dict(SELECTOR_LABELS)},
            "template": {
                "metadata": {
                    "labels": dict(LABELS),
                    # The scrape convention most Prometheus setups follow (a ServiceMonitor can use the
                    # Service's "metrics" port instead).
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(METRICS_PORT),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": pod_spec,
            },
        },
    }


def rbac_rules() -> list[dict[str, Any]]:
    """list and watch on exactly the kinds the watch cache can read (never Secrets), per API group."""
    from kexlint.cluster.client import CONTEXT_KINDS

    by_group: dict[str, list[str]] = {}
    for kind in CONTEXT_KINDS:
        by_group.setdefault(kind.group, []).append(kind.plural)
    return [{"apiGroups": [group], "resources": plurals, "verbs": ["list", "watch"]}
            for group, plurals in by_group.items()]


def _cluster_role(opts: ManifestOptions) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": _meta(CLUSTER_ROLE_NAME), "rules": rbac_rules()}


def _cluster_role_binding(opts: ManifestOptions) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": _meta(CLUSTER_ROLE_NAME),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": CLUSTER_ROLE_NAME},
            "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT_NAME, "namespace": opts.namespace}]}


def _service(opts: ManifestOptions) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(SERVICE_NAME, opts.namespace),
        "spec": {
            "type": "ClusterIP",
            "selector": dict(SELECTOR_LABELS),
            "ports": [
                {"name": "https", "port": SERVICE_PORT, "targetPort": CONTAINER_PORT, "protocol": "TCP"},
                {"name": "metrics", "port": METRICS_PORT, "targetPort": METRICS_PORT, "protocol": "TCP"},
            ],
        },
    }


def _pdb(opts: ManifestOptions) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(PDB_NAME, opts.namespace),
        # Node drains may take one replica at a time, never both.
        "spec": {"minAvailable": 1, "selector": {"matchLabels": dict(SELECTOR_LABELS)}},
    }


def custom_kind_rules(config_text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """The rules for `webhook.custom-kinds` of the config: only on request, since a rule for a
    resource whose CRD is not installed is useless and the table's kinds are many. Every version
    ("*"): the projects serve several (Kubeflow's MPIJob is v2beta1, the others v1)."""
    try:
        data = yaml.safe_load(config_text)
    except yaml.YAMLError:
        return []  # the config itself is checked where it is read; nothing to add from it
    section = data.get("webhook") if isinstance(data, dict) else None
    wanted = section.get("custom-kinds") if isinstance(section, dict) else None
    if wanted is None:
        return []
    by_name = {entry.name: entry for entry in custom_kinds().values()}
    if not isinstance(wanted, list):
        raise ManifestError("webhook.custom-kinds must be a list of group/Kind")
    by_group: dict[str, list[str]] = {}
    for name in wanted:
        entry = by_name.get(name) if isinstance(name, str) else None
        if entry is None:
            raise ManifestError(f"webhook.custom-kinds: {str(name)[:80]!r} is not in {pod_templates_file()} "
                                f"(known: {', '.join(sorted(by_name))})")
        resources = by_group.setdefault(entry.group, [])
        if entry.resource not in resources:
            resources.append(entry.resource)
    # Groups in name order, as the chart renders them (Helm's dicts have no other order).
    return [(group, "*", tuple(by_group[group])) for group in sorted(by_group)]


def _webhook_configuration(opts: ManifestOptions) -> dict[str, Any]:
    client_config: dict[str, Any]
    if opts.url is not None:
        client_config = {"url": webhook_url(opts.url)}
    else:
        client_config = {
            "service": {
                "namespace": opts.namespace,
                "name": SERVICE_NAME,
                "path": WEBHOOK_PATH,
                "port": SERVICE_PORT,
            }
        }
    if opts.ca_bundle is not None:
        client_config["caBundle"] = opts.ca_bundle
    excluded = list(dict.fromkeys([*ALWAYS_EXCLUDED_NAMESPACES, opts.namespace]))
    webhook = {
        "name": WEBHOOK_NAME,
        "clientConfig": client_config,
        "rules": [
            {
                "operations": ["CREATE", "UPDATE"],
                "apiGroups": [group],
                "apiVersions": [version],
                "resources": list(resources),
                "scope": "*",  # IngressClass is cluster-scoped
            }
            for group, version, resources in (*WEBHOOK_RULES, *custom_kind_rules(opts.config_text))
        ],
        "namespaceSelector": {
            "matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": excluded}
            ]
        },
        "failurePolicy": opts.failure_policy,
        "matchPolicy": "Equivalent",
        # Validation only: the webhook changes nothing, so dry-run requests may call it too.
        "sideEffects": "None",
        "timeoutSeconds": 5,
        "admissionReviewVersions": ["v1", "v1beta1"],
    }
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": _meta(WEBHOOK_CONFIG_NAME),
        "webhooks": [webhook],
    }


def build_documents(opts: ManifestOptions) -> list[Document]:
    """The objects to apply, in an order ``kubectl apply -f`` can create them in one pass.

    The ValidatingWebhookConfiguration comes last so it is registered only after its backend exists.
    With ``opts.url`` only that configuration is returned (the server runs elsewhere).
    """
    if len(opts.namespace) > 63 or not _DNS1123_LABEL.match(opts.namespace):
        raise ManifestError(f"namespace {opts.namespace!r} is not a valid namespace name (DNS-1123 label)")
    if opts.failure_policy not in FAILURE_POLICIES:
        raise ManifestError(f"failurePolicy must be one of {', '.join(FAILURE_POLICIES)}")
    webhook_comments: tuple[str, ...] = ()
    if opts.ca_bundle is None:
        webhook_comments = (
            "clientConfig.caBundle is omitted: no --ca-bundle was given. Set it to the base64 of ca.crt",
            "(printed by `kexlint webhook certs`), or let cert-manager's cainjector fill it in;",
            "until then the apiserver cannot verify the webhook and, with failurePolicy Fail, rejects",
            "every matching request.",
        )
    webhook_doc = Document(
        "validatingwebhookconfiguration.yaml", _webhook_configuration(opts), webhook_comments
    )
    if opts.url is not None:
        return [webhook_doc]
    if not opts.image:
        raise ManifestError(
            "--image is required: build and push webhook/Dockerfile, then pass --image REGISTRY/kexlint:TAG "
            "(see the README, \"Run it in a cluster\")"
        )
    secret_comments: tuple[str, ...] = ()
    if opts.tls_crt is None:
        secret_comments = (
            "Placeholder: tls.crt/tls.key are empty. Fill them from `kexlint webhook certs --service",
            f"{SERVICE_NAME} --namespace {opts.namespace} --out DIR` (or regenerate with --cert-dir DIR),",
            "or replace this Secret with one managed by cert-manager.",
        )
    return [
        Document("namespace.yaml", _namespace(opts)),
        Document("serviceaccount.yaml", _service_account(opts)),
        Document("secret.yaml", _secret(opts), secret_comments),
        Document("configmap.yaml", _configmap(opts)),
        *([Document("clusterrole.yaml", _cluster_role(opts), RBAC_COMMENTS),
           Document("clusterrolebinding.yaml", _cluster_role_binding(opts))] if opts.cluster_state else []),
        Document("deployment.yaml", _deployment(opts)),
        Document("service.yaml", _service(opts)),
        Document("poddisruptionbudget.yaml", _pdb(opts)),
        webhook_doc,
    ]


RBAC_COMMENTS = (
    "--cluster-state watch: each webhook worker lists and watches these kinds to check new objects",
    "against what already runs (docs/webhook.md). Read-only, no Secrets; without the flag there is no",
    "ClusterRole and the pod has no service account token.",
)


def _comment_block(lines: Sequence[str]) -> str:
    return "".join(f"# {line}\n" for line in lines)


def _header(argv_hint: str = "") -> str:
    return GENERATED_HEADER.format(args=argv_hint, version=__version__) + "\n"


def render(documents: Sequence[Document], argv_hint: str = "") -> str:
    """Multi-document YAML: a generated-by header, then each object after ``---`` with its comments."""
    out = [_header(argv_hint)]
    for doc in documents:
        out.append("---\n")
        out.append(_comment_block(doc.comments))
        out.append(dump_yaml(doc.obj))
    return "".join(out)


def render_manifests(opts: ManifestOptions) -> str:
    """The YAML ``kexlint webhook manifests`` prints for ``opts``."""
    return render(build_documents(opts))


def kustomization(documents: Sequence[Document]) -> dict[str, Any]:
    """kustomization.yaml for a base made of ``documents`` (one file each)."""
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [doc.filename for doc in documents],
    }


KUSTOMIZATION_COMMENTS = (
    "Base for the kexlint admission webhook. An overlay typically adds:",
    "  secretGenerator: [{name: kexlint-webhook-tls, namespace: kexlint, behavior: replace,",
    "                     type: kubernetes.io/tls, files: [tls.crt, tls.key]}]",
    "  configMapGenerator: [{name: kexlint-config, namespace: kexlint, behavior: replace,",
    "                        files: [.kexlint.yaml]}]",
    "  patches: webhooks[0].clientConfig.caBundle of ValidatingWebhookConfiguration kexlint",
    "(tls.crt, tls.key and the caBundle come from `kexlint webhook certs`.)",
    "Do not set `namespace:` here: the webhook's namespaceSelector names the namespace too.",
)


def kustomize_files(opts: ManifestOptions) -> dict[str, str]:
    """File name → content of the kustomize base: one file per object plus kustomization.yaml.

    Each file is the same YAML ``kexlint webhook manifests`` prints for that object.
    """
    documents = build_documents(opts)
    hint = " --output-dir DIR"
    files = {
        doc.filename: _header(hint) + _comment_block(doc.comments) + dump_yaml(doc.obj) for doc in documents
    }
    files["kustomization.yaml"] = (
        _header(hint) + _comment_block(KUSTOMIZATION_COMMENTS) + dump_yaml(kustomization(documents))
    )
    return files


def write_kustomize_base(directory: str | os.PathLike[str], opts: ManifestOptions) -> list[Path]:
    """Write :func:`kustomize_files` into ``directory``; returns the paths written."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in kustomize_files(opts).items():
        path = target / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def add_manifests_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``manifests`` on the ``webhook`` sub-command group."""
    parser = subparsers.add_parser(
        "manifests",
        help="print the Kubernetes manifests that deploy the webhook",
        description=(
            "Print multi-document YAML for the webhook: Namespace, ServiceAccount, TLS Secret, ConfigMap, "
            "Deployment, Service, PodDisruptionBudget and ValidatingWebhookConfiguration. With --url, "
            "only the ValidatingWebhookConfiguration, pointing at a webhook served outside the cluster."
        ),
    )
    parser.add_argument("--namespace", default=DEFAULT_NAMESPACE, help=f"(default {DEFAULT_NAMESPACE})")
    parser.add_argument(
        "--ca-bundle",
        type=Path,
        metavar="FILE",
        help="PEM CA certificate (ca.crt) for clientConfig.caBundle; default: DIR/ca.crt with --cert-dir",
    )
    parser.add_argument("--failure-policy", choices=FAILURE_POLICIES, default="Fail", help="(default Fail)")
    parser.add_argument(
        "--url", help="webhook URL outside the cluster; renders only the webhook configuration"
    )
    parser.add_argument(
        "--image",
        metavar="IMAGE",
        help="the webhook's container image, as built from webhook/Dockerfile and pushed "
        "(e.g. registry.example.com/kexlint:0.1.0); required unless --url",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help=f"kexlint config to put in the ConfigMap as {CONFIG_FILENAME}",
    )
    parser.add_argument(
        "--cert-dir",
        type=Path,
        metavar="DIR",
        help="directory written by `kexlint webhook certs`: fills the Secret with its tls.crt/tls.key",
    )
    parser.add_argument(
        "--client-ca",
        type=Path,
        metavar="FILE",
        help="PEM CA of the apiserver's client certificate: the webhook then requires one (mutual TLS)",
    )
    parser.add_argument(
        "--cluster-state", choices=("off", "watch"), default="off",
        help="watch: serve with the cluster watch cache and grant it list/watch on the kinds it reads "
             "(a ClusterRole; default off: no API access at all)")
    parser.add_argument(
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="write a kustomize base (one file per object + kustomization.yaml) to DIR instead of stdout",
    )
    parser.set_defaults(func=cmd_manifests)
    return parser


def options_from_args(args: argparse.Namespace) -> ManifestOptions:
    """Read the files the arguments name and turn them into :class:`ManifestOptions`."""
    ca_path: Path | None = args.ca_bundle
    tls_crt = tls_key = None
    if args.cert_dir is not None:
        tls_crt = (args.cert_dir / "tls.crt").read_bytes()
        tls_key = (args.cert_dir / "tls.key").read_bytes()
        if ca_path is None and (args.cert_dir / "ca.crt").exists():
            ca_path = args.cert_dir / "ca.crt"
    ca_bundle = ca_bundle_from_pem(ca_path.read_bytes(), str(ca_path)) if ca_path is not None else None
    config_text = args.config.read_text(encoding="utf-8") if args.config is not None else DEFAULT_CONFIG
    client_ca = None
    if args.client_ca is not None:
        client_ca = args.client_ca.read_text(encoding="utf-8")
        if "-----BEGIN CERTIFICATE-----" not in client_ca:
            raise ManifestError(f"--client-ca {args.client_ca} is not a PEM certificate")
    return ManifestOptions(
        namespace=args.namespace,
        ca_bundle=ca_bundle,
        failure_policy=args.failure_policy,
        url=args.url,
        image=args.image,
        config_text=config_text,
        tls_crt=tls_crt,
        tls_key=tls_key,
        client_ca=client_ca,
        cluster_state=getattr(args, "cluster_state", "off") == "watch",
    )


def cmd_manifests(args: argparse.Namespace) -> int:
    """``kexlint webhook manifests``: YAML on stdout; 0 ok, 1 unreadable file, 2 invalid input."""
    try:
        opts = options_from_args(args)
        if args.output_dir is not None:
            if opts.url is not None:
                raise ManifestError(
                    "--output-dir writes the in-cluster base; it cannot be combined with --url"
                )
            for path in write_kustomize_base(args.output_dir, opts):
                print(path, file=sys.stderr)
            return 0
        text = render(build_documents(opts))
    except ManifestError as exc:
        print(f"kexlint webhook manifests: {exc}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as exc:
        print(f"kexlint webhook manifests: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0
