"""AdmissionReview in, AdmissionReview out: the webhook's decision as a pure function.

No HTTP, no logging, no clock: the Flask app only adapts bytes to :func:`handle` and the result back
to a response, so every verdict can be tested on dicts. The engine is the CLI's engine, so the webhook
reports exactly what ``kexlint lint`` reports for the same object on its own.

Shapes follow the Kubernetes API reference for ``admission.k8s.io/v1`` (and ``v1beta1``, which has the
same fields): https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kexlint.engine import Engine, RuleCrash
from kexlint.findings import LEVEL_RANK, Finding, ObjectRef
from kexlint.loader import InputError
from kexlint.model import BUILTIN_KIND_GROUPS, K8sObject, custom_kinds, object_ref, scalar_text

API_VERSIONS = ("admission.k8s.io/v1", "admission.k8s.io/v1beta1")
OPERATIONS = ("CREATE", "UPDATE", "DELETE", "CONNECT")
DEFAULT_MAX_REQUEST_BYTES = 3 * 2**20  # etcd refuses objects over 1.5 MiB; old+new object plus slack

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


class Context(Protocol):
    """Live cluster state (kexlint.cluster.live.LiveState): findings against what already runs."""

    def check(self, obj: K8sObject) -> tuple[list[Finding], str]: ...


@dataclass(frozen=True)
class Settings:
    """The `webhook:` section of .kexlint.yaml."""

    mode: str = "enforce"  # enforce | warn (never deny: for rolling out on a live cluster)
    deny_level: str = "error"
    failure_mode: str = "allow"  # what a rule crash answers: allow (with a warning) | deny
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    cluster_state: str = "off"  # watch: keep a cache of what runs and check conflicts against it
    cluster_conflict_level: str = "warning"  # level of conflicts with live objects (they were there first)

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> Settings:
        return cls(
            mode=section.get("mode", cls.mode),
            deny_level=section.get("deny-level", cls.deny_level),
            failure_mode=section.get("failure-mode", cls.failure_mode),
            max_request_bytes=int(section.get("max-request-bytes", cls.max_request_bytes)),
            cluster_state=section.get("cluster-state", cls.cluster_state),
            cluster_conflict_level=section.get("cluster-conflict-level", cls.cluster_conflict_level),
        )


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

    def log_record(self) -> dict[str, Any]:
        return {
            "uid": self.uid, "kind": self.kind, "namespace": self.namespace, "name": self.name,
            "operation": self.operation, "dryRun": self.dry_run, "verdict": self.verdict,
            "status": self.status, "rules": sorted({f.rule for f in self.findings}),
            "denied": self.denied_rules, **({"error": self.error} if self.error else {}),
        }


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def handle(raw: bytes, engine: Engine, settings: Settings, context: Context | None = None) -> Outcome:
    """Raw request body → outcome; every failure is an answer, never an exception."""
    if len(raw) > settings.max_request_bytes:
        return _bad(413, f"request body is {len(raw)} bytes, over the limit of {settings.max_request_bytes}")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as err:
        return _bad(400, f"request body is not JSON: {err}")
    except RecursionError:
        # json's C decoder stops at ~1000 levels by raising, not with a ValueError; the apiserver
        # itself refuses objects nested that deep, so this is a crafted body.
        return _bad(400, "request body is nested too deeply")
    return review_outcome(body, engine, settings, context)


def review(body: Any, engine: Engine, settings: Settings, context: Context | None = None) -> tuple[int, dict[str, Any]]:
    """The AdmissionReview body (parsed JSON) → (HTTP status, response body)."""
    outcome = review_outcome(body, engine, settings, context)
    return outcome.status, outcome.body


def review_outcome(body: Any, engine: Engine, settings: Settings, context: Context | None = None) -> Outcome:
    try:
        request, api_version = _request(body)
    except BadRequest as err:
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
                      dry_run=bool(request.get("dryRun")))

    def answer(response: dict[str, Any]) -> Outcome:
        outcome.body = {"apiVersion": api_version, "kind": "AdmissionReview",
                        "response": {"uid": uid, **response}}
        return outcome

    # Deleting or exec-ing into something never creates exposure; subresources (status, scale,
    # binding, ephemeralcontainers…) carry other object shapes or change nothing the rules read.
    if (operation not in ("CREATE", "UPDATE") or request.get("subResource") or obj is None
            or not _understood(gvk, obj)):
        outcome.verdict = SKIP
        return answer({"allowed": True})

    def check(value: dict[str, Any]) -> list[Finding]:
        if context is None:
            return engine.check_object(_as_object(value, gvk, request))
        found, note = context.check(_as_object(value, gvk, request))
        if note:
            notes.add(note)
        return found

    notes: set[str] = set()
    try:
        findings = _active(check(obj))
        # The old object is checked the same way, so a conflict that was already there is not new.
        previous = _active(check(old)) if operation == "UPDATE" and old is not None else []
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

    outcome.findings = findings
    existing = {_key(f, old) for f in previous}
    threshold = LEVEL_RANK[settings.deny_level]
    denied: list[Finding] = []
    warned: list[tuple[Finding, bool]] = []  # (finding, was already there before this update)
    for finding in findings:
        pre_existing = _key(finding, obj) in existing
        if settings.mode == "enforce" and LEVEL_RANK[finding.level] >= threshold and not pre_existing:
            denied.append(finding)
        else:
            warned.append((finding, pre_existing))

    response: dict[str, Any] = {"allowed": not denied}
    warnings = _warnings(warned) + [_clip(f"kexlint: {note}") for note in sorted(notes)]
    if warnings:
        response["warnings"] = warnings
    audit = {}
    if findings:
        audit["findings"] = ",".join(sorted({f.rule for f in findings}))
    if denied:
        outcome.denied_rules = sorted({f.rule for f in denied})
        audit["denied-rules"] = ",".join(outcome.denied_rules)
        response["status"] = {"code": 403, "reason": "Forbidden", "message": _deny_message(denied)}
    if audit:
        # The apiserver prefixes each key with the webhook's name (validate.kexlint.io/findings).
        response["auditAnnotations"] = audit
    outcome.verdict = DENY if denied else WARN if warnings else ALLOW
    return answer(response)


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
        raise BadRequest(400, f"unknown operation {str(request.get('operation'))[:40]!r}")
    return request, api_version


def _understood(gvk: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
    group, kind = gvk.get("group", ""), gvk.get("kind")
    if isinstance(group, str) and isinstance(kind, str) and (group, kind) in KNOWN_KINDS:  # lists: unhashable
        return True
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


def _active(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.suppressed is None]


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
    # Warnings travel in an HTTP header: one line of printable text.
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _warnings(warned: list[tuple[Finding, bool]]) -> list[str]:
    lines: list[str] = []
    for finding, pre_existing in warned:
        # The marker goes before the message so that truncation never cuts it off.
        marker = " (pre-existing, not denied)" if pre_existing else ""
        line = _clip(f"kexlint {finding.rule}{marker}: {finding.pointer or '/'}: {finding.message}")
        if line not in lines:
            lines.append(line)
    if len(lines) > MAX_WARNINGS:
        rest = len(lines) - (MAX_WARNINGS - 1)
        lines = [*lines[:MAX_WARNINGS - 1], f"kexlint: {rest} more findings; run `kexlint` on the manifest"]
    return lines


def _deny_message(denied: list[Finding]) -> str:
    ref = denied[0].object
    count = f"{len(denied)} violation{'s' if len(denied) > 1 else ''}"
    lines = [f"kexlint: {ref} has {count}:"]
    lines += [f"- {_line(f)}" for f in denied]
    rules = sorted({f.rule for f in denied})
    lines.append(f"(see `kexlint explain {rules[0]}`; to accept a finding, annotate the object "
                 f"ignore.kexlint.io/{rules[0]}: \"<reason>\")")
    message = "\n".join(lines)
    return message if len(message) <= MAX_MESSAGE_CHARS else message[:MAX_MESSAGE_CHARS - 1] + "…"
