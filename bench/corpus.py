#!/usr/bin/env python3
"""Deterministic Kubernetes manifest corpus generator for kexlint benchmarks.

Writes multi-document YAML shaped like ``helm template`` output: ``---`` separators,
``# Source: chart/templates/x.yaml`` comments, and a realistic mix of kinds. About 4% of
the objects carry an exposure problem (hostNetwork, hostPort, bad/duplicate nodePort,
open LoadBalancer, externalIPs, Ingress without TLS, deprecated apiVersion); the rest is
clean.

Usage::

    python bench/corpus.py OUTDIR [--size small|medium|huge|all] [--seed N]

Importable: ``generate(outdir, size, seed)`` and ``documents(n, seed)``.

Stdlib only. All randomness comes from one ``random.Random(seed)`` per size, nothing
depends on time or on set/hash order, so the same seed gives byte-identical output.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

# size -> (objects, files). "huge" is a single file.
SIZES: dict[str, tuple[int, int]] = {
    "small": (500, 50),
    "medium": (10_000, 1_000),
    "huge": (50_000, 1),
}

# Output files of earlier runs that generate() may replace: NNNN-name.yaml and huge.yaml.
_OUR_FILES = re.compile(r"(?:\d{4}-[a-z0-9-]+|huge)\.yaml")

# --------------------------------------------------------------------------------------
# A tiny YAML emitter with style control (block/flow, quoting, literal block scalars).
# --------------------------------------------------------------------------------------


class Flow:
    """A mapping or sequence rendered in flow style: ``{a: 1}`` / ``[a, b]``."""

    __slots__ = ("value",)

    def __init__(self, value: dict[str, Any] | list[Any]) -> None:
        self.value = value


class Quoted:
    """A string that is always quoted, as ``{{ .Values.x | quote }}`` would print it."""

    __slots__ = ("text", "char")

    def __init__(self, text: str, char: str = '"') -> None:
        self.text = text
        self.char = char


class Literal:
    """A multi-line string rendered as a literal block scalar (``|`` or ``|-``)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        # No leading blank lines/indent (would need an indentation indicator) and at most
        # one trailing newline (``|+`` is never used).
        body = text.lstrip("\n").rstrip("\n")
        self.text = body + "\n" if text.endswith("\n") else body


def unwrap(value: Any) -> Any:
    """The plain Python value a YAML loader should produce for ``value``."""
    if isinstance(value, Flow):
        return unwrap(value.value)
    if isinstance(value, Quoted | Literal):
        return value.text
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


# Strings that every YAML 1.1/1.2 loader reads back as the same string when unquoted.
_PLAIN_BLOCK = re.compile(r"[A-Za-z/][A-Za-z0-9_./@+=-]*(?::[A-Za-z0-9_./@+=-]+)*")
_PLAIN_FLOW = re.compile(r"[A-Za-z/][A-Za-z0-9_./@+=-]*")
_PLAIN_OTHER = re.compile(r"[0-9]+(?:m|k|Ki|Mi|Gi|Ti|M|G|s|h)|[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?:/[0-9]{1,2})?")
_RESERVED = ("y", "n", "yes", "no", "on", "off", "true", "false", "null")


def _plain_ok(text: str, flow: bool) -> bool:
    if text.lower() in _RESERVED:
        return False
    if (_PLAIN_FLOW if flow else _PLAIN_BLOCK).fullmatch(text):
        return True
    return _PLAIN_OTHER.fullmatch(text) is not None


