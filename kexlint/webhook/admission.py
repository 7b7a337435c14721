"""AdmissionReview in, AdmissionReview out: the webhook's decision as a pure function.

No HTTP, no logging, no clock: the Flask app only adapts bytes to :func:`handle` and the result back
to a response, so every verdict can be tested on dicts. The engine is the CLI's engine, so the webhook
reports exactly what ``kexlint lint`` reports for the same object on its own.

Shapes follow the Kubernetes API reference for ``admission.k8s.io/v1`` (and ``v1beta1``, which has the
same fields): https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/
"""

from __future__ import annotations

import copy
import fnmatch
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kexlint.checks import is_int
from kexlint.checks.ports import container_ports
from kexlint.engine import SUPPRESS_PREFIX, DeadlineExceeded, Engine, RuleCrash
from kexlint.engine import deadline as review_deadline
from kexlint.findings import LEVEL_RANK, Finding, ObjectRef
from kexlint.loader import InputError
from kexlint.model import BUILTIN_KIND_GROUPS, K8sObject, custom_kinds, object_ref, scalar_text
from kexlint.records import replace

API_VERSIONS = ("admission.k8s.io/v1", "admission.k8s.io/v1beta1")
OPERATIONS = ("CREATE", "UPDATE", "DELETE", "CONNECT")
DEFAULT_MAX_REQUEST_BYTES = 3 * 2**20  # etcd refuses objects over 1.5 MiB; old+new object plus slack
DEFAULT_REVIEW_DEADLINE_MS = 2000

# The apiserver truncates longer warnings; kubectl prints each one on its own line.
MAX_WARNING_CHARS = 256
# Many warnings crowd kubectl's output and the apiserver drops warnings past a total size anyway.
MAX_WARNINGS = 20
MAX_MESSAGE_CHARS = 4000

# Kinds whose exposure the rules understand, keyed by (API group, kind) as in request.kind. Custom
# resources embedding a pod template (Argo Rollout, …) are reviewed too: see _understood.
KNOWN_KINDS = frozenset((group, kind) for kind, group in BUILTIN_KIND_GROUPS.items())

# Verdicts, also the `verdict` label of the metrics.
ALLOW, WARN, DENY, SKIP, INVALID, ERROR = "allow", "warn", "deny", "skip", "invalid", "error"

# kube-controller-manager's controllers that create objects from a template the cluster already holds
# (Deployment → ReplicaSet → Pods, DaemonSet/StatefulSet/Job/ReplicationController → Pods, CronJob →
# Job), under their own service accounts (--use-service-account-credentials, as kubeadm sets it) or
# under the manager's single identity. Denying them does not stop the exposure the template already
# has; it only leaves the workload stuck half-rolled-out.
DEFAULT_TRUSTED_CONTROLLERS = (
    "system:kube-controller-manager",
    *(f"system:serviceaccount:kube-system:{name}" for name in (
        "deployment-controller", "replicaset-controller", "replication-controller", "daemon-set-controller",
        "statefulset-controller", "job-controller", "cronjob-controller")),
)
# Enough of an over-long or broken body to find its apiVersion and request.uid, which the apiserver
# writes first (Go marshals struct fields in order: kind, apiVersion, request{uid, …}).
REFUSED_PREFIX_BYTES = 64 * 1024
_PREFIX_API_VERSION = re.compile(rb'"apiVersion"\s*:\s*"(admission\.k8s\.io/v1(?:beta1)?)"')
_PREFIX_UID = re.compile(rb'"request"\s*:\s*\{\s*"uid"\s*:\s*"([A-Za-z0-9][A-Za-z0-9._:-]{0,127})"')
# What Engine appends to the last finding a rule may build in one object.
_CAPPED = re.compile(r" \(\.\.\. and ([\d,]+) more\)$")
# Longest kind/namespace/name a log line carries: Kubernetes names are at most 253 characters.
MAX_IDENTITY_CHARS = 253


