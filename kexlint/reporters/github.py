"""GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per finding.

Escaping follows the runner: `%`, CR and LF in the message; additionally `:` and `,` in property
values (file, title), which the runner splits on. A rendered source (kustomize) is annotated on
its kustomization file without a line, since its line numbers are those of the rendered stream.
"""

from __future__ import annotations

from . import Report, summary_line

_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(command: str, file: str | None, line: int | None, column: int | None,
                title: str, message: str) -> str:
    props = []
    if file:
        props.append(f"file={_property(file)}")
        if line:
            props.append(f"line={line}")
        if column:
            props.append(f"col={column}")
    props.append(f"title={_property(title)}")
    return f"::{command} {','.join(props)}::{_data(message)}"


def render(report: Report) -> str:
    lines = []
    for p in report.result.problems:
        origin = report.origin(p.file)
        if origin is not None:
            lines.append(_annotation("error", origin, None, None, "kexlint: input error", f"{p.file}: {p.message}"))
        else:
            lines.append(_annotation("error", p.file, p.line, p.column, "kexlint: input error", p.message))
    for f in report.active:
        message = f"{f.message} ({f.object})\nfix: {f.fix}"
        origin = report.origin(f.file)
        template = report.template(f.file, f.line)
        if template is not None:
            lines.append(_annotation(_COMMANDS[f.level], origin, None, None, f"kexlint {f.rule}",
                                     f"{f.file}, line {f.line} of the rendered output (template {template[0]}, "
                                     f"line {template[1]}): {message}"))
        elif origin is not None:
            lines.append(_annotation(_COMMANDS[f.level], origin, None, None, f"kexlint {f.rule}",
                                     f"{f.file}, line {f.line} of the rendered output: {message}"))
        else:
            lines.append(_annotation(_COMMANDS[f.level], f.file, f.line, f.column, f"kexlint {f.rule}", message))
    lines.append("kexlint: " + summary_line(report))
    return "\n".join(lines) + "\n"
