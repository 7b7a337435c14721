"""Prometheus metrics of the webhook.

prometheus_client rather than hand-written exposition text because gunicorn runs several worker
processes and a scrape reaches only one of them: its multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set
by `kexlint webhook serve` before this module is imported) sums every worker's values at scrape time.
Without that variable (tests, a single process) the ordinary in-process registry is used.
"""

from __future__ import annotations

import os
from functools import cache

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

from kexlint.findings import LEVELS
from kexlint.registry import rules_by_id

from .admission import DENY, KNOWN_KINDS, OPERATIONS, Outcome

CONTENT_TYPE = CONTENT_TYPE_LATEST
disable_created_metrics()  # *_created series double the output and nothing here needs them
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Webhook timeouts are seconds (default 10, ours 5), a review takes well under a millisecond: fine
# buckets at the low end, a few up to the apiserver's timeout.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REVIEWS = Counter("kexlint_webhook_reviews_total", "AdmissionReviews answered, by operation, kind and verdict "
                  "(allow, warn, deny, skip, invalid, error)", ["operation", "kind", "verdict"])
LATENCY = Histogram("kexlint_webhook_review_duration_seconds", "Time to answer one /validate request",
                    buckets=LATENCY_BUCKETS)
FINDINGS = Counter("kexlint_webhook_findings_total", "Unsuppressed findings in reviewed objects, by rule, "
                   "level and whether they denied the request", ["rule", "level", "denied"])
SUPPRESSED = Counter("kexlint_webhook_suppressed_findings_total", "Findings silenced by an annotation or a "
                     "config exclusion, by rule and source (annotation, config)", ["rule", "source"])
REFUSED = Counter("kexlint_webhook_suppressions_refused_total", "ignore.kexlint.io annotations that "
                  "webhook.suppression did not honour for the requester, by rule", ["rule"])
CERT_RELOADS = Counter("kexlint_webhook_certificate_reloads_total", "Serving certificate (re)loads from disk",
                       ["result"])
# livemax: the newest certificate any live worker serves.
CERT_EXPIRY = Gauge("kexlint_webhook_certificate_expiry_timestamp_seconds",
                    "notAfter of the serving certificate, as a Unix timestamp", multiprocess_mode="livemax")

# Per worker, each with its own cache: max shows whether any live worker is stale.
CLUSTER_STALE = Gauge("kexlint_webhook_cluster_state_stale", "1 while the watched cluster state is stale or not "
                      "yet listed (conflicts with live objects are then not checked)", multiprocess_mode="livemax")
CLUSTER_FACTS = Gauge("kexlint_webhook_cluster_state_facts", "Facts about live objects held in the watch cache",
                      multiprocess_mode="livemax")
CLUSTER_OBJECTS = Gauge("kexlint_webhook_cluster_state_objects", "Live objects with facts in the watch cache",
                        multiprocess_mode="livemax")


def cluster_state(stale: bool, objects: int, facts: int) -> None:
    CLUSTER_STALE.set(1 if stale else 0)
    CLUSTER_OBJECTS.set(objects)
    CLUSTER_FACTS.set(facts)


# Label values come only from these sets: every distinct value is a series in every worker's file
# and in every scrape, and the request is the client's to fill (a 1 MB `kind` once made 1 MB series).
OTHER = "other"
_KINDS = frozenset(kind for _, kind in KNOWN_KINDS)
_OPERATIONS = frozenset(OPERATIONS)
_LEVELS = frozenset(LEVELS)


def _known(value: str, known: frozenset[str] | set[str]) -> str:
    return value if value in known else OTHER


@cache
def _rule_ids() -> frozenset[str]:
    # Once per process: the shipped rules do not change while it runs, and building the set of
    # ids from the registry on every review was most of the cost of recording its metrics.
    return frozenset(rules_by_id())


def record(outcome: Outcome, seconds: float) -> None:
    rules = _rule_ids()
    REVIEWS.labels(_known(outcome.operation, _OPERATIONS), _known(outcome.kind, _KINDS), outcome.verdict).inc()
    LATENCY.observe(seconds)
    denied = set(outcome.denied_rules) if outcome.verdict == DENY else set()
    for finding in outcome.findings:
        FINDINGS.labels(_known(finding.rule, rules), _known(finding.level, _LEVELS),
                        "true" if finding.rule in denied else "false").inc()
    for finding in outcome.suppressed:
        source = "annotation" if (finding.suppressed or "").startswith("annotation: ") else "config"
        SUPPRESSED.labels(_known(finding.rule, rules), source).inc()
    for rule in outcome.refused:
        REFUSED.labels(_known(rule, rules)).inc()


def exposition() -> bytes:
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()


def worker_exited(pid: int) -> None:
    """Drop a dead worker's live gauges (gunicorn's child_exit hook)."""
    if os.environ.get(MULTIPROC_ENV):
        _multiprocess.mark_process_dead(pid)
