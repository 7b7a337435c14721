"""The gunicorn worker: gthread, but the listening socket closes as soon as SIGTERM arrives.

Stock gthread stops accepting on SIGTERM yet keeps its copy of the listener open until in-flight
requests finish, so the kernel still completes new TCP handshakes that nobody will ever accept; they
are reset only when the worker exits, seconds later. Closing at once refuses them immediately, so a
client (or the apiserver, while the endpoint is being removed) retries another replica right away.
"""

from __future__ import annotations

from gunicorn.workers.gthread import ThreadWorker


class Worker(ThreadWorker):  # type: ignore[misc]
    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:  # leaving the main loop: graceful shutdown has begun
            for listener in self.sockets:
                listener.close()
