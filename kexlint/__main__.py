"""`python -m kexlint` and the `kexlint` script: the CLI with the garbage collector paused while it starts."""

from __future__ import annotations

import gc
import sys


def main() -> int:
    # Start-up allocates tens of thousands of long-lived objects (modules, classes, rules) and no
    # garbage cycles: the collections they trigger, and the full one at exit that walks them all
    # again, cost a small lint ~10 ms of its ~110. cli.resume_gc() turns collection back on, with
    # those objects frozen out of it, before any input is read.
    gc.disable()
    from . import cli

    cli.gc_paused = True
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
