"""`kexlint fix`: rewrite deprecated apiVersions to their replacements, keeping everything else.

Which objects to convert comes from the deprecated-api rule's table (with .kexlint.yaml's params
and the target Kubernetes version), so fix converts exactly what `kexlint lint` flags; how to
convert them is in .convert. Only this package imports ruamel.yaml (the `fix` extra).

JSON files are rewritten too, with json.dumps at the indentation the file uses (JSON has no
comments to keep; key order is kept). Files are replaced by an atomic rename, except a file with
hard links, which is rewritten in place so that every link sees the new text; the mode is kept, and a
read-only file is refused rather than overwritten. A file mixing CRLF and LF keeps each line's own
ending, changed lines included.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from ..checks.deprecated_api import project_status
from ..config import DEFAULT_GATEWAY_API_VERSION, DEFAULT_KUBE_VERSION, parse_gateway_api_version, parse_kube_version
from ..loader import MAX_FILE_BYTES, InputError, decode, looks_like_json
from ..registry import rules_by_id
from .convert import CONVERSIONS, Unfixable
from .documents import Chunk, detect_style, dump_document, new_yaml, restore_spacing, split_documents

__all__ = ["FixResult", "Plan", "fix_text", "run"]

EXIT_OK, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2
YAML_SUFFIXES = (".yaml", ".yml")
FIX_SUFFIXES = (*YAML_SUFFIXES, ".json")
STDIN = "-"
_LINES = re.compile(r"[^\n]*\n|[^\n]+")  # str.splitlines would also split at \r, \f and U+2028


@dataclass(frozen=True)
class Plan:
    """What to convert: the deprecated-api table and the Kubernetes version and Gateway API release the
    manifests target."""

    apis: dict[tuple[str, str], dict[str, Any]]
    target: tuple[int, int]
    gateway_api_target: tuple[int, int] = parse_gateway_api_version(DEFAULT_GATEWAY_API_VERSION)

    @classmethod
    def from_rule_params(cls, apis: list[dict[str, Any]], target: tuple[int, int],
                         gateway_api_target: tuple[int, int] | None = None) -> Plan:
        by_key = {(entry["apiVersion"], entry["kind"]): entry for entry in apis}
        if gateway_api_target is None:
            return cls(by_key, target)
        return cls(by_key, target, gateway_api_target)

    def target_of(self, project: str | None) -> tuple[int, int]:
        """The release a version of `project` is judged by: Gateway API's, or Kubernetes' for None."""
        return self.gateway_api_target if project else self.target

    def flagged(self, api_version: str, kind: str) -> dict[str, Any] | None:
        """The table entry when the deprecated-api rule reports this pair at the target version."""
        entry = self.apis.get((api_version, kind))
        if entry is None:
            return None
        if entry.get("project"):  # its versions are the project's releases, as the rule judges them
            return entry if project_status(entry, self.gateway_api_target) else None
        for when in ("removed", "deprecated"):
            if entry.get(when) and parse_kube_version(entry[when]) <= self.target:
                return entry
        return None

    def candidates(self) -> re.Pattern[str]:
        """A cheap test for documents that may hold a flagged object; others are never parsed."""
        versions = sorted({api for (api, kind) in self.apis if self.flagged(api, kind)})
        if not versions:
            return re.compile(r"(?!)")
        alternatives = "|".join(map(re.escape, versions))
        return re.compile(rf"""apiVersion["']?\s*:\s*["']?(?:{alternatives})(?=["'\s,}}#]|$)""")


@dataclass
class FixResult:
    text: str
    converted: list[str] = field(default_factory=list)  # "Ingress/web extensions/v1beta1 -> networking.k8s.io/v1"
    notes: list[str] = field(default_factory=list)  # "line 12: ..." for what was left alone and why


