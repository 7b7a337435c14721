"""Everything that talks to the Kubernetes API: connection, paginated lists, watches, the webhook's cache.

The engine never imports this package; the CLI and the webhook hand what it reads to the engine as
context objects (or, for the webhook cache, as facts).
"""

from __future__ import annotations

from .client import CONTEXT_KINDS, KINDS, Cluster, ClusterError, Forbidden, Gone, Kind, Listing, Watch, connect
from .prune import prune

__all__ = ["CONTEXT_KINDS", "KINDS", "Cluster", "ClusterError", "Forbidden", "Gone", "Kind", "Listing",
           "Watch", "connect", "prune"]
