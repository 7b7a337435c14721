"""A progress line on stderr for long runs on a terminal, so a big tree does not look like a hang.

Shown only when stderr is a TTY and the run has taken longer than DELAY seconds; redrawn at most
every REDRAW seconds; erased before the report is written. Pipes and CI logs never see it.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

DELAY = 1.0
REDRAW = 0.1
_CLEAR = "\r\033[K"


class Progress:
    def __init__(self, stream: Any, result: Any) -> None:
        self.stream = stream
        self.result = result
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False
        # KEXLINT_PROGRESS_DELAY: how long before the line appears; the tests set it to 0.
        delay = os.environ.get("KEXLINT_PROGRESS_DELAY")
        try:
            self.delay = float(delay) if delay is not None else DELAY
        except ValueError:
            self.delay = DELAY
        isatty = getattr(stream, "isatty", None)
        self.enabled = bool(isatty and isatty())

    def tick(self) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.start < self.delay or now - self.last < REDRAW:
            return
        self.last = now
        self.shown = True
        result = self.result
        files = "file" if result.files == 1 else "files"
        objects = "object" if result.objects == 1 else "objects"
        self.stream.write(f"{_CLEAR}kexlint: {result.files} {files}, {result.objects} {objects} linted…")
        self.stream.flush()

    def done(self) -> None:
        if self.shown:
            self.stream.write(_CLEAR)
            self.stream.flush()
            self.shown = False
