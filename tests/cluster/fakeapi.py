"""A fake Kubernetes API server for the tests: loopback HTTPS that answers list and watch as kube-apiserver does.

What it answers is shaped on the recordings in tests/data/apiserver/ (see the README there):
- lists: `{"kind": "<Kind>List", "apiVersion", "metadata": {"resourceVersion", "continue", "remainingItemCount"},
  "items": [...]}`, items without kind/apiVersion, `limit`/`continue` with a token that is base64url of
  `{"v":"meta.k8s.io/v1","rv":N,"start":"ns/name\\u0000"}` (list-pods-limit2*.json);
- watches: HTTP 200, chunked, one JSON event per line, BOOKMARK events whose object is exactly the recorded
  `{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"N"},"spec":{"containers":null},"status":{}}`
  (watch-pods-bookmarks.ndjson);
- 410 answers copied from the .http files: a list continue (error-410-list-continue.http, with its new
  `"rv":-1` token) and a watch (error-410-watch-cache.http: 200, one ERROR event, end of stream);
- 403 and 404 as the apiserver words them.

Knobs (attributes; change them between requests): `page_cap` (the server's largest page), `forbidden`
(plurals answered 403), `gone_next_continue` / `gone_next_watch` (how many of the next continues / watches
get 410), `drop_watch_after` (close the TCP stream after N events, mid-stream), `stop()` / `start()`
(unreachable, then back on the same port), `compact()` (every older resourceVersion becomes 410), `served_at`
(kind → the one version it is served at, as with CRDs of an older Gateway API release; default its newest).
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kexlint.cluster import KINDS, Kind

DATA = Path(__file__).resolve().parents[1] / "data" / "apiserver"
TOKEN = "fake-admin-token"
# Every version a kind can be read at (Kind.older too), so a kind can be served at an older one only.
BY_PATH = {k.path_at(v): (k, v) for k in KINDS.values() for v in k.versions}


def http_body(name: str) -> tuple[int, str]:
    """Status code and body of a recorded `curl -i` answer."""
    text = (DATA / name).read_text()
    head, _, body = text.partition("\n\n")
    return int(head.split()[1]), body.strip()


def recorded_items(name: str) -> list[dict[str, Any]]:
    return json.loads((DATA / name).read_text())["items"]


def recorded_pods() -> list[dict[str, Any]]:
    """The Pods of both recorded pages (list-pods-limit2*.json)."""
    return recorded_items("list-pods-limit2.json") + recorded_items("list-pods-limit2-continue.json")


def _token(rv: int, start: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _untoken(token: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def _status(code: int, reason: str, message: str, details: dict | None = None) -> dict[str, Any]:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason}
    if details:
        body["details"] = details
    body["code"] = code
    return body


class FakeAPI:
    def __init__(self, certs: Path, kubeconfig: Path) -> None:
        self.certs = certs
        self.kubeconfig = kubeconfig
        self.lock = threading.Condition()
        self.rv = 400
        self.compacted = 0
        self.objects: dict[Kind, dict[tuple[str, str], dict[str, Any]]] = {k: {} for k in KINDS.values()}
        self.events: dict[Kind, list[tuple[int, str, dict[str, Any]]]] = {k: [] for k in KINDS.values()}
        self.served: set[Kind] = {k for k in KINDS.values() if k.group != "gateway.networking.k8s.io"}
        self.served_at: dict[Kind, str] = {}
        self.page_cap = 500
        self.forbidden: set[str] = set()
        self.gone_next_continue = 0
        self.gone_next_watch = 0
        self.drop_watch_after: int | None = None
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.watching = 0  # open watch streams
        self.port = 0
        self.httpd: ThreadingHTTPServer | None = None

    # -- state --------------------------------------------------------------------------------

    def load_recordings(self) -> None:
        """The recorded cluster: the 4 Pods of the two recorded pages, 2 DaemonSets, 3 Services, 2 Ingresses."""
        for item in recorded_pods():
            self.put(KINDS["Pod"], item)
        for kind, name in (("DaemonSet", "list-daemonsets.json"), ("Service", "list-services.json"),
                           ("Ingress", "list-ingresses.json")):
            for item in recorded_items(name):
                self.put(KINDS[kind], item)

    def put(self, kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace an object; watchers get ADDED or MODIFIED."""
        with self.lock:
            self.rv += 1
            obj = json.loads(json.dumps(obj))
            obj["apiVersion"], obj["kind"] = kind.api_version_at(self.version(kind)), kind.kind
            metadata = obj.setdefault("metadata", {})
            metadata["resourceVersion"] = str(self.rv)
            key = (metadata.get("namespace", ""), metadata["name"])
            event = "MODIFIED" if key in self.objects[kind] else "ADDED"
            self.objects[kind][key] = obj
            self.events[kind].append((self.rv, event, obj))
            self.lock.notify_all()
            return obj

    def version(self, kind: Kind) -> str:
        return self.served_at.get(kind, kind.version)

    def delete(self, kind: Kind, namespace: str, name: str) -> None:
        with self.lock:
            self.rv += 1
            obj = self.objects[kind].pop((namespace, name))
            obj = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(self.rv)}}
            self.events[kind].append((self.rv, "DELETED", obj))
            self.lock.notify_all()

    def bookmark(self, kind: Kind) -> None:
        with self.lock:
            self.events[kind].append((self.rv, "BOOKMARK", {}))
            self.lock.notify_all()

    def compact(self) -> None:
        """Every resourceVersion up to now is gone from the fake's history (410 on watch or continue)."""
        with self.lock:
            self.compacted = self.rv
            self.lock.notify_all()

    def wait_for_watch(self, count: int = 1, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.watching < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {count} watch stream(s) open after {timeout}s ({self.watching})")
                self.lock.wait(left)

    # -- serving ------------------------------------------------------------------------------

    def start(self) -> None:
        fake = self

        class Handler(_Handler):
            api = fake

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certs / "tls.crt", self.certs / "tls.key")
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.stopping = False
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.write_kubeconfig()

    def stop(self) -> None:
        """Unreachable from now on: the listener closes and open watches end abruptly."""
        if self.httpd is None:
            return
        with self.lock:
            self.stopping = True
            self.lock.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd = None

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def write_kubeconfig(self, token: str = TOKEN) -> None:
        ca = base64.b64encode((self.certs / "ca.crt").read_bytes()).decode()
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.server, "certificate-authority-data": ca}},
                         {"name": "untrusted", "cluster": {"server": self.server}}],
            "users": [{"name": "admin", "user": {"token": token}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "admin"}},
                         {"name": "untrusted", "context": {"cluster": "untrusted", "user": "admin"}}],
        }
        self.kubeconfig.write_text(json.dumps(config))


