"""A read-only connection to the Kubernetes API: paginated lists and watches, in bounded memory.

Built on the official ``kubernetes`` client (extra ``kexlint[cluster]``) for what it does well:
kubeconfig and in-cluster configuration, exec/OIDC credential plugins, TLS and the connection pool.
Responses are *not* turned into its model objects: a V1Pod costs several times the memory of the
JSON it came from and drops unknown fields, so each list page and watch line is parsed with ``json``
and handed on item by item. All errors become one-line :class:`ClusterError` messages.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# Long enough for a busy apiserver to answer one page, short enough that an unreachable or silent
# API never holds the CLI or a webhook worker's cache thread for long.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0


class ClusterError(Exception):
    """A problem reaching or reading the cluster, as one line a user can act on."""


class Forbidden(ClusterError):
    """RBAC forbids listing (or watching) one kind; the others may still be readable."""

    def __init__(self, kind: Kind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class Gone(ClusterError):
    """HTTP 410 (reason Expired): the resourceVersion or continue token is older than the API keeps."""

    def __init__(self, message: str, continue_token: str | None = None) -> None:
        super().__init__(message)
        self.continue_token = continue_token


@dataclass(frozen=True)
class Kind:
    group: str  # "" for the core API
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    # Older versions to try, newest first, when the API answers 404 at `version`: a cluster with CRDs of
    # an older Gateway API release serves TLSRoute only as v1alpha3/v1alpha2, ReferenceGrant as v1beta1.
    older: tuple[str, ...] = ()

    @property
    def versions(self) -> tuple[str, ...]:
        return (self.version, *self.older)

    @property
    def api_version(self) -> str:
        return self.api_version_at(self.version)

    def api_version_at(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version

    @property
    def path(self) -> str:
        """The collection across all namespaces."""
        return self.path_at(self.version)

    def path_at(self, version: str) -> str:
        base = f"/apis/{self.group}/{version}" if self.group else f"/api/{version}"
        return f"{base}/{self.plural}"

    def __str__(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


_GATEWAY = "gateway.networking.k8s.io"
# Gateway API kinds are CRDs: a cluster without them answers 404, which means "none", not an error.
# v1 first, then the versions older releases serve: TLSRoute and ReferenceGrant reached v1 in Gateway API
# v1.5 (TLSRoute v1alpha3 came in v1.4), TCPRoute and UDPRoute in v1.6. ListenerSet has no fallback: its
# experimental form was XListenerSet in gateway.networking.x-k8s.io, another kind the rules do not read.
KINDS: dict[str, Kind] = {k.kind: k for k in (
    Kind("", "v1", "pods", "Pod"),
    Kind("", "v1", "replicationcontrollers", "ReplicationController"),
    Kind("", "v1", "services", "Service"),
    Kind("apps", "v1", "deployments", "Deployment"),
    Kind("apps", "v1", "replicasets", "ReplicaSet"),
    Kind("apps", "v1", "statefulsets", "StatefulSet"),
    Kind("apps", "v1", "daemonsets", "DaemonSet"),
    Kind("batch", "v1", "jobs", "Job"),
    Kind("batch", "v1", "cronjobs", "CronJob"),
    Kind("networking.k8s.io", "v1", "ingresses", "Ingress"),
    Kind("networking.k8s.io", "v1", "ingressclasses", "IngressClass", namespaced=False),
    Kind("", "v1", "secrets", "Secret"),
    Kind(_GATEWAY, "v1", "gateways", "Gateway"),
    Kind(_GATEWAY, "v1", "httproutes", "HTTPRoute"),
    Kind(_GATEWAY, "v1", "grpcroutes", "GRPCRoute"),
    Kind(_GATEWAY, "v1", "tlsroutes", "TLSRoute", older=("v1alpha3", "v1alpha2")),
    Kind(_GATEWAY, "v1", "tcproutes", "TCPRoute", older=("v1alpha2",)),
    Kind(_GATEWAY, "v1", "udproutes", "UDPRoute", older=("v1alpha2",)),
    Kind(_GATEWAY, "v1", "referencegrants", "ReferenceGrant", older=("v1beta1",)),
    Kind(_GATEWAY, "v1", "listenersets", "ListenerSet"),
)}
# What context reads by default. Secrets only when asked (Helm releases): reading them needs a grant
# most platform teams rightly refuse, and they hold credentials kexlint has no use for.
CONTEXT_KINDS: tuple[Kind, ...] = tuple(k for k in KINDS.values() if k.kind != "Secret")


def connect(kubeconfig: str | None = None, context: str | None = None) -> Cluster:
    """A connection from a kubeconfig file (``$KUBECONFIG`` or ~/.kube/config when not given), or the
    pod's service account when there is no kubeconfig and we run inside a cluster."""
    try:
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException
    except ImportError:
        raise ClusterError("reading a cluster needs the kubernetes client: pip install 'kexlint[cluster]'") from None
    configuration = client.Configuration()
    default = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or os.path.expanduser("~/.kube/config")
    in_pod = bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
    try:
        if kubeconfig is None and context is None and in_pod and not os.path.exists(default):
            config.load_incluster_config(client_configuration=configuration)
            source = "in-cluster service account"
        else:
            path = kubeconfig or default
            if not os.path.exists(path):
                raise ClusterError(f"{path}: no kubeconfig file (give --kubeconfig, or run inside a cluster)")
            config.load_kube_config(config_file=path, context=context, client_configuration=configuration,
                                    persist_config=False)
            source = path + (f" (context {context})" if context else "")
    except ConfigException as error:
        raise ClusterError(f"{kubeconfig or default}: {_first_line(error)}") from None
    except (OSError, ValueError, TypeError, KeyError) as error:  # a kubeconfig that is not YAML, or lacks fields
        raise ClusterError(f"{kubeconfig or default}: unusable kubeconfig: {_first_line(error)}") from None
    # No retries in urllib3 (each logs a warning line): the callers retry with their own backoff
    # (the cache thread), or report at once (the CLI).
    configuration.retries = 0
    return Cluster(client.ApiClient(configuration), source)


