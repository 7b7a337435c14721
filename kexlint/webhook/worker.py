"""The gunicorn worker: gthread whose event loop, not its threads, owns a connection until a request is whole.

Why: the webhook port is reachable from every pod. Stock gthread hands each accepted connection to a
thread, which then blocks in the TLS handshake and in reading the request line, headers and body with
no deadline: 8 threads (2 workers x 4) are taken by 8 sockets that send one byte and stall, and 500
silent sockets queue up for 5 s of thread time each, so every review and /healthz timed out. Here the
main loop (a selector, as in gthread) does the non-blocking part itself, for any number of sockets:

1. TLS handshake, at most HANDSHAKE_TIMEOUT seconds after accept;
2. the request line and headers, at most HEADER_TIMEOUT seconds after the handshake or, on a
   kept-alive connection, after its first byte;
3. a body of known Content-Length, at most BODY_TIMEOUT seconds after the headers,

and only a complete request goes to the thread pool, already buffered, to be parsed by gunicorn and
answered by the app. A socket past its deadline is closed. A chunked body (Transfer-Encoding) is
refused at once with 411 Length Required: the apiserver always sends a Content-Length, and a chunked
body could only be framed by parsing it here. Oversized headers or bodies go to a thread at once
(gunicorn or the app refuse them); there the socket's reads and writes for one request end by
THREAD_DEADLINE in total, so such a client holds a thread for seconds, not forever.

Closing after "Connection: close" half-closes the socket and waits, on the loop, up to LINGER_TIMEOUT
for the client to close too (gunicorn's close_graceful does that blocking the loop's thread).

Other designs considered: gunicorn's gevent and asyncio (ASGI) workers also keep stalled sockets off
the threads, but neither has header or body deadlines (asyncio's handshake timeout is 60 s), and the
ASGI one would need a WSGI bridge and loses the per-connection ssl_context hook that hot-reloads the
certificate; hypercorn/uvicorn would replace the arbiter that the SIGTERM drain, the multiprocess
metrics and the worker-restart behaviour are built on. Keeping gthread's loop and adding deadlines
keeps all of that and changes only who waits for the bytes.

Shutdown (SIGTERM): the listening socket closes at once, so new connections are refused and the
client retries another replica; connections already queued on it are accepted and served with
"Connection: close" first (closing the last copy of a listener resets them mid-handshake). Idle
kept-alive connections are closed at once: a request on one would otherwise be answered, seconds
later, by a process that is going away (with its old configuration). A kept-alive connection that
has bytes waiting is not idle: its request is read and answered, with "Connection: close". Requests
in flight finish within --graceful-timeout.
"""

from __future__ import annotations

import errno
import selectors
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from gunicorn import http, sock
from gunicorn.workers.gthread import TConn, ThreadWorker

from .admission import REFUSED_PREFIX_BYTES

HANDSHAKE_TIMEOUT = 5.0
HEADER_TIMEOUT = 5.0
BODY_TIMEOUT = 10.0
# All of a thread's reads and writes on one request's socket (the response; an unbuffered body).
THREAD_DEADLINE = 15.0
# The apiserver's own limit on a request body is 3 MiB. Of a larger body only its first
# REFUSED_PREFIX_BYTES are buffered: enough for the app to read its uid and answer the refusal as an
# AdmissionReview, never more than that per connection; the connection is closed after the answer.
MAX_BUFFERED_BODY = 4 * 2**20
MAX_HEADER_BYTES = 64 * 1024  # beyond this, gunicorn's parser answers the error
# All requests a worker is buffering, together: clients that send most of a body and stall must not
# fill the pod's memory (256Mi for two workers). The apiserver sends a whole body in milliseconds; a
# connection whose bytes would go over this is closed.
MAX_BUFFERED_TOTAL = 32 * 2**20
RECV_CHUNK = 256 * 1024

# At most this many queued connections are taken over at shutdown (the listen backlog is 2048 by
# default): the drain must end even if a client floods the port while we stop.
MAX_DRAINED = 2048

# The arbiter kills a worker that has not notified it for --timeout (30 s) seconds; gthread notifies on
# every loop iteration, a utime() syscall several times per request. Once a second is plenty.
NOTIFY_INTERVAL = 1.0