def api_version_of(api: FakeAPI, kind: Kind) -> str:
    return kind.api_version_at(api.version(kind))


class _Handler(BaseHTTPRequestHandler):
    api: FakeAPI
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        api = self.api
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        api.requests.append((url.path, query))
        # The scheme is case-insensitive, as in the apiserver's bearer-token authenticator: the kubernetes
        # client sends "bearer" for an in-cluster service account token and "Bearer" from a kubeconfig.
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or token != TOKEN:
            return self._json(401, _status(401, "Unauthorized", "Unauthorized"))
        kind, version = BY_PATH.get(url.path, (None, None))
        if kind is None or kind not in api.served or version != api.version(kind):
            return self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")
        if kind.plural in api.forbidden:
            verb = "watch" if query.get("watch") in ("1", "true") else "list"
            group = f' in API group "{kind.group}"' if kind.group else ' in API group ""'
            return self._json(403, _status(403, "Forbidden", f'{kind.plural}{"." + kind.group if kind.group else ""}'
                                           f' is forbidden: User "system:serviceaccount:kexlint:kexlint" cannot '
                                           f'{verb} resource "{kind.plural}"{group} at the cluster scope',
                                           {"group": kind.group, "kind": kind.plural}))
        if query.get("watch") in ("1", "true"):
            return self._watch(kind, query)
        return self._list(kind, query)

    def _list(self, kind: Kind, query: dict[str, str]) -> None:
        api = self.api
        token = query.get("continue")
        with api.lock:
            start, rv = "", api.rv
            if token:
                state = _untoken(token)
                start, rv = state["start"], state["rv"]
                if api.gone_next_continue > 0 or (rv != -1 and rv < api.compacted):
                    api.gone_next_continue = max(0, api.gone_next_continue - 1)
                    code, body = http_body("error-410-list-continue.http")
                    answer = json.loads(body)
                    answer["metadata"]["continue"] = _token(-1, start)
                    return self._json(code, answer)
                if rv == -1:
                    rv = api.rv
            items = sorted(api.objects[kind].items())
            items = [obj for (ns, name), obj in items if f"{ns}/{name}\x00" > start or not start]
            limit = min(int(query.get("limit") or 0) or api.page_cap, api.page_cap)
            page, rest = items[:limit], items[limit:]
        metadata: dict[str, Any] = {"resourceVersion": str(rv)}
        if rest:
            last = page[-1]["metadata"]
            metadata["continue"] = _token(rv, f"{last.get('namespace', '')}/{last['name']}\x00")
            metadata["remainingItemCount"] = len(rest)
        body = {"kind": kind.kind + "List", "apiVersion": api_version_of(api, kind), "metadata": metadata,
                "items": [{k: v for k, v in obj.items() if k not in ("kind", "apiVersion")} for obj in page]}
        self._json(200, body)

    def _watch(self, kind: Kind, query: dict[str, str]) -> None:
        api = self.api
        since = int(query.get("resourceVersion") or 0)
        deadline = time.monotonic() + float(query.get("timeoutSeconds") or 1800)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        with api.lock:
            if api.gone_next_watch > 0 or since < api.compacted:
                api.gone_next_watch = max(0, api.gone_next_watch - 1)
                line = http_body("error-410-watch-cache.http")[1]
                self._chunk(line.encode() + b"\n")
                return self._chunk(b"")
            api.watching += 1
            api.lock.notify_all()
        sent, position = 0, 0
        try:
            while True:
                with api.lock:
                    while True:
                        log = api.events[kind]
                        pending = [e for e in log[position:] if e[0] > since or e[1] == "BOOKMARK"]
                        position = len(log)
                        left = deadline - time.monotonic()
                        if pending or left <= 0 or api.stopping:
                            break
                        api.lock.wait(min(left, 0.5))
                    stopping = api.stopping
                if stopping:
                    return self._abort()  # as an unreachable API looks: the stream just ends
                for rv, event, obj in pending:
                    if api.drop_watch_after is not None and sent >= api.drop_watch_after:
                        return self._abort()  # no last chunk: the client sees the stream break
                    if event == "BOOKMARK":
                        obj = {"kind": kind.kind, "apiVersion": api_version_of(api, kind),
                               "metadata": {"resourceVersion": str(rv)}, "spec": {"containers": None}, "status": {}}
                    self._chunk(json.dumps({"type": event, "object": obj}).encode() + b"\n")
                    sent += 1
                    since = max(since, rv)
                if time.monotonic() >= deadline:
                    return self._chunk(b"")
        except OSError:
            return
        finally:
            with api.lock:
                api.watching -= 1

    def _abort(self) -> None:
        """Cut the TCP connection now (close() alone waits for the handler's file objects)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _json(self, code: int, body: dict[str, Any]) -> None:
        self._send(code, json.dumps(body).encode(), "application/json")

    def _send(self, code: int, data: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