class Cluster:
    """Read-only access to one API server."""

    def __init__(self, api_client: Any, source: str = "") -> None:
        self._api = api_client
        self.source = source
        self.server = api_client.configuration.host
        self.absent: set[Kind] = set()  # kinds this API does not serve (404): no CRD installed
        # The version each kind with older versions was last found at, so watches follow the list.
        self.found: dict[Kind, str] = {}

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def version(self, kind: Kind) -> str:
        """The version ``kind`` is read at: the one last found served, else its newest."""
        return self.found.get(kind, kind.version)

    def list(self, kind: Kind, page_size: int = 500, allow_inconsistent: bool = True) -> Listing:
        """Every object of ``kind`` in all namespaces, one page at a time (see :class:`Listing`)."""
        return Listing(self, kind, page_size, allow_inconsistent)

    def watch(self, kind: Kind, resource_version: str, timeout_seconds: int = 300) -> Watch:
        """Watch events (``{"type": ..., "object": ...}``) after ``resource_version``, with bookmarks,
        until the server ends the stream. The request is made here, so a ClusterError (unreachable,
        forbidden...) raises at once; iterating raises :class:`Gone` when the version is too old to
        resume, and ClusterError when the stream breaks off."""
        query = [("watch", "true"), ("allowWatchBookmarks", "true"), ("resourceVersion", resource_version),
                 ("timeoutSeconds", str(timeout_seconds))]
        # The read timeout outlasts the server's own timeout, so a silent dead connection is still noticed.
        return Watch(self, kind, self._get(kind, query, read_timeout=timeout_seconds + READ_TIMEOUT))

    # -- HTTP ------------------------------------------------------------------------------------

    def _get(self, kind: Kind, query: list[tuple[str, str]], read_timeout: float = READ_TIMEOUT) -> Any:
        """The raw urllib3 response of a GET on the collection, after mapping every error to a line."""
        import urllib3
        from kubernetes.client.exceptions import ApiException

        method, url, headers, _body, _post = self._api.param_serialize(
            "GET", kind.path_at(self.version(kind)), query_params=query, header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"])
        try:
            response = self._api.call_api(method, url, header_params=headers,
                                          _request_timeout=(CONNECT_TIMEOUT, read_timeout)).response
        except ApiException as error:  # the client reports TLS failures this way (status 0)
            reason = _first_line(error.reason or error).replace("SSLError", "").strip()
            if "SSL" in str(error.reason) or "certificate" in str(error.reason).lower():
                raise ClusterError(f"TLS with the Kubernetes API at {self.server} failed: {_tls_reason(error)}") \
                    from None
            raise ClusterError(f"Kubernetes API at {self.server}: {reason}") from None
        except urllib3.exceptions.HTTPError as error:
            raise ClusterError(self._unreachable(error)) from None
        if 200 <= response.status < 300:
            return response
        try:
            body = response.data
        finally:
            response.release_conn()
        raise self._status_error(kind, response.status, body)

    def _unreachable(self, error: Exception) -> str:
        import urllib3

        cause = getattr(error, "reason", None) or error
        if isinstance(cause, urllib3.exceptions.SSLError) or "SSL" in type(cause).__name__:
            return f"TLS with the Kubernetes API at {self.server} failed: {_tls_reason(cause)}"
        text = _first_line(cause)
        if "refused" in text.lower():
            text = "connection refused"
        elif "timed out" in text.lower():
            text = "timed out"
        elif "resolve" in text.lower() or "name or service" in text.lower():
            text = f"cannot resolve {urlsplit(self.server).hostname}"
        return f"cannot reach the Kubernetes API at {self.server}: {text}"

    def _status_error(self, kind: Kind, status: int, body: bytes) -> ClusterError:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        parsed = parsed if isinstance(parsed, dict) else {}
        message = _first_line(parsed.get("message") or body[:200].decode("utf-8", "replace") or f"HTTP {status}")
        if status == 401:
            return ClusterError(f"the Kubernetes API at {self.server} did not accept the credentials from "
                                f"{self.source or 'the kubeconfig'} (401 Unauthorized)")
        if status == 403:
            return Forbidden(kind, f"forbidden to read {kind}: {message}")
        if status == 410:
            metadata = parsed.get("metadata") if isinstance(parsed.get("metadata"), dict) else {}
            return Gone(f"listing {kind}: {message}", metadata.get("continue") or None)
        if status == 404:
            return _NotFound(f"{kind} is not served by the Kubernetes API at {self.server}")
        return ClusterError(f"listing {kind} at {self.server}: HTTP {status}: {message}")


class Listing:
    """Iterates the objects of one kind page by page (``limit``/``continue``), yielding them one at a
    time with ``kind``/``apiVersion`` filled in (list items come without). Memory holds one page.

    ``resource_version`` is the list's version once the iteration is over: a watch from it misses
    nothing. A kind the API does not serve yields nothing and is recorded in ``Cluster.absent``.
    When a continue token expires mid-list (410), ``allow_inconsistent`` continues with the token the
    410 carries (the rest comes from a newer state; ``consistent`` becomes False and there is no
    version to watch from); otherwise :class:`Gone` is raised and the caller lists again.
    """

    def __init__(self, cluster: Cluster, kind: Kind, page_size: int, allow_inconsistent: bool) -> None:
        self.cluster = cluster
        self.kind = kind
        self.page_size = page_size
        self.allow_inconsistent = allow_inconsistent
        self.resource_version: str | None = None
        self.consistent = True
        self.pages = 0
        self.absent = False
        self._items = self._generate()

    def __iter__(self) -> Listing:
        return self

    def __next__(self) -> dict[str, Any]:
        return next(self._items)

    def _try_next_version(self, tried: set[str]) -> bool:
        """After a 404, move to a version not yet tried: the remembered one first, then newest first, so
        a cluster whose CRDs were upgraded (or downgraded) since the last list is followed."""
        tried.add(self.cluster.version(self.kind))
        for version in self.kind.versions:
            if version not in tried:
                self.cluster.found[self.kind] = version
                return True
        self.cluster.found.pop(self.kind, None)  # none served: start from the newest next time
        return False

    def _generate(self) -> Iterator[dict[str, Any]]:
        token = ""
        tried: set[str] = set()
        while True:
            query = [("limit", str(self.page_size))] + ([("continue", token)] if token else [])
            try:
                response = self.cluster._get(self.kind, query)
            except Gone as gone:
                if not (token and self.allow_inconsistent and gone.continue_token):
                    raise
                token, self.consistent, self.resource_version = gone.continue_token, False, None
                continue
            except ClusterError as error:
                if _is_not_found(error) and not token:
                    if self._try_next_version(tried):
                        continue
                    self.absent = True
                    self.cluster.absent.add(self.kind)
                    return
                raise
            try:
                page = json.loads(response.data)
            except ValueError:
                raise ClusterError(f"listing {self.kind} at {self.cluster.server}: the answer is not JSON") from None
            finally:
                response.release_conn()
            if not isinstance(page, dict) or not isinstance(page.get("items", []), list):
                raise ClusterError(f"listing {self.kind} at {self.cluster.server}: the answer is not a list")
            self.pages += 1
            metadata = page.get("metadata") if isinstance(page.get("metadata"), dict) else {}
            items = page.get("items") or []
            del page  # only the items stay alive while they are handed out
            items.reverse()
            while items:
                item = items.pop()
                if isinstance(item, dict):
                    item.setdefault("apiVersion", self.kind.api_version_at(self.cluster.version(self.kind)))
                    item.setdefault("kind", self.kind.kind)
                    yield item
            token = metadata.get("continue") or ""
            if not token:
                if self.consistent:
                    self.resource_version = metadata.get("resourceVersion")
                return


class Watch:
    """An open watch stream: iterate for events; ``close()`` ends it early."""

    def __init__(self, cluster: Cluster, kind: Kind, response: Any) -> None:
        self.cluster = cluster
        self.kind = kind
        self.response = response
        self._events = self._generate()

    def __iter__(self) -> Watch:
        return self

    def __next__(self) -> dict[str, Any]:
        return next(self._events)

    def close(self) -> None:
        """End the stream, also from another thread blocked reading it."""
        sock = getattr(getattr(self.response, "connection", None), "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a reader blocked in recv(); close() alone does not
            except OSError:
                pass
        self.response.close()

    def _generate(self) -> Iterator[dict[str, Any]]:
        kind, server = self.kind, self.cluster.server
        try:
            for line in _lines(self.response, kind, self.cluster):
                try:
                    event = json.loads(line)
                except ValueError:
                    raise ClusterError(f"watch of {kind} at {server}: not a JSON event") from None
                if not isinstance(event, dict) or not isinstance(event.get("object"), dict):
                    raise ClusterError(f"watch of {kind} at {server}: malformed event")
                if event.get("type") == "ERROR":
                    status = event["object"]
                    message = f"watch of {kind}: {status.get('message') or status.get('reason') or 'error'}"
                    if status.get("code") == 410:
                        raise Gone(message)
                    raise ClusterError(message)
                yield event
        finally:
            self.response.release_conn()


class _NotFound(ClusterError):
    """404 on a collection: the API group or resource is not installed (a CRD that is absent)."""


def _is_not_found(error: ClusterError) -> bool:
    return isinstance(error, _NotFound)


def _lines(response: Any, kind: Kind, cluster: Cluster) -> Iterator[bytes]:
    """Newline-delimited events as they arrive (a watch answer is one endless chunked body)."""
    import urllib3

    buffer = b""
    try:
        for chunk in response.stream(64 * 1024, decode_content=True):
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip():
                    yield line
    except (urllib3.exceptions.HTTPError, OSError, ValueError) as error:
        # OSError/ValueError: the socket was closed under us (close(), or a reset mid-read).
        raise ClusterError(f"watch of {kind} at {cluster.server} broke off: {_first_line(error)}") from None
    if buffer.strip():
        yield buffer


def _tls_reason(error: object) -> str:
    text = str(error)
    for known in ("certificate verify failed", "hostname mismatch", "IP address mismatch", "self-signed",
                  "unable to get local issuer certificate", "wrong version number"):
        if known in text:
            detail = text[text.index(known):].split(")")[0].split("'")[0].rstrip(" (")
            return detail
    return _first_line(error)


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__
