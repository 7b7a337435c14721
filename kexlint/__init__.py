"""kexlint: Kubernetes exposure policy engine."""

__version__ = "0.1.0"