# After an answer with "Connection: close": how long the write side stays half-closed while the
# client's last bytes and its close are awaited (gunicorn's close_graceful, but on the loop).
LINGER_TIMEOUT = 2.0
LINGER_MAX_BYTES = 65536

HANDSHAKE, HEADERS, BODY, LINGER = "handshake", "headers", "body", "linger"

_client = threading.local()


def client_verified() -> bool | None:
    """For the request this thread is answering: None when the server takes no client certificates
    (no --client-ca), else whether the client presented one that verified against the client CA."""
    return getattr(_client, "verified", None)


_LENGTH_REQUIRED_BODY = b'{"error":"send the request body with a Content-Length","code":411}'
LENGTH_REQUIRED = (b"HTTP/1.1 411 Length Required\r\nContent-Type: application/json\r\nConnection: close\r\n"
                   b"Content-Length: %d\r\n\r\n%s" % (len(_LENGTH_REQUIRED_BODY), _LENGTH_REQUIRED_BODY))


class _TimedSSLSocket(ssl.SSLSocket):
    """An SSLSocket whose "blocking" mode ends at a deadline.

    gthread switches a connection to blocking mode before a thread reads from it; with this class
    every blocking operation then fails once `deadline` (set when the request is handed to a thread)
    has passed, however slowly the peer trickles bytes. Non-blocking mode (the loop) is unaffected.
    """

    deadline: float | None = None

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(THREAD_DEADLINE)
        else:
            super().setblocking(False)

    def _bound(self) -> None:
        if self.deadline is not None and self.gettimeout() != 0.0:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("request took longer than the server allows")
            self.settimeout(remaining)

    def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
        self._bound()
        return super().recv(buflen, flags)

    def recv_into(self, buffer: Any, nbytes: int | None = None, flags: int = 0) -> int:
        self._bound()
        return super().recv_into(buffer, nbytes, flags)

    def send(self, data: Any, flags: int = 0) -> int:
        self._bound()
        return super().send(data, flags)


@dataclass
class _Incoming:
    """A connection the main loop reads from until it holds one whole request."""

    conn: Any
    phase: str
    deadline: float
    buf: bytearray = field(default_factory=bytearray)
    header_end: int = -1
    body_end: int = -1
    events: int = selectors.EVENT_READ
    refuse: bool = False  # answer LENGTH_REQUIRED and close
    cut: bool = False  # only a prefix of the body is buffered (too large): close after the answer
    drained: int = 0  # bytes discarded while lingering


class _Conn(TConn):  # type: ignore[misc]
    """gthread's connection, whose graceful close lingers on the worker's loop instead of blocking it.

    gunicorn's close_graceful half-closes, then blocks the calling thread (the loop's, for
    finish_request) for up to 2 s until the client closes: ten clients that keep their end open
    after a "Connection: close" answer stopped every handshake and review for 20 s.
    """

    worker: Any = None

    def close(self, graceful: bool = False) -> None:
        if graceful and self.worker is not None:
            self.worker.linger(self)
        else:
            super().close()