def _plain(value: Any) -> Any:
    """ruamel's round-trip values as plain Python, to compare what two texts mean."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def _objects(root: CommentedMap) -> list[CommentedMap]:
    """The document itself, or the items of a `kind: List` (or FooList) as kubectl prints them."""
    items = root.get("items")
    kind = root.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, CommentedSeq):
        return [item for item in items if isinstance(item, CommentedMap)]
    return [root]


def _describe(obj: CommentedMap) -> str:
    metadata = obj.get("metadata")
    name = metadata.get("name") if isinstance(metadata, CommentedMap) else None
    return f"{obj.get('kind')}/{name}" if name else str(obj.get("kind"))


def _convert(root: CommentedMap, line_of: Callable[[CommentedMap], int], plan: Plan, result: FixResult) -> bool:
    """Convert the flagged objects of one document in place; whether any was."""
    changed = False
    for obj in _objects(root):
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str):
            continue
        entry = plan.flagged(api_version, kind)
        if entry is None:
            continue
        line = line_of(obj)
        what = f"line {line}: {api_version} {_describe(obj)}"
        if _convert_one(obj, api_version, kind, entry, what, plan, result):
            changed = True
    return changed


def _convert_one(obj: CommentedMap, api_version: str, kind: str, entry: dict[str, Any], what: str, plan: Plan,
                 result: FixResult) -> bool:
    """Convert one flagged object, and again while its new version is flagged too (ReferenceGrant
    v1alpha2 → v1beta1 → v1 for a Gateway API v1.5 target); whether it changed."""
    changed = False
    while entry is not None:
        conversion = CONVERSIONS.get((api_version, kind))
        if conversion is None:
            if not changed:
                notes = f" ({entry['notes']})" if entry.get("notes") else ""
                result.notes.append(f"{what}: not converted, kexlint fix has no conversion for it{notes}")
            return changed
        target = plan.target_of(conversion.project)
        if conversion.since > target:
            if not changed:
                since, shown = ".".join(map(str, conversion.since)), ".".join(map(str, target))
                release = f"{conversion.project} v" if conversion.project else "Kubernetes "
                result.notes.append(f"{what}: not converted, {conversion.replacement} is served only from "
                                    f"{release}{since} (target {shown})")
            return changed
        try:
            notes = conversion.convert(obj)
        except Unfixable as err:
            result.notes.append(f"{what}: not converted: {err}")
            return changed
        changed = True
        result.converted.append(f"{_describe(obj)} {api_version} -> {conversion.replacement}")
        result.notes.extend(f"{what}: {note}" for note in notes)
        api_version = conversion.replacement
        entry = plan.flagged(api_version, kind)
    return changed


def _fix_chunk(chunk: Chunk, plan: Plan, result: FixResult) -> str:
    """The chunk's new text; its own text when nothing in it changes."""
    yaml = new_yaml()
    try:
        root = yaml.load(chunk.body)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = chunk.line + mark.line + 1 if mark else chunk.line + 1
        column = mark.column + 1 if mark else 0
        raise InputError(f"invalid YAML: {err.problem or err.context or 'cannot parse'}", line, column) from None
    except YAMLError as err:  # e.g. DuplicateKeyError without a mark
        raise InputError(f"invalid YAML: {str(err).splitlines()[0] if str(err) else 'cannot parse'}",
                         chunk.line + 1) from None
    if not isinstance(root, CommentedMap):
        return chunk.text
    style = detect_style(root, chunk.body)  # before any edit: new nodes have no positions
    first_conversion = len(result.converted)
    changed = _convert(root, lambda obj: chunk.line + obj.lc.line + 1, plan, result)
    if not changed:
        return chunk.text
    if chunk.body.startswith("---"):
        # `--- !tag` or `--- {…}`: ruamel would not write the marker line back as it was.
        del result.converted[first_conversion:]
        result.notes.append(f"line {chunk.line + 1}: not converted: content on the `---` line; move it "
                            "to the next line and run fix again")
        return chunk.text
    body = dump_document(root, style)
    # Blank lines that ended the document stay exactly as they were; so does a missing final newline.
    blank_tail = re.search(r"\n((?:[ \t]*\n)*)\Z", chunk.body)
    body = body.rstrip("\n") + ("\n" + blank_tail.group(1) if blank_tail else "")
    # The new text must mean what we built: if ruamel wrote something else, change nothing.
    expected = _plain(root)
    restored = restore_spacing(chunk.body, body)
    if restored != body and _plain(new_yaml().load(restored)) == expected:
        body = restored
    elif _plain(new_yaml().load(body)) != expected:  # pragma: no cover - a ruamel bug if it happens
        del result.converted[first_conversion:]
        result.notes.append(f"line {chunk.line + 1}: not converted: the rewritten document did not read back "
                            "the same; please report this")
        return chunk.text
    return chunk.prefix + body + chunk.suffix


def fix_text(text: str, plan: Plan) -> FixResult:
    """Convert the flagged objects of a YAML stream; raises InputError (with a line) on bad YAML."""
    result = FixResult(text)
    crlf = "\r\n" in text and text.count("\r\n") == text.count("\n")
    mixed = not crlf and "\r\n" in text
    work = text.replace("\r\n", "\n") if crlf or mixed else text
    candidates = plan.candidates()
    pieces = []
    for chunk in split_documents(work):
        pieces.append(_fix_chunk(chunk, plan, result) if candidates.search(chunk.body) else chunk.text)
    new = "".join(pieces)
    if new != work:
        result.text = new.replace("\n", "\r\n") if crlf else _line_endings(text, new) if mixed else new
    return result


def _round_trip(value: Any) -> Any:
    """json.loads' values as the ruamel containers the conversions edit."""
    if isinstance(value, dict):
        return CommentedMap((k, _round_trip(v)) for k, v in value.items())
    if isinstance(value, list):
        return CommentedSeq(_round_trip(v) for v in value)
    return value


