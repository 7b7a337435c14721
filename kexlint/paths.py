"""Which paths not to read at all: `exclude-paths` in .kexlint.yaml and `--exclude` on the command line.

Patterns are gitignore's (pathspec implements them: `vendor/` for a folder anywhere, `/top.yaml`
anchored, `**`, `!` to re-include), each relative to a base folder: the config file's folder for
the config's patterns, the working directory for the command line's, as git reads a .gitignore
relative to where it lies. A path outside a base folder is never matched by its patterns.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from .records import dataclass, field

TYPE_CHECKING = False

if TYPE_CHECKING:
    import pathspec


@dataclass
class PathFilter:
    specs: list[tuple[str, pathspec.PathSpec]] = field(default_factory=list)

    def add(self, base: str, patterns: Iterable[str]) -> None:
        patterns = [p for p in patterns if p.strip()]
        if patterns:
            # Imported here: pathspec costs ~20 ms, and most runs exclude nothing.
            import pathspec

            self.specs.append((os.path.abspath(base), pathspec.GitIgnoreSpec.from_lines(patterns)))

    def __bool__(self) -> bool:
        return bool(self.specs)

    def excluded(self, path: str, is_dir: bool = False) -> bool:
        """Whether a file (or a folder, whose contents are then all excluded) is excluded."""
        full = os.path.abspath(path)
        for base, spec in self.specs:
            relative = os.path.relpath(full, base)
            if relative == "." or relative.startswith(".." + os.sep) or relative == "..":
                continue
            relative = relative.replace(os.sep, "/")
            if spec.match_file(relative + "/" if is_dir else relative):
                return True
        return False