@dataclass(frozen=True)
class SuppressionPolicy:
    """Who may silence a finding with an ignore.kexlint.io/<rule> annotation (`webhook.suppression`).

    `everywhere`: anyone who may write the object (the CLI's behaviour); `nowhere`: only the config's
    exclusions suppress; `listed`: annotations count only in the listed namespaces and/or when the
    requester (request.userInfo) is a listed user or in a listed group. Every list given must match.
    """

    annotations: str = "everywhere"  # everywhere | nowhere | listed
    namespaces: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> SuppressionPolicy:
        lists = {key: tuple(section.get(key) or ()) for key in ("namespaces", "users", "groups")}
        default = "listed" if any(lists.values()) else "everywhere"
        return cls(section.get("annotations", default), **lists)

    def refusal(self, namespace: str, username: str, groups: tuple[str, ...]) -> str | None:
        """Why annotations do not suppress for this requester, or None when they do."""
        if self.annotations == "everywhere":
            return None
        if self.annotations == "nowhere":
            return "annotations do not suppress in this cluster (webhook.suppression)"
        reasons = []
        if self.namespaces and not any(fnmatch.fnmatchcase(namespace, p) for p in self.namespaces):
            reasons.append(f"only in namespaces {', '.join(self.namespaces)}")
        if (self.users or self.groups) and not (
                any(fnmatch.fnmatchcase(username, p) for p in self.users)
                or any(fnmatch.fnmatchcase(g, p) for g in groups for p in self.groups)):
            who = [f"users {', '.join(self.users)}"] if self.users else []
            who += [f"groups {', '.join(self.groups)}"] if self.groups else []
            reasons.append(f"only for {' or '.join(who)}")
        if not reasons:
            return None
        return f"annotations suppress {' and '.join(reasons)} (webhook.suppression), not for " \
               f"{username or 'an anonymous user'} in {'namespace ' + namespace if namespace else 'no namespace'}"


class Context(Protocol):
    """Live cluster state (kexlint.cluster.live.LiveState): findings against what already runs."""

    def check(self, obj: K8sObject) -> tuple[list[Finding], str]: ...


@dataclass(frozen=True)
class Settings:
    """The `webhook:` section of .kexlint.yaml."""

    mode: str = "enforce"  # enforce | warn (never deny: for rolling out on a live cluster)
    deny_level: str = "error"
    # What a rule crash, and a request too large or malformed to review, answers: allow (with a
    # warning) | deny.
    failure_mode: str = "allow"
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    # The rules' time for one review (object and oldObject together), well under the webhook's
    # timeoutSeconds (5): past it the apiserver gives up on the answer and failurePolicy decides.
    review_deadline_ms: int = DEFAULT_REVIEW_DEADLINE_MS
    trusted_controllers: tuple[str, ...] = DEFAULT_TRUSTED_CONTROLLERS
    suppression: SuppressionPolicy = SuppressionPolicy()
    cluster_state: str = "off"  # watch: keep a cache of what runs and check conflicts against it
    cluster_conflict_level: str = "warning"  # level of conflicts with live objects (they were there first)

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> Settings:
        return cls(
            mode=section.get("mode", cls.mode),
            deny_level=section.get("deny-level", cls.deny_level),
            failure_mode=section.get("failure-mode", cls.failure_mode),
            max_request_bytes=int(section.get("max-request-bytes", cls.max_request_bytes)),
            review_deadline_ms=int(section.get("review-deadline-ms", cls.review_deadline_ms)),
            trusted_controllers=tuple(section.get("trusted-controllers", DEFAULT_TRUSTED_CONTROLLERS)),
            suppression=SuppressionPolicy.from_config(section.get("suppression") or {}),
            cluster_state=section.get("cluster-state", cls.cluster_state),
            cluster_conflict_level=section.get("cluster-conflict-level", cls.cluster_conflict_level),
        )

    def trusts(self, username: str) -> bool:
        return any(fnmatch.fnmatchcase(username, pattern) for pattern in self.trusted_controllers)


@dataclass
class Outcome:
    """A decision with what logs and metrics need besides the HTTP answer."""

    status: int
    body: dict[str, Any]
    verdict: str
    uid: str = ""
    operation: str = ""
    kind: str = ""
    namespace: str = ""
    name: str = ""
    dry_run: bool = False
    findings: list[Finding] = field(default_factory=list)  # unsuppressed, as reported
    denied_rules: list[str] = field(default_factory=list)
    error: str = ""  # bad request or rule crash, for the log line
    suppressed: list[Finding] = field(default_factory=list)  # silenced, still reported
    refused: dict[str, str] = field(default_factory=dict)  # rule → why its annotation did not count
    trusted: str = ""  # the trusted controller that made the object: findings did not deny

    def log_record(self) -> dict[str, Any]:
        record = {
            "uid": self.uid, "kind": _short(self.kind), "namespace": _short(self.namespace),
            "name": _short(self.name), "operation": self.operation, "dryRun": self.dry_run,
            "verdict": self.verdict, "status": self.status, "rules": sorted({f.rule for f in self.findings}),
            "denied": self.denied_rules, **({"error": self.error} if self.error else {}),
        }
        if self.suppressed:
            record["suppressed"] = _reasons(self.suppressed)
        if self.refused:
            record["suppressionRefused"] = sorted(self.refused)
        if self.trusted:
            record["trustedController"] = self.trusted
        return record