def _json_layout(text: str) -> dict[str, Any]:
    """json.dumps arguments that write this file's layout back: its indent, or one line."""
    match = re.search(r"[\[{][ \t]*\r?\n([ \t]+)\S", text)
    if match:
        indent = match.group(1)
        return {"indent": len(indent) if set(indent) == {" "} else indent}
    compact = re.search(r'"\s*:\s*', text)
    colon = ":" if compact and compact.group(0) == '":' else ": "
    comma = "," if re.search(r',"', text) and not re.search(r', "', text) else ", "
    return {"separators": (comma, colon)}


def fix_json(text: str, plan: Plan) -> FixResult:
    """Convert the flagged objects of a JSON document; raises InputError (with a line) on bad JSON."""
    result = FixResult(text)
    if not plan.candidates().search(text) or not text.strip():
        return result
    try:
        root = _round_trip(json.loads(text))
    except json.JSONDecodeError as err:
        raise InputError(f"invalid JSON: {err.msg}", err.lineno, err.colno) from None
    except RecursionError:
        raise InputError("invalid JSON: nesting too deep", 1) from None
    if not isinstance(root, CommentedMap):
        return result
    # json.loads keeps no positions: notes name the object, on line 1 of the file.
    if not _convert(root, lambda obj: 1, plan, result):
        return result
    newline = "\r\n" if "\r\n" in text else "\n"
    new = json.dumps(_plain(root), ensure_ascii=False, **_json_layout(text))
    if newline != "\n":
        new = new.replace("\n", newline)
    tail = text[len(text.rstrip()):]
    result.text = new + tail
    return result


def _line_endings(old: str, new: str) -> str:
    """new (written with LF) with each line ending as the old line it stands for ended: CRLF or LF.
    Lines that did not change keep theirs; a changed line takes that of the line it replaces."""
    old_lines = old.split("\n")
    endings = ["\r\n" if line.endswith("\r") else "\n" for line in old_lines]
    plain_old = [line.removesuffix("\r") for line in old_lines]
    new_lines = new.split("\n")
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, plain_old, new_lines, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        for offset, line in enumerate(new_lines[j1:j2]):
            if op == "equal" or i2 > i1:
                source = min(i1 + offset, i2 - 1) if i2 > i1 else i1
            else:  # inserted lines: as the line before them ended
                source = max(i1 - 1, 0)
            out.append(line + (endings[source] if source < len(endings) else "\n"))
    text = "".join(out)
    # split() gave one more piece than there are line ends: drop the ending added to the last piece.
    last = out[-1] if out else ""
    return text[: len(text) - (len(last) - len(new_lines[-1]))] if out else text


# --- files -------------------------------------------------------------------------------------------

def _codec(data: bytes) -> tuple[str, Callable[[str], bytes]]:
    """Text, and how to turn new text back into bytes the same way (BOM, UTF-16)."""
    text = decode(data)
    if data.startswith(b"\xff\xfe"):
        return text, lambda new: b"\xff\xfe" + new.encode("utf-16-le")
    if data.startswith(b"\xfe\xff"):
        return text, lambda new: b"\xfe\xff" + new.encode("utf-16-be")
    if data.startswith(b"\xef\xbb\xbf"):
        return text, lambda new: b"\xef\xbb\xbf" + new.encode("utf-8")
    return text, lambda new: new.encode("utf-8")


def _yaml_files(paths: list[str]) -> list[str | tuple[str, str]]:
    """Files to fix, in order; (path, problem) for paths that cannot be used."""
    found: list[str | tuple[str, str]] = []
    for path in paths:
        if path == STDIN:
            found.append(path)
        elif os.path.isdir(path):
            files = []
            for folder, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                files.extend(os.path.join(folder, name) for name in names if name.endswith(FIX_SUFFIXES))
            found.extend(sorted(files))
        elif os.path.exists(path):
            found.append(path)
        else:
            found.append((path, "no such file or directory"))
    return found