def _double(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid YAML double-quoted scalar


def _single(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class _Emitter:
    def __init__(self, rng: random.Random, seq_indent: int, quote_rate: float, quote_char: str) -> None:
        self.rng = rng
        self.seq_indent = seq_indent
        self.quote_rate = quote_rate
        self.quote_char = quote_char

    def render(self, obj: dict[str, Any]) -> list[str]:
        out: list[str] = []
        self._mapping(obj, 0, out, None)
        return out

    def _mapping(self, m: dict[str, Any], indent: int, out: list[str], lead: str | None) -> None:
        pad = " " * indent
        for i, (key, value) in enumerate(m.items()):
            prefix = lead if (i == 0 and lead is not None) else pad
            self._value(prefix + self._key(key, False) + ":", value, indent, out)

    def _value(self, head: str, value: Any, indent: int, out: list[str]) -> None:
        if isinstance(value, dict) and value:
            out.append(head)
            self._mapping(value, indent + 2, out, None)
        elif isinstance(value, list) and value:
            out.append(head)
            self._sequence(value, indent + self.seq_indent, out)
        elif isinstance(value, Literal):
            self._literal(head, value, indent + 2, out)
        else:
            out.append(head + " " + self._inline(value))

    def _sequence(self, seq: list[Any], indent: int, out: list[str]) -> None:
        pad = " " * indent
        for item in seq:
            if isinstance(item, dict) and item:
                self._mapping(item, indent + 2, out, pad + "- ")
            elif isinstance(item, Literal):
                self._literal(pad + "-", item, indent + 2, out)
            else:
                out.append(pad + "- " + self._inline(item))

    @staticmethod
    def _literal(head: str, lit: Literal, indent: int, out: list[str]) -> None:
        text = lit.text
        clip = text.endswith("\n")
        out.append(head + (" |" if clip else " |-"))
        pad = " " * indent
        for line in (text[:-1] if clip else text).split("\n"):
            out.append(pad + line if line else "")

    def _inline(self, value: Any) -> str:
        if isinstance(value, Flow | dict | list):
            return self._flow(value)
        return self._scalar(value, False)

    def _flow(self, value: Any) -> str:
        if isinstance(value, Flow):
            value = value.value
        if isinstance(value, dict):
            items = ", ".join(f"{self._key(k, True)}: {self._flow(v)}" for k, v in value.items())
            return "{" + items + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self._flow(v) for v in value) + "]"
        if isinstance(value, Literal):
            return _double(value.text)
        return self._scalar(value, True)

    @staticmethod
    def _key(key: str, flow: bool) -> str:
        return key if _plain_ok(key, flow) else _double(key)

    def _scalar(self, value: Any, flow: bool) -> str:
        if value is None:
            return "null"
        if value is True:
            return "true"
        if value is False:
            return "false"
        if isinstance(value, int | float):
            return repr(value)
        if isinstance(value, Quoted):
            if value.char == "'" and value.text.isprintable():
                return _single(value.text)
            return _double(value.text)
        if isinstance(value, str):
            if _plain_ok(value, flow):
                if self.quote_rate and self.rng.random() < self.quote_rate:
                    return _single(value) if self.quote_char == "'" else _double(value)
                return value
            if self.quote_char == "'" and value.isprintable():
                return _single(value)
            return _double(value)
        raise TypeError(f"cannot emit {type(value).__name__}")


# --------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------

_PRODUCTS = (
    "payments", "checkout", "catalog", "inventory", "search", "auth", "users", "orders",
    "billing", "notifications", "recommendations", "analytics", "reporting", "gateway",
    "frontend", "cart", "shipping", "pricing", "ledger", "fraud", "media", "thumbnails",
    "mailer", "webhooks", "audit", "identity", "session", "profile", "content", "feed",
    "chat", "geo", "quotes", "rates", "invoices", "loyalty", "reviews", "tickets",
)  # fmt: skip
_SUFFIXES = (
    "api", "api", "api", "worker", "web", "consumer", "processor", "sync", "ui", "grpc",
    "admin", "indexer", "service", "backend",
)  # fmt: skip
_TEAMS = ("platform", "core", "growth", "data", "commerce", "identity", "infra", "mobile")
_REGISTRIES = (
    "ghcr.io/acme", "registry.example.com/{team}", "gcr.io/acme-prod",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/{team}", "docker.io/acmecorp", "quay.io/acme",
)  # fmt: skip
_NAMESPACES = ("default", "prod", "staging", "dev", "payments", "monitoring", "ingress-nginx", "kube-system")
_NAMESPACE_WEIGHTS = (3, 6, 5, 2, 2, 2, 1, 1)
_DOMAINS = ("example.com", "acme.io", "internal.acme.net", "shop.example.org")
_RELEASE_WORDS = ("prod", "stg", "main", "blue", "green", "eu", "us", "canary", "v2", "primary")

# (name, workload kind, image, tag, port, port name, protocol)
_THIRD_PARTY: tuple[tuple[str, str, str, str, int, str, str], ...] = (
    ("redis", "StatefulSet", "docker.io/bitnami/redis", "7.2.4-debian-12-r9", 6379, "tcp-redis", "TCP"),
    ("postgresql", "StatefulSet", "docker.io/bitnami/postgresql", "16.2.0-debian-12-r6", 5432,
     "tcp-postgresql", "TCP"),
    ("rabbitmq", "StatefulSet", "docker.io/bitnami/rabbitmq", "3.12.13-debian-12-r2", 5672, "amqp", "TCP"),
    ("kafka", "StatefulSet", "docker.io/bitnami/kafka", "3.7.0-debian-12-r0", 9092, "tcp-client", "TCP"),
    ("zookeeper", "StatefulSet", "docker.io/bitnami/zookeeper", "3.9.2-debian-12-r2", 2181, "tcp-client",
     "TCP"),
    ("elasticsearch", "StatefulSet", "docker.elastic.co/elasticsearch/elasticsearch", "8.13.0", 9200,
     "http", "TCP"),
    ("minio", "StatefulSet", "quay.io/minio/minio", "RELEASE.2024-03-30T09-41-56Z", 9000, "minio-api",
     "TCP"),
    ("keycloak", "StatefulSet", "quay.io/keycloak/keycloak", "24.0.2", 8080, "http", "TCP"),
    ("memcached", "Deployment", "docker.io/bitnami/memcached", "1.6.26-debian-12-r0", 11211, "memcache",
     "TCP"),
    ("grafana", "Deployment", "docker.io/grafana/grafana", "10.4.1", 3000, "grafana", "TCP"),
    ("ingress-nginx-controller", "Deployment", "registry.k8s.io/ingress-nginx/controller", "v1.10.0", 80,
     "http", "TCP"),
    ("cert-manager", "Deployment", "quay.io/jetstack/cert-manager-controller", "v1.14.4", 9402,
     "http-metrics", "TCP"),
    ("external-dns", "Deployment", "registry.k8s.io/external-dns/external-dns", "v0.14.1", 7979, "http",
     "TCP"),
    ("metrics-server", "Deployment", "registry.k8s.io/metrics-server/metrics-server", "v0.7.1", 10250,
     "https", "TCP"),
    ("kube-state-metrics", "Deployment", "registry.k8s.io/kube-state-metrics/kube-state-metrics",
     "v2.12.0", 8080, "http", "TCP"),
    ("prometheus-node-exporter", "DaemonSet", "quay.io/prometheus/node-exporter", "v1.7.0", 9100,
     "metrics", "TCP"),
    ("node-exporter", "DaemonSet", "quay.io/prometheus/node-exporter", "v1.6.1", 9100, "metrics", "TCP"),
    ("fluent-bit", "DaemonSet", "cr.fluentbit.io/fluent/fluent-bit", "2.2.2", 2020, "http", "TCP"),
    ("promtail", "DaemonSet", "docker.io/grafana/promtail", "2.9.4", 3101, "http-metrics", "TCP"),
    ("jaeger-agent", "DaemonSet", "docker.io/jaegertracing/jaeger-agent", "1.55.0", 6831, "jg-compact-trft",
     "UDP"),
    ("node-problem-detector", "DaemonSet", "registry.k8s.io/node-problem-detector/node-problem-detector",
     "v0.8.19", 20257, "exporter", "TCP"),
    ("datadog-agent", "DaemonSet", "gcr.io/datadoghq/agent", "7.52.0", 8125, "dogstatsdport", "UDP"),
)  # fmt: skip

# (name, image, port, port name) -- sidecars next to the main container
_SIDECARS: tuple[tuple[str, str, int | None, str], ...] = (
    ("cloud-sql-proxy", "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.8.1", None, ""),
    ("oauth2-proxy", "quay.io/oauth2-proxy/oauth2-proxy:v7.6.0", 4180, "proxy"),
    ("log-shipper", "cr.fluentbit.io/fluent/fluent-bit:2.2.2", 2020, "fb-metrics"),
    ("statsd-exporter", "docker.io/prom/statsd-exporter:v0.26.0", 9102, "statsd-metrics"),
    ("vault-agent", "docker.io/hashicorp/vault:1.15.6", None, ""),
    ("nginx", "docker.io/nginxinc/nginx-unprivileged:1.25-alpine", 8081, "static"),
)

# Where exposure problems go: probability per object kind that it carries one.
_PROBLEM_RATE = {
    "Deployment": 0.04,
    "StatefulSet": 0.04,
    "DaemonSet": 0.30,
    "CronJob": 0.06,
    "Job": 0.03,
    "Pod": 0.10,
    "Service": 0.06,
    "Ingress": 0.15,
    "HorizontalPodAutoscaler": 0.05,
}

# helm's install order (pkg/releaseutil/kind_sorter.go), for the kinds generated here.
_INSTALL_ORDER = {
    k: i
    for i, k in enumerate(
        ("ServiceAccount", "Secret", "ConfigMap", "Service", "DaemonSet", "Pod", "Deployment",
         "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "Ingress")
    )
}  # fmt: skip

_HOSTPORT_POOL = (9100, 9100, 9100, 80, 443, 8080, 8080, 10254, 8125, 24224, 5000)
_BAD_NODEPORTS = (80, 443, 8080, 8443, 9000, 3000, 29999, 32768, 33000, 40000)
_OPEN_RANGES = ("0.0.0.0/0",)
_PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "203.0.113.0/24", "198.51.100.17/32",
                   "100.64.0.0/10")  # fmt: skip


@dataclass
class _Chart:
    name: str
    version: str
    app_version: str
    release: str
    namespace: str | None
    source_root: str
    legacy_labels: bool
    env: str
    team: str
    domain: str
    emitter: _Emitter
    third_party: bool
    used_names: list[str] = field(default_factory=list)
    third_party_done: bool = False


@dataclass
class _Comp:
    name: str  # resource name, e.g. "prod-payments-api"
    short: str  # app name, e.g. "payments-api"
    kind: str
    image: str
    port: int
    port_name: str
    protocol: str
    third_party: bool
    tpl: str  # template path prefix inside templates/, "" or "api/" or "api-"
    role: str = ""  # app.kubernetes.io/component
    has_config: bool = False
    has_secret: bool = False
    has_sa: bool = False
    sidecars: list[tuple[str, str, int | None, str]] = field(default_factory=list)


@dataclass
class _Obj:
    source: str
    kind: str
    body: dict[str, Any]
    problem: str | None


class _Generator:
    """Stateful across a whole corpus, so collisions (hostPort, nodePort) span files."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng
        self.node_ports: list[int] = []  # explicit in-range nodePorts handed out so far
        self.node_port_set: dict[int, None] = {}
        self.problems: dict[str, int] = {}
        self.objects = 0
        self.credit: dict[str, float] = {}
        self.threshold: dict[str, float] = {}
        self.host_ports: list[int] = []  # TCP hostPorts handed out so far, to collide with

    # ---- helpers -----------------------------------------------------------------
    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def pick(self, seq: tuple[Any, ...] | list[Any]) -> Any:
        return seq[self.r.randrange(len(seq))]

    def hexstr(self, n: int) -> str:
        return f"{self.r.getrandbits(4 * n):0{n}x}"

    def b64(self, nbytes: int) -> str:
        return base64.b64encode(self.r.randbytes(nbytes)).decode("ascii")

    def version(self) -> str:
        return f"{self.r.randint(0, 4)}.{self.r.randint(0, 30)}.{self.r.randint(0, 12)}"

    def problem(self, kind: str) -> bool:
        """Should the next object of ``kind`` carry an exposure problem?

        Jittered systematic sampling instead of a coin flip per object: the count stays close
        to rate * objects even in the small corpus, the positions are still random.
        """
        rate = _PROBLEM_RATE.get(kind, 0.0)
        if not rate:
            return False
        credit = self.credit.get(kind, self.r.random()) + rate
        threshold = self.threshold.get(kind, 1.0)
        if credit >= threshold:
            self.credit[kind] = credit - threshold
            self.threshold[kind] = 0.5 + self.r.random()
            return True
        self.credit[kind] = credit
        return False

    # ---- charts ------------------------------------------------------------------
    def chart_size(self) -> int:
        return self.pick((2, 3, 4, 5, 6, 8, 8, 10, 12, 15, 20, 30, 45))

    def new_chart(self) -> _Chart:
        r = self.r
        tp = self.chance(0.3)
        if tp:
            name = self.pick(_THIRD_PARTY)[0]
        else:
            name = f"{self.pick(_PRODUCTS)}-{self.pick(_SUFFIXES)}"
        if tp and name in (
            "prometheus-node-exporter",
            "node-exporter",
            "promtail",
            "fluent-bit",
            "datadog-agent",
            "node-problem-detector",
            "jaeger-agent",
            "kube-state-metrics",
        ):
            namespace: str | None = self.pick(("monitoring", "monitoring", "kube-system", "observability"))
        else:
            namespace = r.choices(_NAMESPACES, weights=_NAMESPACE_WEIGHTS)[0]
        if self.chance(0.25):
            namespace = None  # template without {{ .Release.Namespace }}
        release = name if self.chance(0.4) else f"{self.pick(_RELEASE_WORDS)}-{name.split('-')[0]}"
        root = name
        if self.chance(0.2):
            root = f"{self.pick(('platform', 'umbrella', 'stack', 'apps'))}/charts/{name}"
        seq_indent = self.pick((0, 2, 2))
        quote_rate = self.pick((0.0, 0.0, 0.05, 0.15, 0.3))
        emitter = _Emitter(r, seq_indent, quote_rate, self.pick(('"', '"', "'")))
        return _Chart(
            name=name,
            version=self.version(),
            app_version=self.pick((self.version(), "v" + self.version(), f"sha-{self.hexstr(7)}")),
            release=release,
            namespace=namespace,
            source_root=root,
            legacy_labels=self.chance(0.2),
            env=self.pick(("prod", "staging", "dev", "qa")),
            team=self.pick(_TEAMS),
            domain=self.pick(_DOMAINS),
            emitter=emitter,
            third_party=tp,
            third_party_done=not tp,
        )

    def chart(self, count: int) -> tuple[str, list[str]]:
        """One rendered chart: its name and exactly ``count`` document texts."""
        ch = self.new_chart()
        objs: list[_Obj] = []
        if count > 0:
            for obj in self.chart_objects(ch):
                objs.append(obj)
                if len(objs) == count:
                    break
        objs.sort(key=lambda o: _INSTALL_ORDER[o.kind])  # stable, like helm's kind sorter
        docs = []
        for obj in objs:
            self.objects += 1
            if obj.problem:
                self.problems[obj.problem] = self.problems.get(obj.problem, 0) + 1
            lines = ch.emitter.render(obj.body)
            docs.append(f"# Source: {ch.source_root}/templates/{obj.source}\n" + "\n".join(lines) + "\n")
        return ch.name, docs

    def chart_objects(self, ch: _Chart) -> Iterator[_Obj]:
        """Endless, lazily built objects of a chart (so unused objects leave no state behind)."""
        while True:
            comp = self.new_component(ch)
            yield from self.component_objects(ch, comp)

    def new_component(self, ch: _Chart) -> _Comp:
        r = self.r
        if not ch.third_party_done:
            ch.third_party_done = True
            spec = next(t for t in _THIRD_PARTY if t[0] == ch.name)
            short, kind, image, tag, port, pname, proto = spec
            tp = True
            image = f"{image}:{tag}"
            role = self.pick(("", "", "primary", "server", "controller"))
        else:
            tp = False
            if ch.third_party:
                extra = ("metrics", "exporter", "backup", "sentinel", "proxy", "operator", "webhook")
                role = self.pick(extra)
                short = f"{ch.name}-{role}"
            elif not ch.used_names:
                short = ch.name
                role = ch.name.split("-", 1)[1] if self.chance(0.5) else ""
            else:
                role = self.pick(_SUFFIXES)
                short = f"{ch.name.split('-')[0]}-{role}"
            kind = r.choices(
                ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "Pod"),
                weights=(58, 9, 5, 14, 9, 5),
            )[0]
            reg = self.pick(_REGISTRIES).format(team=ch.team)
            tag = self.pick(
                (
                    self.version(),
                    "v" + self.version(),
                    f"sha-{self.hexstr(7)}",
                    f"2024.{r.randint(1, 12):02d}.{r.randint(0, 9)}",
                )
            )
            image = f"{reg}/{short}:{tag}"
            port, pname = self.pick(
                (
                    (8080, "http"),
                    (8080, "http"),
                    (8000, "http"),
                    (3000, "http"),
                    (5000, "http"),
                    (9090, "grpc"),
                    (8443, "https"),
                )
            )
            proto = "TCP"
        base = short
        n = 2
        while short in ch.used_names:
            short = f"{base}-{n}"
            n += 1
        ch.used_names.append(short)
        name = short if ch.release == ch.name or short.startswith(ch.release) else f"{ch.release}-{short}"
        if len(ch.used_names) == 1:
            tpl = ""
        else:
            tpl = self.pick((f"{short}/", f"{short}-"))
        comp = _Comp(
            name=name,
            short=short,
            kind=kind,
            image=image,
            port=port,
            port_name=pname,
            protocol=proto,
            third_party=tp,
            tpl=tpl,
            role=role,
        )
        comp.has_sa = self.chance(0.45)
        comp.has_config = self.chance(0.4)
        comp.has_secret = self.chance(0.35)
        if kind in ("Deployment", "StatefulSet") and self.chance(0.3):
            comp.sidecars = [self.pick(_SIDECARS)]
            if self.chance(0.2):
                extra = self.pick(_SIDECARS)
                if extra[0] != comp.sidecars[0][0]:
                    comp.sidecars.append(extra)
        return comp

    def component_objects(self, ch: _Chart, comp: _Comp) -> Iterator[_Obj]:
        t = comp.tpl
        if comp.has_sa:
            yield self.service_account(ch, comp)
        if comp.has_config:
            yield self.config_map(ch, comp)
        if comp.has_secret:
            yield self.secret(ch, comp)
        yield self.workload(ch, comp)
        if comp.kind in ("CronJob", "Job", "Pod"):
            return
        if comp.kind == "StatefulSet":
            yield _Obj(f"{t}svc-headless.yaml", "Service", self.service_body(ch, comp, "headless"), None)
        if comp.kind != "DaemonSet" or self.chance(0.5):
            yield self.service(ch, comp)
        if self.chance(0.06):
            yield _Obj(
                f"{t}service-external.yaml", "Service", self.service_body(ch, comp, "ExternalName"), None
            )
        if comp.kind in ("Deployment", "StatefulSet") and self.chance(0.3):
            yield self.hpa(ch, comp)
        if comp.kind == "Deployment" and comp.port_name in ("http", "https", "grafana") and self.chance(0.45):
            yield self.ingress(ch, comp)
        if comp.kind == "Deployment" and self.chance(0.08):
            yield self.test_pod(ch, comp)

    # ---- metadata ----------------------------------------------------------------
    def selector(self, ch: _Chart, comp: _Comp) -> dict[str, Any]:
        if ch.legacy_labels:
            return {"app": comp.short, "release": ch.release}
        return {"app.kubernetes.io/name": comp.short, "app.kubernetes.io/instance": ch.release}

    def labels(self, ch: _Chart, comp: _Comp) -> dict[str, Any]:
        if ch.legacy_labels:
            d: dict[str, Any] = {
                "app": comp.short,
                "chart": f"{ch.name}-{ch.version}",
                "release": ch.release,
                "heritage": "Helm",
            }
        else:
            d = {"helm.sh/chart": f"{ch.name}-{ch.version}"}
            d.update(self.selector(ch, comp))
            if comp.kind in ("CronJob", "Job"):
                d["app.kubernetes.io/component"] = "job"
            elif comp.role:
                d["app.kubernetes.io/component"] = comp.role
            d["app.kubernetes.io/version"] = ch.app_version
            d["app.kubernetes.io/managed-by"] = "Helm"
        if self.chance(0.3):
            d["team"] = ch.team
        if self.chance(0.15):
            d["environment"] = ch.env
        return d

    def meta(
        self, ch: _Chart, comp: _Comp, name: str | None = None, annotations: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        md: dict[str, Any] = {"name": name or comp.name}
        if ch.namespace:
            md["namespace"] = ch.namespace
        md["labels"] = self.labels(ch, comp)
        if annotations:
            md["annotations"] = annotations
        return md

    # ---- simple kinds ------------------------------------------------------------
    def service_account(self, ch: _Chart, comp: _Comp) -> _Obj:
        ann = {}
        if self.chance(0.3):
            ann["eks.amazonaws.com/role-arn"] = f"arn:aws:iam::123456789012:role/{ch.env}-{comp.short}"
        elif self.chance(0.2):
            ann["iam.gke.io/gcp-service-account"] = f"{comp.short}@acme-{ch.env}.iam.gserviceaccount.com"
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": self.meta(ch, comp, annotations=ann),
        }
        if self.chance(0.4):
            body["automountServiceAccountToken"] = self.chance(0.3)
        if self.chance(0.2):
            body["imagePullSecrets"] = [{"name": "regcred"}]
        return _Obj(f"{comp.tpl}serviceaccount.yaml", "ServiceAccount", body, None)

    def secret(self, ch: _Chart, comp: _Comp) -> _Obj:
        r = self.r
        typ = r.choices(("Opaque", "kubernetes.io/dockerconfigjson", "kubernetes.io/tls"), weights=(8, 1, 1))[
            0
        ]
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": self.meta(ch, comp, name=f"{comp.name}-secret"),
        }
        body["type"] = typ
        if typ == "Opaque":
            if self.chance(0.25):
                db = comp.short.replace("-", "_")
                host = f"postgresql.{ch.namespace or 'default'}.svc:5432"
                body["stringData"] = {
                    "DATABASE_URL": f"postgres://{db}:{self.hexstr(16)}@{host}/{db}?sslmode=require",
                    "API_KEY": self.hexstr(32),
                }
            else:
                keys = (
                    "password",
                    "api-key",
                    "jwt-secret",
                    "client-secret",
                    "redis-password",
                    "token",
                    "encryption-key",
                    "webhook-secret",
                )
                body["data"] = {k: self.b64(r.randint(12, 48)) for k in r.sample(keys, r.randint(2, 6))}
        elif typ == "kubernetes.io/dockerconfigjson":
            auth = base64.b64encode(f"robot:{self.hexstr(24)}".encode()).decode()
            cfg = {"auths": {"registry.example.com": {"username": "robot", "auth": auth}}}
            body["data"] = {".dockerconfigjson": base64.b64encode(json.dumps(cfg).encode()).decode()}
        else:
            body["data"] = {
                "tls.crt": self.pem_b64("CERTIFICATE", 900),
                "tls.key": self.pem_b64("PRIVATE KEY", 1190),
            }
        if self.chance(0.3):
            body["metadata"]["annotations"] = {"helm.sh/resource-policy": "keep"}
        return _Obj(f"{comp.tpl}secret.yaml", "Secret", body, None)

    def pem_b64(self, label: str, nbytes: int) -> str:
        raw = self.b64(nbytes)
        lines = [raw[i : i + 64] for i in range(0, len(raw), 64)]
        pem = f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"
        return base64.b64encode(pem.encode()).decode()

    def hpa(self, ch: _Chart, comp: _Comp) -> _Obj:
        r = self.r
        problem = "deprecated-apiVersion" if self.problem("HorizontalPodAutoscaler") else None
        if problem:
            api = self.pick(("autoscaling/v2beta2", "autoscaling/v2beta1"))
        else:
            api = r.choices(("autoscaling/v2", "autoscaling/v1"), weights=(4, 1))[0]
        target = {"apiVersion": "apps/v1", "kind": comp.kind, "name": comp.name}
        spec: dict[str, Any] = {
            "scaleTargetRef": target,
            "minReplicas": r.randint(1, 4),
            "maxReplicas": r.randint(5, 40),
        }
        cpu = r.choice((60, 70, 75, 80))
        if api == "autoscaling/v1":
            spec["targetCPUUtilizationPercentage"] = cpu
        elif api == "autoscaling/v2beta1":
            spec["metrics"] = [
                {"type": "Resource", "resource": {"name": "cpu", "targetAverageUtilization": cpu}}
            ]
        else:
            metrics = [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu}},
                }
            ]
            if self.chance(0.5):
                metrics.append(
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "memory",
                            "target": {"type": "Utilization", "averageUtilization": r.choice((70, 80, 90))},
                        },
                    }
                )
            spec["metrics"] = metrics
            if self.chance(0.3):
                spec["behavior"] = {
                    "scaleDown": {
                        "stabilizationWindowSeconds": 300,
                        "policies": [Flow({"type": "Percent", "value": 50, "periodSeconds": 60})],
                    }
                }
        body = {
            "apiVersion": api,
            "kind": "HorizontalPodAutoscaler",
            "metadata": self.meta(ch, comp),
            "spec": spec,
        }
        return _Obj(f"{comp.tpl}hpa.yaml", "HorizontalPodAutoscaler", body, problem)

    # ---- config maps -------------------------------------------------------------
    def config_map(self, ch: _Chart, comp: _Comp) -> _Obj:
        r = self.r
        data: dict[str, Any] = {}
        for key in r.sample(
            (
                "LOG_LEVEL",
                "LOG_FORMAT",
                "FEATURE_FLAGS",
                "MAX_CONNECTIONS",
                "CACHE_TTL",
                "ENABLE_TRACING",
                "REGION",
                "WORKERS",
            ),
            r.randint(1, 5),
        ):
            data[key] = self.env_value(key, ch)
        makers = (
            self.cfg_properties,
            self.cfg_app_yaml,
            self.cfg_nginx,
            self.cfg_prometheus,
            self.cfg_logback,
            self.cfg_json_pretty,
            self.cfg_json_compact,
            self.cfg_sql,
            self.cfg_messages,
        )
        for maker in r.sample(makers, self.pick((1, 1, 2, 2, 3))):
            key, value = maker(ch, comp)
            data[key] = value
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": self.meta(ch, comp, name=f"{comp.name}-config"),
            "data": data,
        }
        return _Obj(f"{comp.tpl}configmap.yaml", "ConfigMap", body, None)

    def cfg_properties(self, ch: _Chart, comp: _Comp) -> tuple[str, Any]:
        r = self.r
        lines = [
            f"# {comp.short} configuration, rendered by Helm",
            f"spring.application.name={comp.short}",
            f"server.port={comp.port}",
            "management.endpoints.web.exposure.include=health,info,prometheus",
        ]
        for i in range(r.randint(20, 70)):
            section = self.pick(
                ("app", "db", "cache", "kafka", "http.client", "feature", "retry", "security")
            )
            prop = self.pick(
                (
                    "timeout",
                    "pool-size",
                    "enabled",
                    "url",
                    "max-retries",
                    "ttl",
                    "batch-size",
                    "name",
                    "topic",
                    "backoff",
                )
            )
            val = self.pick(
                (
                    str(r.randint(1, 5000)),
                    "true",
                    "false",
                    f"https://{comp.short}-{i}.{ch.domain}",
                    f"{comp.short}.{prop}.{i}",
                    f"${{{prop.upper().replace('-', '_')}:{r.randint(1, 99)}}}",
                )
            )
            lines.append(f"{comp.short.split('-')[0]}.{section}.{prop}-{i}={val}")
        return "application.properties", Literal("\n".join(lines) + "\n")

    def cfg_app_yaml(self, ch: _Chart, comp: _Comp) -> tuple[str, Any]:
        r = self.r
        lines = [
            "server:",
            f"  port: {comp.port}",
            "  shutdownTimeout: 30s",
            "logging:",
            "  level: info",
            "  format: json",
            "upstreams:",
        ]
        for i in range(r.randint(5, 18)):
            lines += [
                f"  - name: {self.pick(_PRODUCTS)}-{i}",
                f"    url: http://{self.pick(_PRODUCTS)}.{ch.namespace or 'default'}.svc.cluster.local:8080",
                f"    timeout: {r.randint(1, 30)}s",
                f"    retries: {r.randint(0, 5)}",
                "    headers:",
                f"      X-Client: {comp.short}",
                f'      X-Env: "{ch.env}"',
            ]
        lines += ["features:"] + [
            f"  {self.pick(_PRODUCTS)}_{i}: {self.pick(('true', 'false'))}" for i in range(10)
        ]
        return "config.yaml", Literal("\n".join(lines) + "\n")

    def cfg_nginx(self, ch: _Chart, comp: _Comp) -> tuple[str, Any]:
        r = self.r
        lines = [
            "worker_processes auto;",
            "events {",
            "    worker_connections 1024;",
            "}",
            "http {",
            "    include       /etc/nginx/mime.types;",
            "    default_type  application/octet-stream;",
            "    sendfile on;",
            "    keepalive_timeout 65;",
            "    log_format main '$remote_addr - $remote_user [$time_local] \"$request\" '",
            '                    \'$status $body_bytes_sent "$http_referer" "$http_user_agent"\';',
            "    server {",
            "        listen 8081;",
            f"        server_name {comp.short}.{ch.domain};",
        ]
        for _ in range(r.randint(4, 14)):
            path = "/" + self.pick(_PRODUCTS)
            lines += [
                f"        location {path} {{",
                f"            proxy_pass http://{self.pick(_PRODUCTS)}:{self.pick((80, 8080, 3000))};",
                "            proxy_set_header Host $host;",
                "            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
                f"            proxy_read_timeout {r.randint(5, 120)}s;",
                "        }",
            ]
        lines += ["        location /healthz {", "            return 200 'ok';", "        }", "    }", "}"]
        return "nginx.conf", Literal("\n".join(lines) + "\n")

    def cfg_prometheus(self, ch: _Chart, comp: _Comp) -> tuple[str, Any]:
        r = self.r
        lines = ["global:", "  scrape_interval: 30s", "  evaluation_interval: 30s", "scrape_configs:"]
        for _ in range(r.randint(5, 14)):
            job = f"{self.pick(_PRODUCTS)}-{self.pick(_SUFFIXES)}"
            lines += [
                f"  - job_name: {job}",
                "    kubernetes_sd_configs:",
                "      - role: endpoints",
                "        namespaces:",
                f"          names: [{ch.namespace or 'default'}]",
                "    relabel_configs:",
                "      - source_labels: [__meta_kubernetes_service_label_app_kubernetes_io_name]",
                f"        regex: {job}",
                "        action: keep",
                "      - source_labels: [__meta_kubernetes_pod_container_port_name]",
                "        regex: metrics",
                "        action: keep",
            ]
        return "prometheus.yml", Literal("\n".join(lines) + "\n")

    def cfg_logback(self, ch: _Chart, comp: _Comp) -> tuple[str, Any]:
        r = self.r
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<configuration scan="true" scanPeriod="30 seconds">',
            '  <appender name="JSON" class="ch.qos.logback.core.ConsoleAppender">',
            '    <encoder class="net.logstash.logback.encoder.LogstashEncoder">',
            f'      <customFields>{{"app":"{comp.short}","env":"{ch.env}"}}</customFields>',
            "    </encoder>",
            "  </appender>",
        ]
        for _ in range(r.randint(10, 30)):
            pkg = f"com.acme.{self.pick(_PRODUCTS)}.{self.pick(('client', 'dao', 'web', 'service', 'jobs'))}"
            lines.append(f'  <logger name="{pkg}" level="{self.pick(("INFO", "DEBUG", "WARN", "ERROR"))}"/>')
        lines += ['  <root level="INFO">', '    <appender-ref ref="JSON"/>', "  </root>", "</configuration>"]
        return "logback.xml", Literal("\n".join(lines))

    def dashboard(self, comp: _Comp) -> dict[str, Any]:
        r = self.r
        panels = []
        for i in range(r.randint(3, 8)):
            metric = self.pick(
                (
                    "http_requests_total",
                    "http_request_duration_seconds_bucket",
                    "process_resident_memory_bytes",
                    "jvm_gc_pause_seconds_sum",
                    "queue_depth",
                )
            )
            panels.append(
                {
                    "id": i + 1,
                    "type": self.pick(("timeseries", "stat", "gauge")),
                    "title": f"{comp.short} {metric.replace('_', ' ')}",
                    "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8},
                    "targets": [
                        {
                            "expr": f'sum(rate({metric}{{app="{comp.short}"}}[5m])) by (pod)',
                            "legendFormat": "{{pod}}",
                            "refId": "A",
                        }
                    ],
                }
            )
        return {
            "title": f"{comp.short} overview",
            "uid": self.hexstr(9),
            "schemaVersion": 39,
            "tags": [comp.short, "generated"],
            "time": {"from": "now-6h", "to": "now"},
            "panels": panels,
        }

    def cfg_json_pretty(self, ch: _Chart, comp: _Comp) -> tuple[str, Any]:
        return f"{comp.short}-dashboard.json", Literal(json.dumps(self.dashboard(comp), indent=2) + "\n")

    def cfg_json_compact(self, ch: _Chart, comp: _Comp) -> tuple[str, Any]:
        return "dashboard.json", json.dumps(self.dashboard(comp), separators=(",", ":"))

    def cfg_sql(self, ch: _Chart, comp: _Comp) -> tuple[str, Any]:
        r = self.r
        lines = ["-- schema bootstrap", "BEGIN;"]
        for _ in range(r.randint(4, 10)):
            table = f"{self.pick(_PRODUCTS)}_{self.pick(('events', 'items', 'log', 'state', 'refs'))}"
            lines += [
                f"CREATE TABLE IF NOT EXISTS {table} (",
                "    id BIGSERIAL PRIMARY KEY,",
                "    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),",
                "    payload JSONB NOT NULL,",
                f"    status VARCHAR({r.choice((16, 32, 64))}) NOT NULL",
                ");",
                f"CREATE INDEX IF NOT EXISTS {table}_created_idx ON {table} (created_at);",
            ]
        lines.append("COMMIT;")
        return "00-init.sql", Literal("\n".join(lines) + "\n")

    def cfg_messages(self, ch: _Chart, comp: _Comp) -> tuple[str, Any]:
        words = (
            "Grüße",
            "Bestellung",
            "Übersicht",
            "Zahlung fehlgeschlagen",
            "Lieferadresse",
            "Straße",
            "Rückerstattung",
            "Größe",
            "Schließen",
            "Willkommen zurück",
        )
        lines = [
            f"{self.pick(_PRODUCTS)}.label.{i}={self.pick(words)}" for i in range(self.r.randint(20, 60))
        ]
        return "messages_de.properties", Literal("\n".join(lines) + "\n")

    # ---- workloads ---------------------------------------------------------------
    def env_value(self, key: str, ch: _Chart) -> Any:
        r = self.r
        if key in ("LOG_LEVEL",):
            return self.pick(("info", "debug", "warn"))
        if key in ("MAX_CONNECTIONS", "WORKERS", "CACHE_TTL", "PORT", "GOMAXPROCS"):
            return str(r.randint(1, 500))
        if key in ("ENABLE_TRACING", "FEATURE_NEW_CHECKOUT"):
            return self.pick(("true", "false"))
        if key == "REGION":
            return self.pick(("eu-west-1", "us-east-1", "europe-west4"))
        if key == "FEATURE_FLAGS":
            return ",".join(r.sample(("beta-ui", "fast-path", "new-pricing", "dark-mode", "v2-api"), 2))
        return self.pick(("json", "text", ch.env, f"{ch.env}-{r.randint(1, 9)}"))

    def env(self, ch: _Chart, comp: _Comp) -> list[Any]:
        r = self.r
        out: list[Any] = []
        keys = (
            "LOG_LEVEL",
            "LOG_FORMAT",
            "PORT",
            "MAX_CONNECTIONS",
            "WORKERS",
            "ENABLE_TRACING",
            "REGION",
            "FEATURE_NEW_CHECKOUT",
            "GOMAXPROCS",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "JAVA_OPTS",
        )
        for key in r.sample(keys, r.randint(1, 6)):
            if key == "OTEL_EXPORTER_OTLP_ENDPOINT":
                value: Any = "http://otel-collector.monitoring.svc:4317"
            elif key == "JAVA_OPTS":
                value = f"-Xms{r.choice((256, 512))}m -Xmx{r.choice((512, 1024, 2048))}m -XX:+UseG1GC"
            elif key == "PORT":
                value = str(comp.port)
            else:
                value = self.env_value(key, ch)
            item = {"name": key, "value": value}
            out.append(Flow(item) if self.chance(0.15) else item)
        if self.chance(0.5):
            out.append({"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
        if self.chance(0.3):
            out.append(
                {
                    "name": "POD_IP",
                    "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}},
                }
            )
        if comp.has_secret and self.chance(0.7):
            out.append(
                {
                    "name": "DB_PASSWORD",
                    "valueFrom": {"secretKeyRef": {"name": f"{comp.name}-secret", "key": "password"}},
                }
            )
        if comp.has_config and self.chance(0.4):
            out.append(
                {
                    "name": "CACHE_TTL",
                    "valueFrom": {
                        "configMapKeyRef": {
                            "name": f"{comp.name}-config",
                            "key": "CACHE_TTL",
                            "optional": True,
                        }
                    },
                }
            )
        return out

    def resources(self) -> Any:
        r = self.r
        if self.chance(0.1):
            return Flow({})
        cpu = self.pick(("50m", "100m", "250m", "500m", "1"))
        mem = self.pick(("64Mi", "128Mi", "256Mi", "512Mi", "1Gi"))
        req = {"cpu": cpu, "memory": mem}
        if self.chance(0.25):
            return {"requests": Flow(req)}
        lim = {
            "cpu": self.pick(("500m", "1", "2", "1000m")),
            "memory": self.pick(("256Mi", "512Mi", "1Gi", "2Gi")),
        }
        if r.random() < 0.3:
            del lim["cpu"]
        return {"limits": lim, "requests": req}

    def probe(self, comp: _Comp, kind: str) -> dict[str, Any]:
        r = self.r
        style = r.choices(("http", "tcp", "exec", "grpc"), weights=(6, 2, 1, 1))[0]
        if comp.third_party or style == "tcp":
            handler: dict[str, Any] = {
                "tcpSocket": {"port": comp.port_name if self.chance(0.5) else comp.port}
            }
        elif style == "exec":
            handler = {"exec": {"command": Flow(["sh", "-c", f"curl -fsS localhost:{comp.port}/healthz"])}}
        elif style == "grpc" and comp.port_name == "grpc":
            handler = {"grpc": {"port": comp.port}}
        else:
            path = "/healthz" if kind == "liveness" else self.pick(("/ready", "/readyz", "/health/ready"))
            handler = {"httpGet": {"path": path, "port": comp.port_name}}
            if comp.port_name == "https":
                handler["httpGet"]["scheme"] = "HTTPS"
        p: dict[str, Any] = dict(handler)
        p["initialDelaySeconds"] = self.pick((0, 5, 10, 15, 30))
        p["periodSeconds"] = self.pick((5, 10, 10, 20))
        if self.chance(0.6):
            p["timeoutSeconds"] = self.pick((1, 3, 5))
            p["failureThreshold"] = self.pick((3, 5, 6))
        if self.chance(0.3):
            p["successThreshold"] = 1
        return p

    def container(self, ch: _Chart, comp: _Comp, hostport: int | None, host_network: bool) -> dict[str, Any]:
        r = self.r
        c: dict[str, Any] = {"name": comp.short if self.chance(0.6) else self.pick(("app", "main", "server"))}
        c["image"] = comp.image if self.chance(0.6) else Quoted(comp.image)
        c["imagePullPolicy"] = self.pick(("IfNotPresent", "IfNotPresent", "Always"))
        if comp.kind in ("CronJob", "Job"):
            c["command"] = Flow(
                ["/app/bin/" + comp.short.split("-")[0], self.pick(("run", "sync", "cleanup"))]
            )
            c["args"] = [f"--batch-size={r.randint(10, 1000)}", "--dry-run=false", f"--env={ch.env}"]
        elif self.chance(0.35):
            args = [f"--port={comp.port}", f"--log-level={self.pick(('info', 'debug'))}"]
            if self.chance(0.5):
                args.append("--metrics-addr=:9090")
            c["args"] = Flow(args) if self.chance(0.5) else args
        if comp.kind not in ("CronJob", "Job"):
            port: dict[str, Any] = {
                "name": comp.port_name,
                "containerPort": comp.port,
                "protocol": comp.protocol,
            }
            if hostport is not None:
                port["hostPort"] = hostport
                if host_network:
                    port["containerPort"] = hostport
            ports: list[Any] = [Flow(port) if self.chance(0.15) else port]
            if not comp.third_party and self.chance(0.35):
                ports.append({"name": "metrics", "containerPort": 9090, "protocol": "TCP"})
            c["ports"] = ports
        c["env"] = self.env(ch, comp)
        if (comp.has_config or comp.has_secret) and self.chance(0.4):
            env_from: list[Any] = []
            if comp.has_config:
                env_from.append({"configMapRef": {"name": f"{comp.name}-config"}})
            if comp.has_secret:
                env_from.append({"secretRef": {"name": f"{comp.name}-secret"}})
            c["envFrom"] = env_from
        c["resources"] = self.resources()
        if comp.kind not in ("CronJob", "Job", "Pod"):
            c["livenessProbe"] = self.probe(comp, "liveness")
            c["readinessProbe"] = self.probe(comp, "readiness")
            if self.chance(0.15):
                c["startupProbe"] = self.probe(comp, "startup")
        mounts = []
        if comp.has_config:
            mounts.append({"name": "config", "mountPath": f"/etc/{comp.short}", "readOnly": True})
        if self.chance(0.5):
            mounts.append({"name": "tmp", "mountPath": "/tmp"})
        if comp.kind == "StatefulSet":
            mounts.append({"name": "data", "mountPath": "/data"})
        if comp.kind == "DaemonSet":
            mounts += [
                {"name": "proc", "mountPath": "/host/proc", "readOnly": True},
                {"name": "sys", "mountPath": "/host/sys", "readOnly": True},
            ]
        if mounts:
            c["volumeMounts"] = mounts
        if self.chance(0.6):
            c["securityContext"] = {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": self.chance(0.7),
                "runAsNonRoot": True,
                "capabilities": {"drop": Flow(["ALL"]) if self.chance(0.5) else ["ALL"]},
            }
        return c

    def sidecar(self, spec: tuple[str, str, int | None, str]) -> dict[str, Any]:
        name, image, port, pname = spec
        c: dict[str, Any] = {"name": name, "image": image}
        if name == "cloud-sql-proxy":
            c["args"] = ["--structured-logs", "--port=5432", "acme-prod:europe-west4:main-db"]
        if port:
            c["ports"] = [{"containerPort": port, "name": pname}]
        c["resources"] = (
            Flow({"requests": {"cpu": "10m", "memory": "32Mi"}}) if self.chance(0.5) else self.resources()
        )
        if self.chance(0.5):
            c["securityContext"] = Flow({"runAsNonRoot": True, "runAsUser": 65532})
        return c

    def init_containers(self, comp: _Comp) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if self.chance(0.6):
            host, port = self.pick(
                (("postgresql", 5432), ("redis-master", 6379), ("kafka", 9092), ("rabbitmq", 5672))
            )
            out.append(
                {
                    "name": "wait-for-deps",
                    "image": "docker.io/library/busybox:1.36",
                    "command": Flow(
                        ["sh", "-c", f"until nc -z {host} {port}; do echo waiting for {host}; sleep 2; done"]
                    ),
                }
            )
        if not out or self.chance(0.4):
            out.append(
                {
                    "name": "migrate",
                    "image": comp.image,
                    "args": ["migrate", "up"],
                    "envFrom": [{"secretRef": {"name": f"{comp.name}-secret"}}] if comp.has_secret else [],
                }
            )
        return out

    def pod_spec(self, ch: _Chart, comp: _Comp, problem: str | None) -> dict[str, Any]:
        r = self.r
        host_network = problem == "hostNetwork"
        hostport: int | None = None
        batch = comp.kind in ("CronJob", "Job")  # no ports on batch containers
        if not batch and (problem == "hostPort" or (host_network and self.chance(0.6))):
            if comp.protocol == "UDP" or (comp.kind == "DaemonSet" and comp.port == 9100):
                hostport = comp.port  # node agents: hostPort == containerPort
            elif comp.kind == "DaemonSet" and self.chance(0.6):
                hostport = 9100
            elif self.host_ports and self.chance(0.4):
                hostport = self.pick(self.host_ports)  # collide with an earlier workload
            else:
                hostport = self.pick(_HOSTPORT_POOL)
            if comp.protocol == "TCP":
                self.host_ports.append(hostport)
        spec: dict[str, Any] = {}
        if comp.has_sa:
            spec["serviceAccountName"] = comp.name
        if self.chance(0.2):
            spec["imagePullSecrets"] = [{"name": "regcred"}]
        if host_network:
            spec["hostNetwork"] = True
            spec["dnsPolicy"] = "ClusterFirstWithHostNet"
        if comp.kind in ("CronJob", "Job", "Pod"):
            spec["restartPolicy"] = "OnFailure" if comp.kind == "CronJob" else "Never"
        if self.chance(0.5):
            spec["securityContext"] = (
                {"runAsNonRoot": True, "runAsUser": 1000, "fsGroup": 2000} if self.chance(0.7) else Flow({})
            )
        if not comp.third_party and comp.kind in ("Deployment", "StatefulSet") and self.chance(0.2):
            spec["initContainers"] = self.init_containers(comp)
        containers = [self.container(ch, comp, hostport, host_network)]
        containers += [self.sidecar(s) for s in comp.sidecars]
        spec["containers"] = containers
        if self.chance(0.3):
            spec["nodeSelector"] = (
                Flow({"kubernetes.io/os": "linux"})
                if self.chance(0.5)
                else {
                    "kubernetes.io/os": "linux",
                    "node.kubernetes.io/pool": self.pick(("general", "highmem", "spot")),
                }
            )
        if comp.kind == "DaemonSet":
            spec["tolerations"] = (
                [{"operator": "Exists"}]
                if self.chance(0.6)
                else [
                    {
                        "key": "node-role.kubernetes.io/control-plane",
                        "operator": "Exists",
                        "effect": "NoSchedule",
                    }
                ]
            )
        elif self.chance(0.15):
            spec["tolerations"] = [
                {"key": "dedicated", "operator": "Equal", "value": ch.team, "effect": "NoSchedule"}
            ]
        if comp.kind in ("Deployment", "StatefulSet") and self.chance(0.35):
            spec["affinity"] = {
                "podAntiAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "weight": 100,
                            "podAffinityTerm": {
                                "topologyKey": "kubernetes.io/hostname",
                                "labelSelector": {"matchLabels": self.selector(ch, comp)},
                            },
                        }
                    ]
                }
            }
        vols: list[Any] = []
        if comp.has_config:
            vols.append(
                {
                    "name": "config",
                    "configMap": {
                        "name": f"{comp.name}-config",
                        **({"defaultMode": 420} if self.chance(0.3) else {}),
                    },
                }
            )
        if any(m["name"] == "tmp" for m in containers[0].get("volumeMounts", [])):
            vols.append({"name": "tmp", "emptyDir": Flow({}) if self.chance(0.7) else {"medium": "Memory"}})
        if comp.kind == "DaemonSet":
            vols += [
                {"name": "proc", "hostPath": {"path": "/proc"}},
                {"name": "sys", "hostPath": {"path": "/sys"}},
            ]
        if vols:
            spec["volumes"] = vols
        if self.chance(0.3):
            spec["terminationGracePeriodSeconds"] = r.choice((10, 30, 60, 120))
        return spec

    def workload(self, ch: _Chart, comp: _Comp) -> _Obj:
        r = self.r
        kind = comp.kind
        problem: str | None = None
        if self.problem(kind):
            choices = {
                "DaemonSet": (("hostNetwork", 5), ("hostPort", 4), ("deprecated-apiVersion", 1)),
                "Deployment": (("hostPort", 4), ("hostNetwork", 3), ("deprecated-apiVersion", 3)),
                "StatefulSet": (("hostPort", 1), ("deprecated-apiVersion", 1)),
                "CronJob": (("deprecated-apiVersion", 3), ("hostNetwork", 1)),
                "Job": (("hostNetwork", 1),),
                "Pod": (("hostNetwork", 1), ("hostPort", 1)),
            }[kind]
            problem = r.choices([c[0] for c in choices], weights=[c[1] for c in choices])[0]
        api = {"CronJob": "batch/v1", "Job": "batch/v1", "Pod": "v1"}.get(kind, "apps/v1")
        if problem == "deprecated-apiVersion":
            api = {
                "Deployment": self.pick(("extensions/v1beta1", "apps/v1beta1", "apps/v1beta2")),
                "DaemonSet": self.pick(("extensions/v1beta1", "apps/v1beta2")),
                "StatefulSet": self.pick(("apps/v1beta1", "apps/v1beta2")),
                "CronJob": "batch/v1beta1",
            }[kind]
        ann: dict[str, Any] = {}
        pod_ann: dict[str, Any] = {}
        if comp.has_config:
            pod_ann["checksum/config"] = self.hexstr(64)
        if not comp.third_party and self.chance(0.4):
            pod_ann["prometheus.io/scrape"] = "true"
            pod_ann["prometheus.io/port"] = "9090"
            pod_ann["prometheus.io/path"] = "/metrics"
        if kind == "Job":
            ann = {
                "helm.sh/hook": "pre-install,pre-upgrade",
                "helm.sh/hook-weight": str(r.randint(-10, 5)),
                "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded",
            }
        elif self.chance(0.15):
            ann = {"reloader.stakater.com/auto": "true"}
        name = comp.name if kind != "Pod" else f"{comp.name}-{self.pick(('debug', 'toolbox', 'shell'))}"
        meta = self.meta(ch, comp, name=name, annotations=ann)
        pod_spec = self.pod_spec(ch, comp, problem)
        template: dict[str, Any] = {"metadata": {"labels": self.selector(ch, comp)}, "spec": pod_spec}
        if pod_ann:
            template["metadata"] = {"annotations": pod_ann, "labels": template["metadata"]["labels"]}
        sel = self.selector(ch, comp)
        match = {"matchLabels": Flow(sel) if self.chance(0.3) else sel}
        if kind == "Pod":
            if pod_ann:
                meta.setdefault("annotations", {}).update(pod_ann)
            body: dict[str, Any] = {"apiVersion": api, "kind": kind, "metadata": meta, "spec": pod_spec}
        elif kind == "Job":
            spec = {
                "backoffLimit": r.randint(0, 6),
                "ttlSecondsAfterFinished": self.pick((300, 3600, 86400)),
                "template": template,
            }
            body = {"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec}
        elif kind == "CronJob":
            schedule = self.pick(
                (
                    "*/5 * * * *",
                    "0 * * * *",
                    "30 2 * * *",
                    "0 4 * * 0",
                    "*/15 8-18 * * 1-5",
                    "@hourly",
                    "@daily",
                )
            )
            spec = {
                "schedule": schedule,
                "concurrencyPolicy": self.pick(("Forbid", "Replace", "Allow")),
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 1,
                "jobTemplate": {"spec": {"backoffLimit": r.randint(0, 3), "template": template}},
            }
            if self.chance(0.3):
                spec["startingDeadlineSeconds"] = 200
            body = {"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec}
        else:
            spec = {}
            if kind in ("Deployment", "StatefulSet"):
                spec["replicas"] = self.pick((1, 2, 2, 3, 3, 4, 6))
            if kind == "Deployment":
                spec["revisionHistoryLimit"] = 10
            spec["selector"] = match
            if kind == "StatefulSet":
                spec["serviceName"] = f"{comp.name}-headless"
                spec["podManagementPolicy"] = self.pick(("OrderedReady", "Parallel"))
            if kind == "Deployment" and self.chance(0.5):
                spec["strategy"] = {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": self.pick(("25%", 1)), "maxUnavailable": 0},
                }
            if kind == "DaemonSet":
                spec["updateStrategy"] = {
                    "type": "RollingUpdate",
                    "rollingUpdate": Flow({"maxUnavailable": 1}),
                }
            spec["template"] = template
            if kind == "StatefulSet":
                spec["volumeClaimTemplates"] = [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": Flow(["ReadWriteOnce"]) if self.chance(0.5) else ["ReadWriteOnce"],
                            "storageClassName": self.pick(("gp3", "standard-rwo", "premium-ssd")),
                            "resources": {"requests": {"storage": self.pick(("8Gi", "20Gi", "100Gi"))}},
                        },
                    }
                ]
            body = {"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec}
        src = {
            "Deployment": "deployment.yaml",
            "StatefulSet": "statefulset.yaml",
            "DaemonSet": "daemonset.yaml",
            "CronJob": "cronjob.yaml",
            "Job": "hooks/job.yaml",
            "Pod": "pod.yaml",
        }[kind]
        return _Obj(comp.tpl + src, kind, body, problem)

    def test_pod(self, ch: _Chart, comp: _Comp) -> _Obj:
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": self.meta(
                ch, comp, name=f"{comp.name}-test-connection", annotations={"helm.sh/hook": "test"}
            ),
            "spec": {
                "containers": [
                    {
                        "name": "wget",
                        "image": "busybox",
                        "command": Flow(["wget"]),
                        "args": Flow([f"{comp.name}:80"]),
                    }
                ],
                "restartPolicy": "Never",
            },
        }
        return _Obj(f"{comp.tpl}tests/test-connection.yaml", "Pod", body, None)

    # ---- services ----------------------------------------------------------------
    def service(self, ch: _Chart, comp: _Comp) -> _Obj:
        r = self.r
        problem: str | None = None
        if self.problem("Service"):
            problem = r.choices(
                (
                    "nodePort-range",
                    "nodePort-duplicate",
                    "lb-no-source-ranges",
                    "lb-open-world",
                    "externalIPs",
                ),
                weights=(2, 2, 3, 2, 1),
            )[0]
            if problem == "nodePort-duplicate" and not self.node_ports:
                problem = "nodePort-range"
        if problem in ("nodePort-range", "nodePort-duplicate"):
            typ = "NodePort"
        elif problem in ("lb-no-source-ranges", "lb-open-world"):
            typ = "LoadBalancer"
        elif problem == "externalIPs":
            typ = self.pick(("ClusterIP", "LoadBalancer"))
        else:
            typ = r.choices(("ClusterIP", "NodePort", "LoadBalancer"), weights=(72, 12, 16))[0]
        body = self.service_body(ch, comp, typ, problem)
        src = (
            "service.yaml"
            if typ == "ClusterIP"
            else self.pick(("service.yaml", f"service-{typ.lower()}.yaml"))
        )
        return _Obj(comp.tpl + src, "Service", body, problem)

    def service_body(self, ch: _Chart, comp: _Comp, typ: str, problem: str | None = None) -> dict[str, Any]:
        r = self.r
        ann: dict[str, Any] = {}
        spec: dict[str, Any] = {}
        name = comp.name
        if typ == "headless":
            name = f"{comp.name}-headless"
            spec["clusterIP"] = "None"
            spec["publishNotReadyAddresses"] = True
        elif typ == "ExternalName":
            name = f"{comp.name}-{self.pick(('db', 'legacy', 'upstream', 'partner'))}"
            spec["type"] = "ExternalName"
            spec["externalName"] = self.pick(
                (
                    f"{comp.short}.{ch.env}.rds.amazonaws.com",
                    f"legacy.{ch.domain}",
                    f"api.partner-{r.randint(1, 40)}.example.net",
                )
            )
            return {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": self.meta(ch, comp, name=name),
                "spec": spec,
            }
        else:
            spec["type"] = typ
        port_no = comp.port if comp.third_party or typ == "headless" else self.pick((80, 80, 443, comp.port))
        port: dict[str, Any] = {
            "name": comp.port_name,
            "port": port_no,
            "targetPort": comp.port_name if self.chance(0.6) else comp.port,
            "protocol": comp.protocol,
        }
        if typ == "NodePort":
            if problem == "nodePort-range":
                port["nodePort"] = self.pick(_BAD_NODEPORTS)
            elif problem == "nodePort-duplicate":
                port["nodePort"] = self.pick(self.node_ports)
            elif self.chance(0.5) and len(self.node_ports) < 2000:
                np = r.randint(30000, 32767)
                while np in self.node_port_set:
                    np = r.randint(30000, 32767)
                self.node_port_set[np] = None
                self.node_ports.append(np)
                port["nodePort"] = np
        ports: list[Any] = [port]
        if not comp.third_party and typ != "headless" and self.chance(0.3):
            ports.append({"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"})
        spec["ports"] = Flow(ports) if self.chance(0.1) else ports
        spec["selector"] = self.selector(ch, comp)
        if typ == "LoadBalancer":
            internal = problem is None and self.chance(0.35)
            if internal:
                k, v = self.pick(
                    (
                        ("service.beta.kubernetes.io/aws-load-balancer-internal", "true"),
                        ("networking.gke.io/load-balancer-type", "Internal"),
                        ("service.beta.kubernetes.io/azure-load-balancer-internal", "true"),
                    )
                )
                ann[k] = v
            else:
                ann["service.beta.kubernetes.io/aws-load-balancer-type"] = self.pick(("nlb", "external"))
            if self.chance(0.4):
                ann["external-dns.alpha.kubernetes.io/hostname"] = f"{comp.short}.{ch.env}.{ch.domain}"
            if problem == "lb-open-world":
                spec["loadBalancerSourceRanges"] = [*r.sample(_PRIVATE_RANGES, r.randint(0, 2)), "0.0.0.0/0"]
            elif problem in (None, "externalIPs") and not internal:
                spec["loadBalancerSourceRanges"] = r.sample(_PRIVATE_RANGES, r.randint(1, 3))
            if self.chance(0.4):
                spec["externalTrafficPolicy"] = self.pick(("Local", "Cluster"))
        if problem == "externalIPs":
            spec["externalIPs"] = [f"203.0.113.{r.randint(2, 250)}" for _ in range(r.randint(1, 2))]
        if typ == "ClusterIP" and self.chance(0.2):
            spec["sessionAffinity"] = "None"
        if not comp.third_party and self.chance(0.25):
            ann["prometheus.io/scrape"] = "true"
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": self.meta(ch, comp, name=name, annotations=ann),
            "spec": spec,
        }

    # ---- ingress -----------------------------------------------------------------
    def ingress(self, ch: _Chart, comp: _Comp) -> _Obj:
        r = self.r
        problem: str | None = None
        api = "networking.k8s.io/v1"
        tls = True
        if self.problem("Ingress"):
            kind = r.choices(
                ("no-tls", "extensions/v1beta1", "networking.k8s.io/v1beta1"), weights=(4, 3, 3)
            )[0]
            if kind == "no-tls":
                problem, tls = "ingress-no-tls", False
            else:
                problem, api, tls = "deprecated-apiVersion", kind, self.chance(0.5)
        sub = "" if ch.env == "prod" else f".{ch.env}"
        hosts = [f"{comp.short}{sub}.{ch.domain}"]
        if self.chance(0.2):
            hosts.append(f"{comp.short.split('-')[0]}{sub}.{self.pick(_DOMAINS)}")
        ann: dict[str, Any] = {}
        cls = self.pick(("nginx", "nginx", "internal", "traefik"))
        v1 = api == "networking.k8s.io/v1"
        if not v1 or self.chance(0.3):
            ann["kubernetes.io/ingress.class"] = cls
        if tls and self.chance(0.7):
            ann["cert-manager.io/cluster-issuer"] = self.pick(
                ("letsencrypt-prod", "letsencrypt-staging", "acme-ca")
            )
        if self.chance(0.5):
            ann["nginx.ingress.kubernetes.io/proxy-body-size"] = self.pick(("1m", "8m", "50m"))
        if self.chance(0.3):
            ann["nginx.ingress.kubernetes.io/ssl-redirect"] = "true" if tls else "false"
        if self.chance(0.2):
            ann["nginx.ingress.kubernetes.io/whitelist-source-range"] = "10.0.0.0/8,192.168.0.0/16"
        spec: dict[str, Any] = {}
        if v1 and "kubernetes.io/ingress.class" not in ann:
            spec["ingressClassName"] = cls
        if tls:
            spec["tls"] = [
                {"hosts": Flow(hosts) if self.chance(0.3) else hosts, "secretName": f"{comp.name}-tls"}
            ]
        rules = []
        use_name = self.chance(0.3)
        for host in hosts:
            paths = []
            for path in r.sample(("/", "/api", "/static", "/v1", "/graphql", "/ws"), r.randint(1, 3)):
                if v1:
                    port = {"name": comp.port_name} if use_name else {"number": 80}
                    paths.append(
                        {
                            "path": path,
                            "pathType": self.pick(("Prefix", "Prefix", "ImplementationSpecific")),
                            "backend": {"service": {"name": comp.name, "port": port}},
                        }
                    )
                else:
                    backend = {"serviceName": comp.name, "servicePort": comp.port_name if use_name else 80}
                    paths.append({"path": path, "backend": backend})
            rules.append({"host": host, "http": {"paths": paths}})
        spec["rules"] = rules
        body = {
            "apiVersion": api,
            "kind": "Ingress",
            "metadata": self.meta(ch, comp, annotations=ann),
            "spec": spec,
        }
        return _Obj(f"{comp.tpl}ingress.yaml", "Ingress", body, problem)


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def _render_stream(gen: _Generator, n: int) -> Iterator[str]:
    remaining = n
    while remaining > 0:
        _, docs = gen.chart(min(remaining, gen.chart_size()))
        remaining -= len(docs)
        yield from docs


def documents(n: int, seed: int = 1) -> Iterator[str]:
    """Yield ``n`` document texts (each one object, starting with its ``# Source:`` line).

    Join them with ``"---\\n"`` in front of each to get a ``helm template``-style stream;
    that is exactly what the ``huge`` corpus file is.
    """
    return _render_stream(_Generator(random.Random(seed)), n)


@dataclass
class Summary:
    size: str
    paths: list[Path]
    documents: int
    bytes: int
    problems: dict[str, int]


def _file_counts(rng: random.Random, n: int, files: int) -> list[int]:
    """Split ``n`` objects over ``files`` files (each >= 1), skewed like real charts."""
    counts = [1] * files
    weights = [rng.choice((1, 1, 2, 3, 5, 8, 13)) for _ in range(files)]
    for i in rng.choices(range(files), cum_weights=list(accumulate(weights)), k=n - files):
        counts[i] += 1
    return counts


def _generate(outdir: Path, size: str, seed: int) -> Summary:
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; expected one of {', '.join(SIZES)}")
    n, files = SIZES[size]
    target = Path(outdir) / size
    target.mkdir(parents=True, exist_ok=True)
    for old in sorted(target.iterdir()):
        if old.is_file() and _OUR_FILES.fullmatch(old.name):
            old.unlink()  # a stale file from another seed would change the file count
    rng = random.Random(seed)
    gen = _Generator(rng)
    paths: list[Path] = []
    total = 0
    if size == "huge":
        path = target / "huge.yaml"
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            for doc in _render_stream(gen, n):
                fh.write("---\n")
                fh.write(doc)
        paths.append(path)
        total = n
    else:
        for i, count in enumerate(_file_counts(rng, n, files), start=1):
            name, docs = gen.chart(count)
            path = target / f"{i:04d}-{name}.yaml"
            path.write_text("".join("---\n" + d for d in docs), encoding="utf-8", newline="\n")
            paths.append(path)
            total += len(docs)
    assert total == n == gen.objects, (total, n, gen.objects)
    nbytes = sum(p.stat().st_size for p in paths)
    return Summary(size, paths, total, nbytes, dict(sorted(gen.problems.items())))


def generate(outdir: Path, size: str, seed: int = 1) -> list[Path]:
    """Write the ``size`` corpus under ``outdir/size/`` and return the files written."""
    return _generate(outdir, size, seed).paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate a deterministic Kubernetes manifest corpus.")
    ap.add_argument("outdir", type=Path, help="output directory (small/, medium/, huge/ go below it)")
    ap.add_argument("--size", choices=[*SIZES, "all"], default="all", help="corpus size (default: all)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    args = ap.parse_args(argv)
    for size in SIZES if args.size == "all" else [args.size]:
        start = time.perf_counter()
        s = _generate(args.outdir, size, args.seed)
        secs = time.perf_counter() - start
        bad = sum(s.problems.values())
        print(
            f"{size}: {len(s.paths)} files, {s.documents} documents, {s.bytes} bytes "
            f"({bad} with exposure problems, {100 * bad / s.documents:.1f}%) in {secs:.1f}s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