class BadRequest(Exception):
    def __init__(self, status: int, message: str, uid: str = "", api_version: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.uid = uid  # when readable, the refusal is answered as an AdmissionReview
        self.api_version = api_version


def handle(raw: bytes, engine: Engine, settings: Settings, context: Context | None = None) -> Outcome:
    """Raw request body → outcome; every failure is an answer, never an exception."""
    if len(raw) > settings.max_request_bytes:
        return refused(raw[:REFUSED_PREFIX_BYTES], 413, f"request body is over the limit of "
                       f"{settings.max_request_bytes} bytes", settings)
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as err:
        return refused(raw[:REFUSED_PREFIX_BYTES], 400, f"request body is not JSON: {err}", settings)
    except RecursionError:
        # json's C decoder stops at ~1000 levels by raising, not with a ValueError; the apiserver
        # itself refuses objects nested that deep, so this is a crafted body.
        return refused(raw[:REFUSED_PREFIX_BYTES], 400, "request body is nested too deeply", settings)
    return review_outcome(body, engine, settings, context)


def refused(prefix: bytes, status: int, message: str, settings: Settings) -> Outcome:
    """A request kexlint will not review (too large, not JSON), from the start of its body.

    When its apiVersion and uid can be read, the answer is an AdmissionReview with the failure-mode
    verdict: a bare HTTP error would hand the decision to the webhook's failurePolicy, and `Ignore`
    would admit whatever a client made unreadable. Otherwise the HTTP error is all there is to say.
    """
    uid_match = _PREFIX_UID.search(prefix)
    version_match = _PREFIX_API_VERSION.search(prefix, 0, uid_match.start()) if uid_match else None
    if uid_match is None or version_match is None:
        return _bad(status, message)
    return _failure(status, message, uid_match.group(1).decode(), version_match.group(1).decode(), settings)


def _failure(status: int, message: str, uid: str, api_version: str, settings: Settings) -> Outcome:
    text = f"kexlint could not review this request: {message}"
    if settings.failure_mode == "deny":
        reason = "RequestEntityTooLarge" if status == 413 else "BadRequest"
        response: dict[str, Any] = {"allowed": False, "status": {
            "code": status, "reason": reason, "message": _clip(f"{text}; denied by failure-mode deny", 1024)}}
    else:
        response = {"allowed": True, "warnings": [_clip(f"{text}; allowed by failure-mode allow")]}
    body = {"apiVersion": api_version, "kind": "AdmissionReview", "response": {"uid": uid, **response}}
    return Outcome(200, body, INVALID, uid=uid, error=_clip(message, 1024))


def review(body: Any, engine: Engine, settings: Settings, context: Context | None = None
           ) -> tuple[int, dict[str, Any]]:
    """The AdmissionReview body (parsed JSON) → (HTTP status, response body)."""
    outcome = review_outcome(body, engine, settings, context)
    return outcome.status, outcome.body


def review_outcome(body: Any, engine: Engine, settings: Settings, context: Context | None = None) -> Outcome:
    try:
        request, api_version = _request(body)
    except BadRequest as err:
        if err.uid and err.api_version:
            return _failure(err.status, str(err), err.uid, err.api_version, settings)
        return _bad(err.status, str(err))
    uid = request["uid"]
    operation = request.get("operation", "")
    gvk = request.get("kind") if isinstance(request.get("kind"), dict) else {}
    obj = request.get("object") if isinstance(request.get("object"), dict) else None
    old = request.get("oldObject") if isinstance(request.get("oldObject"), dict) else None
    # scalar_text: a crafted request can put a list nested 100k deep where a name goes, and str()
    # of it raises RecursionError.
    outcome = Outcome(200, {}, ALLOW, uid=uid, operation=operation, kind=scalar_text(gvk.get("kind")) or "",
                      namespace=scalar_text(request.get("namespace")) or "", name=_name(request, obj or old),
                      dry_run=request.get("dryRun") is True)

    def answer(response: dict[str, Any]) -> Outcome:
        outcome.body = {"apiVersion": api_version, "kind": "AdmissionReview",
                        "response": {"uid": uid, **response}}
        return outcome

    # Deleting or exec-ing into something never creates exposure; subresources (status, scale,
    # binding, ephemeralcontainers…) carry other object shapes or change nothing the rules read.
    if operation not in ("CREATE", "UPDATE") or request.get("subResource"):
        outcome.verdict = SKIP
        return answer({"allowed": True})
    if obj is None:
        if not _known(gvk):
            outcome.verdict = SKIP
            return answer({"allowed": True})
        # The apiserver always sends the object it is about to store; without one there is
        # nothing to review, and allowing would let a crafted request through unchecked.
        outcome.verdict = INVALID
        outcome.error = f"{operation} without an object"
        return answer({"allowed": False, "status": {
            "code": 400, "reason": "BadRequest",
            "message": f"kexlint: malformed AdmissionReview: {operation} of {outcome.kind} has no object"}})
    if not _understood(gvk, obj):
        outcome.verdict = SKIP
        return answer({"allowed": True})
    if outcome.dry_run and _is_service(gvk):
        obj = _without_dry_run_placeholders(obj)

    def check(subject: K8sObject) -> list[Finding]:
        if context is None:
            return engine.check_object(subject)
        found, note = context.check(subject)
        if note:
            notes.add(note)
        return found

    notes: set[str] = set()
    try:
        with review_deadline(settings.review_deadline_ms / 1000):
            # One K8sObject per value, checked and then read again below: it caches its pod spec.
            new_object = _as_object(obj, gvk, request)
            findings = check(new_object)
            old_object = _as_object(old, gvk, request) if operation == "UPDATE" and old is not None else None
            # The old object is checked the same way, so a conflict that was already there is not new.
            previous = check(old_object) if old_object is not None else []
    except DeadlineExceeded as err:
        # Always a deny, whatever failure-mode says: only a crafted object (a million ports) takes
        # that long, and allowing it would let a tenant pass anything by making it big enough.
        outcome.error = str(err)
        outcome.verdict = DENY
        return answer({"allowed": False, "status": {
            "code": 413, "reason": "RequestEntityTooLarge", "message": _clip(
                f"kexlint: {_short(str(err.ref))} is too large to review within "
                f"{settings.review_deadline_ms} ms (stopped in rule {err.rule}); denied whatever "
                "failure-mode says, since no real workload needs that long", 1024)}})
    except Exception as err:  # noqa: BLE001 - a kexlint bug must become an answer, not a 500 or a timeout
        outcome.error = f"{type(err).__name__}: {err}"
        outcome.verdict = ERROR
        cause = f"rule {err.rule} failed ({type(err.error).__name__})" if isinstance(err, RuleCrash) else (
            err.message if isinstance(err, InputError) else f"internal error ({type(err).__name__})")
        text = f"kexlint could not check this object: {cause}"
        if settings.failure_mode == "deny":
            return answer({"allowed": False, "status": {
                "code": 500, "reason": "InternalError", "message": f"{text}; denied by failure-mode deny"}})
        return answer({"allowed": True, "warnings": [_clip(f"{text}; allowed by failure-mode allow")]})

    user = request.get("userInfo") if isinstance(request.get("userInfo"), dict) else {}
    username = scalar_text(user.get("username")) or ""
    groups = tuple(g for g in user.get("groups") or () if isinstance(g, str)) if isinstance(
        user.get("groups"), list) else ()
    namespace = new_object.ref.namespace or ""
    refusal = settings.suppression.refusal(namespace, username, groups)
    findings = _apply_policy(findings, refusal, engine, new_object, outcome)
    outcome.findings = [f for f in findings if f.suppressed is None]
    outcome.suppressed = [f for f in findings if f.suppressed is not None]
    # The cheap test first: most objects have no controller, and trusts() matches globs.
    if _controlled(obj) and settings.trusts(username):
        outcome.trusted = username

    old_exposure = _exposure(old_object) if old_object is not None else None
    new_exposure = _exposure(new_object) if old_exposure is not None else None
    existing = {_key(f, old) for f in previous}
    old_totals, old_capped = _totals(previous)
    new_totals, _ = _totals(outcome.findings + outcome.suppressed)
    threshold = LEVEL_RANK[settings.deny_level]
    denied: list[tuple[Finding, str]] = []  # (finding, the exposure it adds, when known)
    warned: list[tuple[Finding, str]] = []  # (finding, why it did not deny: a marker)
    for finding in outcome.findings:
        added = _added_exposure(finding, obj, old_exposure)
        category = _EXPOSURE_OF_RULE.get(finding.rule)
        if (category and old_exposure is not None and new_exposure is not None
                and _CAPPED.search(finding.message)):
            # The engine stopped building this rule's findings at its cap: whatever the object adds
            # beyond it has no finding of its own, so the capped one answers for all of it.
            added = sorted(_show_fact(category, f) for f in new_exposure[category] - old_exposure[category])
        if added is not None:
            pre_existing = not added
        elif finding.rule in old_capped and (_CAPPED.search(finding.message)
                                             or _key(finding, obj) not in existing):
            # The old object had more of these than the engine builds: the ones past the cap have no
            # finding to compare with, so what cannot be matched is compared by count (more is new).
            pre_existing = new_totals[finding.rule] <= old_totals[finding.rule]
        else:
            pre_existing = _key(finding, obj) in existing
        if old_object is None:
            pre_existing = False
        if settings.mode == "enforce" and LEVEL_RANK[finding.level] >= threshold and not pre_existing \
                and not outcome.trusted:
            denied.append((finding, ", ".join(added or ())))
        else:
            marker = " (pre-existing, not denied)" if pre_existing else (
                " (made by a trusted controller, not denied)" if outcome.trusted and
                LEVEL_RANK[finding.level] >= threshold and settings.mode == "enforce" else "")
            warned.append((finding, marker))
    warned += [(f, f" (suppressed: {f.suppressed})") for f in outcome.suppressed]

    response: dict[str, Any] = {"allowed": not denied}
    warnings = _warnings(warned) + [_clip(f"kexlint: {note}") for note in sorted(notes)]
    if warnings:
        response["warnings"] = warnings
    audit = {}
    if outcome.findings:
        audit["findings"] = ",".join(sorted({f.rule for f in outcome.findings}))
    if denied:
        outcome.denied_rules = sorted({f.rule for f, _ in denied})
        audit["denied-rules"] = ",".join(outcome.denied_rules)
        response["status"] = {"code": 403, "reason": "Forbidden",
                              "message": _deny_message(denied, outcome.refused, refusal)}
    if outcome.suppressed:
        audit["suppressed"] = _clip(json.dumps(_reasons(outcome.suppressed), separators=(",", ":")), 4096)
    if outcome.refused:
        audit["suppression-refused"] = ",".join(sorted(outcome.refused))
    if outcome.trusted:
        audit["trusted-controller"] = _clip(outcome.trusted)
    if audit:
        # The apiserver prefixes each key with the webhook's name (validate.kexlint.io/findings).
        response["auditAnnotations"] = audit
    outcome.verdict = DENY if denied else WARN if warnings else ALLOW
    return answer(response)


def _apply_policy(findings: list[Finding], refusal: str | None, engine: Engine, obj: K8sObject,
                  outcome: Outcome) -> list[Finding]:
    """Annotation suppressions the requester may not make are undone; config exclusions stand."""
    if refusal is None:
        return findings
    result = []
    for finding in findings:
        if finding.suppressed is not None and finding.suppressed.startswith("annotation: "):
            exclusion = engine.config.exclusion(finding.rule, obj.ref, obj.source)
            if exclusion is not None:
                finding = replace(finding, suppressed=f"config: {exclusion.reason}")
            else:
                outcome.refused[finding.rule] = refusal
                finding = replace(finding, suppressed=None)
        result.append(finding)
    return result


def _reasons(findings: list[Finding]) -> dict[str, str]:
    reasons: dict[str, str] = {}
    for finding in findings:
        reasons.setdefault(finding.rule, _clip(finding.suppressed or "", 200))
    return reasons


def _controlled(obj: Mapping[str, Any]) -> bool:
    metadata = obj.get("metadata")
    owners = metadata.get("ownerReferences") if isinstance(metadata, dict) else None
    return isinstance(owners, list) and any(isinstance(o, dict) and o.get("controller") is True for o in owners)


def _known(gvk: Mapping[str, Any]) -> bool:
    group, kind = gvk.get("group", ""), gvk.get("kind")
    return isinstance(group, str) and isinstance(kind, str) and (group, kind) in KNOWN_KINDS


def _is_service(gvk: Mapping[str, Any]) -> bool:
    return gvk.get("group", "") == "" and gvk.get("kind") == "Service"


def _without_dry_run_placeholders(service: dict[str, Any]) -> dict[str, Any]:
    """The Service without the nodePorts a server-side dry-run invented.

    On dry-run the apiserver does not allocate: it fills every nodePort the user left out with
    32768+n, whatever the range, where the real request gets a port allocated inside the range. The
    placeholders are exactly the nodePorts no field manager owns: managedFields records the fields
    each writer set (a nodePort the user wrote is `f:nodePort` under its port's key), allocated and
    invented ports appear in none. Without managedFields, the recorded placeholder values are dropped.
    """
    spec = service.get("spec")
    ports = spec.get("ports") if isinstance(spec, dict) else None
    if not isinstance(ports, list):
        return service
    owned = _owned_node_ports(service)
    keep: list[Any] = []
    changed = False
    for index, port in enumerate(ports):
        if isinstance(port, dict) and "nodePort" in port:
            key = (port.get("port"), port.get("protocol") or "TCP")
            placeholder = (key not in owned) if owned is not None else port["nodePort"] == 32769 + index
            if placeholder:
                port = {k: v for k, v in port.items() if k != "nodePort"}
                changed = True
        keep.append(port)
    if not changed:
        return service
    result = copy.copy(service)
    result["spec"] = {**spec, "ports": keep}
    return result


def _owned_node_ports(service: Mapping[str, Any]) -> set[tuple[Any, Any]] | None:
    """(port, protocol) of each Service port whose nodePort some field manager set; None when the
    object has no managedFields to tell."""
    metadata = service.get("metadata")
    managed = metadata.get("managedFields") if isinstance(metadata, dict) else None
    if not isinstance(managed, list) or not managed:
        return None
    owned: set[tuple[Any, Any]] = set()
    for entry in managed:
        fields = entry.get("fieldsV1") if isinstance(entry, dict) else None
        spec = fields.get("f:spec") if isinstance(fields, dict) else None
        ports = spec.get("f:ports") if isinstance(spec, dict) else None
        if not isinstance(ports, dict):
            continue
        for key, value in ports.items():
            if not (isinstance(key, str) and key.startswith("k:") and isinstance(value, dict)
                    and "f:nodePort" in value):
                continue
            try:
                item = json.loads(key[2:])
            except ValueError:
                continue
            if isinstance(item, dict):
                owned.add((item.get("port"), item.get("protocol") or "TCP"))
    return owned


# Rules whose findings are exposure: each is compared on UPDATE as values (what it opens), not as
# messages. Other rules (invalid values, deprecated APIs…) are compared by rule, place and message.
_EXPOSURE_OF_RULE = {
    "host-network": "host-network", "host-port": "host-binding", "host-port-conflict": "host-binding",
    "node-port-range": "node-port", "node-port-conflict": "node-port", "external-ips": "external-ip",
}


def _ip(value: Any) -> str:
    text = scalar_text(value) or ""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return text


def _binding(port: Mapping[str, Any], number: Any) -> tuple[str, Any, str]:
    ip = _ip(port.get("hostIP")) if port.get("hostIP") else "0.0.0.0"
    protocol = port.get("protocol") or "TCP"
    return ip, number, protocol if isinstance(protocol, str) else str(type(protocol))


def _exposure(obj: K8sObject) -> dict[str, set[Any]]:
    """Everything an object opens, as values: the flags, host bindings, node ports and external IPs."""
    facts: dict[str, set[Any]] = {name: set() for name in set(_EXPOSURE_OF_RULE.values())}
    found = obj.pod_spec()
    if found is not None:
        spec = found[1]
        host_network = spec.get("hostNetwork") is True
        if host_network:
            facts["host-network"].add(True)
        for _, port in container_ports(spec):
            host_port = port.get("hostPort")
            if is_int(host_port) and host_port:
                facts["host-binding"].add(_binding(port, host_port))
            if host_network and is_int(port.get("containerPort")):
                facts["host-binding"].add(_binding(port, port["containerPort"]))
    spec = obj.value.get("spec") if obj.ref.kind == "Service" else None
    if isinstance(spec, dict):
        for port in spec.get("ports") if isinstance(spec.get("ports"), list) else ():
            if isinstance(port, dict) and is_int(port.get("nodePort")):
                facts["node-port"].add((port["nodePort"], port.get("protocol") or "TCP"))
        for ip in spec.get("externalIPs") if isinstance(spec.get("externalIPs"), list) else ():
            facts["external-ip"].add(_ip(ip))
    return facts


def _added_exposure(finding: Finding, obj: Mapping[str, Any], old: dict[str, set[Any]] | None
                    ) -> list[str] | None:
    """What this finding opens that the old object did not (empty: nothing new), or None when the
    finding is not about exposure or its field cannot be read back."""
    category = _EXPOSURE_OF_RULE.get(finding.rule)
    if category is None:
        return None
    parent, value = _at(obj, finding.path)
    facts: set[Any]
    if category == "host-network":
        facts = {True}
    elif category == "host-binding" and isinstance(parent, dict) and is_int(value):
        facts = {_binding(parent, value)}
    elif category == "node-port" and isinstance(parent, dict) and is_int(value):
        facts = {(value, parent.get("protocol") or "TCP")}
    elif category == "external-ip" and isinstance(value, list):
        facts = {_ip(ip) for ip in value}
    elif category == "external-ip" and isinstance(value, str):  # one finding per address
        facts = {_ip(value)}
    else:
        return None
    added = facts - (old[category] if old is not None else set())
    return sorted(_show_fact(category, fact) for fact in added)


def _show_fact(category: str, fact: Any) -> str:
    if category == "host-network":
        return "hostNetwork"
    if category == "host-binding":
        return f"{fact[0]}:{fact[1]}/{fact[2]}"
    if category == "node-port":
        return f"nodePort {fact[0]}/{fact[1]}"
    return str(fact)


def _at(obj: Any, path: tuple) -> tuple[Any, Any]:
    """(parent, value) at path, or (None, None) where the path does not lead."""
    parent, node = None, obj
    for part in path:
        if isinstance(node, dict) and isinstance(part, str):
            parent, node = node, node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            parent, node = node, node[part]
        else:
            return None, None
    return parent, node


def _bad(status: int, message: str) -> Outcome:
    return Outcome(status, {"error": message, "code": status}, INVALID, error=message)


def _request(body: Any) -> tuple[dict[str, Any], str]:
    if not isinstance(body, dict):
        raise BadRequest(400, "request body is not a JSON object")
    if body.get("kind") != "AdmissionReview":
        raise BadRequest(400, f"expected kind AdmissionReview, got {str(body.get('kind'))[:80]!r}")
    api_version = body.get("apiVersion")
    if api_version not in API_VERSIONS:
        raise BadRequest(400, f"unsupported apiVersion {str(api_version)[:80]!r} "
                              f"(supported: {', '.join(API_VERSIONS)})")
    request = body.get("request")
    if not isinstance(request, dict):
        raise BadRequest(400, "AdmissionReview has no request")
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        raise BadRequest(400, "AdmissionReview request has no uid")
    if request.get("operation") not in OPERATIONS:
        raise BadRequest(400, f"unknown operation {(scalar_text(request.get('operation')) or '')[:40]!r}",
                         uid[:128], api_version)
    return request, api_version


def _understood(gvk: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
    if _known(gvk):
        return True
    group, kind = gvk.get("group", ""), gvk.get("kind")
    table = custom_kinds().get(kind) if isinstance(kind, str) else None
    if table is not None and table.group == group:
        # A kind of rules/data/pod-templates.yaml: only sent when `webhook.custom-kinds` registered it.
        return True
    # A custom workload the cluster admin chose to send us: reviewed when it embeds a pod template,
    # as the CLI does (model.GENERIC_POD_SPEC_PATH).
    spec = obj.get("spec")
    template = spec.get("template") if isinstance(spec, dict) else None
    pod = template.get("spec") if isinstance(template, dict) else None
    return isinstance(pod, dict) and isinstance(pod.get("containers"), list)


def _name(request: Mapping[str, Any], obj: Mapping[str, Any] | None) -> str:
    if request.get("name"):
        return scalar_text(request["name"]) or ""
    metadata = obj.get("metadata") if obj else None
    if isinstance(metadata, dict):
        return scalar_text(metadata.get("name") or metadata.get("generateName")) or ""
    return ""


def _as_object(value: dict[str, Any], gvk: Mapping[str, Any], request: Mapping[str, Any]) -> K8sObject:
    """The object with its identity completed from the request, without changing the request.

    On CREATE the object often has no metadata.namespace (the apiserver fills it in later) and, with
    generateName, no name: exclusions by namespace and messages need both.
    """
    ref = object_ref(value)
    group, version = scalar_text(gvk.get("group", "")) or "", scalar_text(gvk.get("version", "")) or ""
    api_version = ref.api_version or (f"{group}/{version}" if group else version) or None
    ref = ObjectRef(api_version, ref.kind or scalar_text(gvk.get("kind")),
                    ref.namespace or scalar_text(request.get("namespace")),
                    ref.name or scalar_text(request.get("name")))
    return K8sObject(value=value, ref=ref)


def _totals(findings: Iterable[Finding]) -> tuple[dict[str, int], set[str]]:
    """Per rule, how many findings an object has, counting those past the engine's cap, and the rules
    that reached the cap."""
    totals: dict[str, int] = {}
    capped: set[str] = set()
    for finding in findings:
        match = _CAPPED.search(finding.message)
        if match:
            capped.add(finding.rule)
        hidden = int(match.group(1).replace(",", "")) if match else 0
        totals[finding.rule] = totals.get(finding.rule, 0) + 1 + hidden
    return totals, capped


def _key(finding: Finding, obj: Mapping[str, Any] | None) -> tuple[str, tuple[Any, ...], str]:
    """What identifies a finding across an update: rule, message and a path that survives reordering.

    List indexes are replaced by the item's name (containers, named ports) or, for ports, by
    containerPort/protocol, so adding a sidecar in front of a container with a hostPort does not make
    the old hostPort look new.
    """
    parts: list[Any] = []
    node: Any = obj
    for part in finding.path:
        item = node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else (
            node.get(part) if isinstance(node, dict) else None)
        if isinstance(part, int) and isinstance(item, dict):
            if isinstance(item.get("name"), str):
                parts.append(("name", item["name"]))
            elif "containerPort" in item:
                parts.append(("port", str(item.get("containerPort")), str(item.get("protocol", "TCP"))))
            else:
                parts.append(part)
        else:
            parts.append(part)
        node = item
    return finding.rule, tuple(parts), finding.message


def _line(finding: Finding) -> str:
    return f"{finding.rule}: {finding.pointer or '/'}: {finding.message}"


def _clip(text: str, limit: int = MAX_WARNING_CHARS) -> str:
    # Warnings travel in an HTTP header: one line of printable text (annotations' reasons are the
    # requester's text).
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _short(text: str) -> str:
    return text if len(text) <= MAX_IDENTITY_CHARS else text[:MAX_IDENTITY_CHARS - 1] + "…"


def _warnings(warned: list[tuple[Finding, str]]) -> list[str]:
    lines: list[str] = []
    for finding, marker in warned:
        # The marker goes before the message so that truncation never cuts it off.
        line = _clip(f"kexlint {finding.rule}{marker}: {finding.pointer or '/'}: {finding.message}")
        if line not in lines:
            lines.append(line)
    if len(lines) > MAX_WARNINGS:
        rest = len(lines) - (MAX_WARNINGS - 1)
        lines = [*lines[:MAX_WARNINGS - 1], f"kexlint: {rest} more findings; run `kexlint` on the manifest"]
    return lines


def _deny_message(denied: list[tuple[Finding, str]], refused: Mapping[str, str], refusal: str | None) -> str:
    ref = denied[0][0].object
    count = f"{len(denied)} violation{'s' if len(denied) > 1 else ''}"
    lines = [f"kexlint: {ref} has {count}:"]
    for finding, added in denied:
        line = f"- {_line(finding)}"
        if added and finding.rule == "external-ips" and isinstance(finding.path[-1], str):
            line += f" (new: {added})"
        if finding.rule in refused:
            line += f" (annotation {SUPPRESS_PREFIX}{finding.rule} not honoured: {refused[finding.rule]})"
        lines.append(line)
    rules = sorted({f.rule for f, _ in denied})
    if refusal is None:
        lines.append(f"(see `kexlint explain {rules[0]}`; to accept a finding, annotate the object (a "
                     f"workload: its pod template) {SUPPRESS_PREFIX}{rules[0]}: \"<reason>\")")
    else:
        lines.append(f"(see `kexlint explain {rules[0]}`; to accept a finding here, ask the cluster's "
                     "platform team for an exclusion in the webhook's configuration)")
    message = "\n".join(lines)
    return message if len(message) <= MAX_MESSAGE_CHARS else message[:MAX_MESSAGE_CHARS - 1] + "…"