def read_only(path: str) -> bool:
    """No write permission bit at all (root could write it anyway: the mode says it is not meant to be)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK)


def _write_atomically(path: str, data: bytes) -> None:
    """Replace the file in one rename, so an interrupted fix never leaves half a manifest; a file with
    several hard links is rewritten in place instead, since a rename would cut it off from the others."""
    target = os.path.realpath(path)  # through a symlink: replace the file, not the link
    if os.stat(target).st_nlink > 1:
        with open(target, "r+b") as out:
            out.write(data)
            out.truncate()
            out.flush()
            os.fsync(out.fileno())
        return
    folder = os.path.dirname(target) or "."
    handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(target)}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, os.stat(target).st_mode & 0o7777)
        os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def _diff(old: str, new: str, label: str) -> list[str]:
    lines = list(difflib.unified_diff(_LINES.findall(old), _LINES.findall(new),
                                      fromfile=f"a/{label}", tofile=f"b/{label}"))
    # As diff(1) and git do, so patch(1) can apply it to a file without a final newline.
    return [line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines]


def _parser() -> argparse.ArgumentParser:
    from ..cli import add_gateway_api_version_argument

    parser = argparse.ArgumentParser(
        prog="kexlint fix",
        description="Rewrite deprecated apiVersions (Ingress, workloads, NetworkPolicy, PodDisruptionBudget, "
                    "CronJob, RBAC, ...) to their replacements in place, keeping comments and formatting.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="YAML or JSON files, or directories searched for *.yaml, *.yml and *.json; "
                             "- reads stdin "
                             "and writes the result to stdout")
    parser.add_argument("--diff", action="store_true",
                        help="print a unified diff instead of writing; exit 1 if anything would change")
    parser.add_argument("--kube-version", metavar="X.Y",
                        help="target Kubernetes version: convert what is deprecated there (default: "
                             f"kube-version from .kexlint.yaml, else {DEFAULT_KUBE_VERSION})")
    add_gateway_api_version_argument(parser)
    parser.add_argument("-c", "--config", metavar="FILE", help="config file (default: .kexlint.yaml nearby)")
    parser.add_argument("--no-config", action="store_true", help="ignore any .kexlint.yaml")
    return parser


def _plan(args: argparse.Namespace) -> Plan:
    from ..cli import resolve_config  # the CLI's config handling, so fix and lint agree

    # resolve_config reads the lint options too; fix has no use for them.
    args.node_port_range, args.disable, args.fail_on = None, [], None
    config = resolve_config(args)
    rule = rules_by_id()["deprecated-api"]
    setting = config.rules.get(rule.id)
    params = {**rule.params, **(setting.params if setting else {})}
    return Plan.from_rule_params(params["apis"], config.settings.kube_version, config.settings.gateway_api_version)


def run(argv: list[str]) -> int:
    """`kexlint fix [--diff] [--kube-version X.Y] PATH...`: 0 done (or nothing to change with --diff),
    1 with --diff when something would change, 2 when some input could not be read or parsed."""
    args = _parser().parse_args(argv)
    plan = _plan(args)
    status = EXIT_OK
    changes = False
    for item in _yaml_files(args.paths):
        if isinstance(item, tuple):
            print(f"kexlint fix: {item[0]}: {item[1]}", file=sys.stderr)
            status = EXIT_ERROR
            continue
        outcome = _fix_one(item, plan, args.diff)
        if outcome is None:
            status = EXIT_ERROR
        changes = changes or bool(outcome)
    if status == EXIT_OK and args.diff and changes:
        return EXIT_CHANGES
    return status


def _fix_one(path: str, plan: Plan, diff: bool) -> bool | None:
    """Fix one file or stdin: whether it changed (or would), None after an error."""
    name = "<stdin>" if path == STDIN else path
    try:
        if path == STDIN:
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise InputError(f"file is over the {MAX_FILE_BYTES >> 20} MiB limit", 1)
        text, encode = _codec(data)
    except OSError as err:
        print(f"kexlint fix: {name}: cannot read: {err.strerror}", file=sys.stderr)
        return None
    except InputError as err:
        print(f"kexlint fix: {name}:{err.line}: {err.message}", file=sys.stderr)
        return None
    if path != STDIN and not diff and read_only(path):
        print(f"kexlint fix: {name}: read-only file, left unchanged (make it writable to fix it)", file=sys.stderr)
        return None
    try:
        result = fix_json(text, plan) if looks_like_json(path if path != STDIN else "", text) else fix_text(text, plan)
    except InputError as err:
        where = f"{err.line}:{err.column}" if err.column else f"{err.line}"
        print(f"kexlint fix: {name}:{where}: {err.message}; file left unchanged", file=sys.stderr)
        if path == STDIN and not diff:
            sys.stdout.buffer.write(data)
        return None
    for note in result.notes:
        print(f"kexlint fix: {name}: {note}", file=sys.stderr)
    new = encode(result.text) if result.text != text else data
    changed = new != data
    if diff:
        if changed:
            label = name if path == STDIN else path
            sys.stdout.writelines(_diff(text, result.text, label))
        # What could not be converted is still to be done by hand: --diff says so with exit 1 too.
        return changed or any("not converted" in note for note in result.notes)
    if path == STDIN:
        sys.stdout.buffer.write(new)
        sys.stdout.flush()
    elif changed:
        try:
            _write_atomically(path, new)
        except OSError as err:
            print(f"kexlint fix: {name}: cannot write: {err.strerror}", file=sys.stderr)
            return None
    if changed:
        print(f"fixed {name}: {', '.join(result.converted)}", file=sys.stderr)
    return changed
