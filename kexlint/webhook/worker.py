"""The gunicorn worker: gthread, but the listening socket closes as soon as SIGTERM arrives.

Stock gthread stops accepting on SIGTERM yet keeps its copy of the listener open until in-flight
requests finish, so the kernel still completes new TCP handshakes that nobody will ever accept; they
are reset only when the worker exits, seconds later. Closing at once refuses them immediately, so a
client (or the apiserver, while the endpoint is being removed) retries another replica right away.

Connections the kernel already completed (the listen backlog) are accepted and served before the
close: closing the last copy of a listener resets every connection still queued on it, which a client
sees as "connection reset" in the middle of its TLS handshake, not as a clean refusal. (A handshake the
kernel completes in the microseconds between the last accept and the close can still be reset: Linux
offers no way to stop a listener that other workers share from completing handshakes, short of
shutdown(), which would stop it for them too.)
"""

from __future__ import annotations

from typing import Any

from gunicorn.workers.gthread import ThreadWorker

# At most this many queued connections are taken over at shutdown (the listen backlog is 2048 by
# default): the drain must end even if a client floods the port while we stop.
MAX_DRAINED = 2048


class Worker(ThreadWorker):  # type: ignore[misc]
    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:  # leaving the main loop: graceful shutdown has begun
            for listener in self.sockets:
                self._drain(listener)
                listener.close()

    def _drain(self, listener: Any) -> None:
        """Accept what is queued on `listener`; the thread pool answers each with "Connection: close"."""
        for _ in range(MAX_DRAINED):
            before = self.nr_conns
            self.accept(listener)  # the listener is non-blocking: an empty queue is EAGAIN, ignored by accept
            if self.nr_conns == before:
                return
