"""argparse wiring for ``kexlint webhook ...``.

The main CLI (``kexlint/cli.py``) calls :func:`add_webhook_parsers` on its sub-parser group and then
``args.func(args)``; each handler returns the process exit code. :func:`run` builds a parser of its
own around the same registration code, for tests and for ``python -m kexlint.webhook.commands``
before the console script is wired.

Only modules that are cheap to import are imported here (certs imports cryptography lazily), so
registering these sub-commands costs the lint path nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from kexlint.webhook.certs import add_certs_parser
from kexlint.webhook.manifests import add_manifests_parser
from kexlint.webhook.serve import add_serve_parser

# One registration function per `kexlint webhook` sub-command. serve.py imports gunicorn, flask and
# prometheus_client only inside cmd_serve, so registering it stays cheap.
SUBCOMMANDS: list[Callable[[Any], argparse.ArgumentParser]] = [
    add_certs_parser, add_manifests_parser, add_serve_parser]


def add_webhook_parsers(subparsers: Any) -> None:
    """Add ``webhook`` with its sub-commands (``certs``, ``manifests``, ``serve``) to the CLI's sub-parsers.

    Every leaf sets ``func``: ``func(args) -> int`` is the exit code.
    """
    parser = subparsers.add_parser(
        "webhook",
        help="run kexlint as a validating admission webhook: certificates, manifests, server",
        description="Tools to deploy kexlint as a Kubernetes validating admission webhook.",
    )
    group = parser.add_subparsers(dest="webhook_command", metavar="COMMAND", required=True)
    for register in SUBCOMMANDS:
        register(group)


def _exit_code(code: object) -> int:
    # SystemExit carries None (success), an int, or a message (already printed by argparse).
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return 2


def run(argv: Sequence[str] | None = None) -> int:
    """``kexlint webhook ARGV...`` as a function: parses ``argv`` (without ``webhook``) and runs it.

    argparse's own exits (``--help``, usage errors) become return values instead of SystemExit.
    """
    parser = argparse.ArgumentParser(prog="kexlint")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_webhook_parsers(subparsers)
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(["webhook", *argv])
    except SystemExit as exc:
        return _exit_code(exc.code)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(run())