class Worker(ThreadWorker):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.incoming: dict[int, _Incoming] = {}
        self.buffered = 0  # bytes in every incoming.buf
        # No incoming deadline is earlier than this. murder_pending runs after every loop iteration
        # (several per request); scanning all held sockets each time cost O(connections) per request
        # while hundreds of stalled ones were held. A deadline only ever moves later (handshake, then
        # headers, then body), so a bound taken before that move stays a lower bound.
        self.next_deadline = float("inf")
        self.notified = float("-inf")

    def notify(self) -> None:
        now = time.monotonic()
        if now - self.notified >= NOTIFY_INTERVAL:
            self.notified = now
            super().notify()

    # -- accepting -----------------------------------------------------------------------------

    def accept(self, listener: Any) -> None:
        try:
            client, address = listener.accept()
        except OSError as err:
            if err.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        client.setblocking(False)
        try:
            if self.cfg.is_ssl:
                context = sock.ssl_context(self.cfg)  # the serve layer's hot-reloading hook
                context.sslsocket_class = _TimedSSLSocket
                client = context.wrap_socket(client, server_side=True, do_handshake_on_connect=False,
                                             suppress_ragged_eofs=True)
            conn = _Conn(self.cfg, client, address, listener.getsockname())
            conn.worker = self
        except (OSError, ssl.SSLError, ValueError) as err:
            self.log.warning("cannot set up TLS for a new connection: %s", err)
            self.nr_conns -= 1
            client.close()
            return
        if self.cfg.is_ssl:
            self._watch(_Incoming(conn, HANDSHAKE, time.monotonic() + HANDSHAKE_TIMEOUT))
        else:
            self._watch(_Incoming(conn, HEADERS, time.monotonic() + HEADER_TIMEOUT))

    def on_client_socket_readable(self, conn: Any, client: Any) -> None:
        """A kept-alive connection has bytes: read its next request on the loop, not in a thread."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        incoming = _Incoming(conn, HEADERS, time.monotonic() + HEADER_TIMEOUT)
        self._watch(incoming)
        self._advance(incoming)

    # -- the loop's part of a request ------------------------------------------------------------

    def _watch(self, incoming: _Incoming) -> None:
        self.incoming[incoming.conn.sock.fileno()] = incoming
        self.next_deadline = min(self.next_deadline, incoming.deadline)
        self.poller.register(incoming.conn.sock, incoming.events, lambda _: self._advance(incoming))

    def _set_events(self, incoming: _Incoming, events: int) -> None:
        if incoming.events != events:
            incoming.events = events
            self.poller.modify(incoming.conn.sock, events, lambda _: self._advance(incoming))

    def linger(self, conn: Any) -> None:
        """Half-close `conn` and close it when the client has closed too, or LINGER_TIMEOUT later."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.setblocking(False)
        except (OSError, ValueError):
            TConn.close(conn)
            return
        # Counted again (finish_request has uncounted it): a stopping worker waits for it, as it waited
        # for gunicorn's blocking close.
        self.nr_conns += 1
        self._watch(_Incoming(conn, LINGER, time.monotonic() + LINGER_TIMEOUT))

    def _advance(self, incoming: _Incoming) -> None:
        tls = incoming.conn.sock
        if incoming.phase == LINGER:
            self._drain_linger(incoming)
            return
        if incoming.phase == HANDSHAKE:
            try:
                tls.do_handshake()
            except ssl.SSLWantReadError:
                self._set_events(incoming, selectors.EVENT_READ)
                return
            except ssl.SSLWantWriteError:
                self._set_events(incoming, selectors.EVENT_WRITE)
                return
            except (ssl.SSLError, OSError):
                # Wrong CA, CBC-only client, no client certificate with --client-ca, a port scan...
                self._drop(incoming)
                return
            self._set_events(incoming, selectors.EVENT_READ)
            incoming.phase, incoming.deadline = HEADERS, time.monotonic() + HEADER_TIMEOUT
        while True:
            try:
                data = tls.recv(RECV_CHUNK)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                return
            except OSError:
                self._drop(incoming)
                return
            if not data:  # the client closed (or a kept-alive connection's close_notify)
                self._drop(incoming)
                return
            if self.buffered + len(data) > MAX_BUFFERED_TOTAL:
                self.log.warning("closing a connection: %d bytes already buffered for unfinished requests",
                                 self.buffered)
                self._drop(incoming)
                return
            incoming.buf += data
            self.buffered += len(data)
            if self._complete(incoming):
                if incoming.refuse:
                    self._refuse(incoming)
                else:
                    self._dispatch(incoming)
                return

    def _drain_linger(self, incoming: _Incoming) -> None:
        # Raw reads, discarded: after shutdown(SHUT_WR) there is no TLS conversation left to have.
        while True:
            try:
                data = socket.socket.recv(incoming.conn.sock, 65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            incoming.drained += len(data)
            if not data or incoming.drained >= LINGER_MAX_BYTES:
                self._drop(incoming)
                return

    def _complete(self, incoming: _Incoming) -> bool:
        """Whether the buffer holds what a thread needs; moves HEADERS to BODY when the headers end."""
        buf = incoming.buf
        if incoming.phase == HEADERS:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return len(buf) > MAX_HEADER_BYTES
            incoming.header_end = end + 4
            length = _content_length(bytes(buf[:end]))
            if length is None:
                incoming.refuse = True
                return True
            if length > MAX_BUFFERED_BODY:
                # Too large to buffer: the app refuses it, reading no more than this prefix.
                incoming.cut, length = True, REFUSED_PREFIX_BYTES
            incoming.body_end = incoming.header_end + length
            incoming.phase, incoming.deadline = BODY, time.monotonic() + BODY_TIMEOUT
        return len(buf) >= incoming.body_end

    def _refuse(self, incoming: _Incoming) -> None:
        try:
            incoming.conn.sock.send(LENGTH_REQUIRED)  # small enough for the socket buffer at once
        except OSError:
            pass
        self._drop(incoming)

    def _dispatch(self, incoming: _Incoming) -> None:
        self._forget(incoming)
        conn = incoming.conn
        if isinstance(conn.sock, _TimedSSLSocket):
            conn.sock.deadline = time.monotonic() + THREAD_DEADLINE
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.initialized = True  # TConn.init() would wrap the socket in TLS a second time
        conn.body_cut = incoming.cut
        conn.data_ready = True
        conn.parser.unreader.unread(bytes(incoming.buf))
        self.enqueue_req(conn)

    def _forget(self, incoming: _Incoming) -> None:
        if self.incoming.pop(incoming.conn.sock.fileno(), None) is not None:
            self.buffered -= len(incoming.buf)
        try:
            self.poller.unregister(incoming.conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _drop(self, incoming: _Incoming) -> None:
        self._forget(incoming)
        self.nr_conns -= 1
        TConn.close(incoming.conn)

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        if now < self.next_deadline:
            return
        for incoming in [i for i in self.incoming.values() if i.deadline <= now]:
            self._drop(incoming)
        self.next_deadline = min((i.deadline for i in self.incoming.values()), default=float("inf"))

    def handle(self, conn: Any) -> Any:
        # The app runs on this thread: tell it whether the peer proved who it is (see client_verified).
        if self.cfg.is_ssl and self.cfg.cert_reqs != ssl.CERT_NONE:
            try:
                _client.verified = bool(conn.sock.getpeercert())
            except (ValueError, OSError):
                _client.verified = False
        else:
            _client.verified = None
        return super().handle(conn)

    def handle_request(self, req: Any, conn: Any) -> Any:
        if getattr(conn, "body_cut", False):
            # The rest of the body is still on the wire: no further request can be framed after it.
            req.must_close = True
        return super().handle_request(req, conn)

    # -- shutdown ------------------------------------------------------------------------------

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:  # leaving the main loop: graceful shutdown has begun
            for listener in self.sockets:
                self._drain(listener)
                listener.close()
            self._close_idle()

    def _drain(self, listener: Any) -> None:
        """Accept what is queued on `listener`; each is answered with "Connection: close"."""
        for _ in range(MAX_DRAINED):
            before = self.nr_conns
            self.accept(listener)  # the listener is non-blocking: an empty queue is EAGAIN, ignored by accept
            if self.nr_conns == before:
                return

    def _close_idle(self) -> None:
        """Close kept-alive connections now, except those whose next request has begun arriving."""
        while self.keepalived_conns:
            conn = self.keepalived_conns.popleft()
            try:
                self.poller.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass
            incoming = _Incoming(conn, HEADERS, time.monotonic() + HEADER_TIMEOUT)
            self._watch(incoming)
            self._advance(incoming)
            if incoming.conn.sock.fileno() in self.incoming and not incoming.buf:
                self._drop(incoming)  # nothing was waiting on it: idle


def _content_length(head: bytes) -> int | None:
    """The Content-Length of a request head (0 if none), or None when a Transfer-Encoding frames it.

    A duplicate or malformed Content-Length is returned as 0: gunicorn's parser then rejects the
    request (400) in the thread, with the whole head already buffered.
    """
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"transfer-encoding":
            return None
        if name == b"content-length":
            if length is not None or not value.strip().isdigit():
                return 0
            length = int(value.strip())
    return length if length is not None else 0
