"""Command line: argument parsing and exit codes only; the work happens in lint/engine/reporters."""

from __future__ import annotations

import argparse
import gc
import os
import sys

from . import __version__
from .config import (
    DEFAULT_GATEWAY_API_VERSION,
    DEFAULT_KUBE_VERSION,
    Config,
    ConfigError,
    RuleSetting,
    find_config,
    load_config,
    parse_gateway_api_version,
    parse_kube_version,
    parse_port_range,
)
from .context import ContextError, add_context_arguments, use_context
from .engine import Engine
from .findings import LEVEL_RANK, LEVELS
from .lint import STDIN, Linter, LintResult, expand_paths
from .loader import MAX_FILE_BYTES, PARSER_ENV, PARSERS, selected_parser, use_parser
from .parallel import lint_items
from .paths import PathFilter
from .progress import Progress
from .records import replace
from .registry import RuleFileError, builtin_rules, rules_by_id
from .sources import HelmOptions

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from pathlib import Path
    from typing import Any, TextIO

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
COLOR_CHOICES = ("auto", "always", "never")
SUBCOMMANDS = ("lint", "rules", "explain", "webhook", "fix", "audit")


class UsageError(Exception):
    pass


# Set by kexlint.__main__, which starts the CLI with the garbage collector off (see there).
gc_paused = False


def resume_gc() -> None:
    """The collector back on, once start-up is done, ignoring what start-up allocated (gc.freeze):
    those objects live to the end, and walking them at each full collection is pure cost."""
    global gc_paused
    if gc_paused:
        gc_paused = False
        gc.freeze()
        gc.enable()


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, asking the terminal's width only when help is printed. add_argument
    builds a formatter just to check each metavar, and HelpFormatter's own __init__ imports shutil
    for the width: ~4 ms of a one-file lint (python -c 'import yaml, shutil' against 'import yaml')."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None, **kwargs: Any) -> None:
        super().__init__(prog, indent_increment, max_help_position, 1 << 16 if width is None else width, **kwargs)
        if width is None:
            self._wanted_position = max_help_position
            del self._width, self._max_help_position  # computed by __getattr__ when first read

    def __getattr__(self, name: str) -> Any:
        if name not in ("_width", "_max_help_position") or "_wanted_position" not in self.__dict__:
            raise AttributeError(name)
        import shutil

        # As HelpFormatter.__init__ computes them with width=None.
        width = shutil.get_terminal_size().columns - 2
        self._width = width
        self._max_help_position = min(self._wanted_position, max(width - 20, self._indent_increment * 2))
        return self.__dict__[name]


def _lint_parser() -> argparse.ArgumentParser:
    from .reporters import FORMATS

    parser = argparse.ArgumentParser(
        prog="kexlint",
        formatter_class=_HelpFormatter,
        description="Lint Kubernetes manifests for risky or broken pod exposure: hostNetwork, hostPort, "
                    "NodePort, LoadBalancer, Ingress. Other commands: kexlint audit | rules | explain RULE | "
                    "fix FILE | webhook …",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="manifest files or directories (*.yaml, *.yml, *.json); - reads stdin")
    parser.add_argument("-f", "--format", choices=FORMATS, default="text")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("-c", "--config", metavar="FILE",
                        help="config file (default: .kexlint.yaml in the working directory or a parent)")
    parser.add_argument("--no-config", action="store_true", help="ignore any .kexlint.yaml")
    parser.add_argument("--kube-version", metavar="X.Y",
                        help=f"target Kubernetes version (default {DEFAULT_KUBE_VERSION})")
    add_gateway_api_version_argument(parser)
    parser.add_argument("--node-port-range", metavar="RANGE",
                        help="the apiserver's --service-node-port-range (default 30000-32767)")
    parser.add_argument("--fail-on", choices=(*LEVELS, "never"),
                        help="lowest level that makes the exit code 1 (default error)")
    parser.add_argument("--disable", action="append", default=[], metavar="RULE", help="turn a rule off")
    parser.add_argument("--show-suppressed", action="store_true", help="also list suppressed findings")
    parser.add_argument("--stdin-filename", metavar="NAME", default="<stdin>",
                        help="name to report for findings read from stdin")
    parser.add_argument("--max-file-size", type=float, metavar="MIB", default=MAX_FILE_BYTES / 2**20,
                        help="refuse files larger than this many MiB (default %(default)g)")
    parser.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                        help="do not read paths matching this gitignore-style pattern, relative to the "
                             "working directory (repeatable; adds to exclude-paths in .kexlint.yaml)")
    parser.add_argument("--helm-values", action="append", default=[], metavar="FILE",
                        help="values file for rendering Helm charts (helm template --values; repeatable)")
    parser.add_argument("--helm-set", action="append", default=[], metavar="KEY=VALUE",
                        help="value for rendering Helm charts (helm template --set; repeatable)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="text format: only the finding and error lines (no source, fix or summary)")
    parser.add_argument("--no-fix", action="store_true", help="text format: leave out the fix hints")
    parser.add_argument("--color", choices=COLOR_CHOICES, default="auto",
                        help="colour the text output: auto (on a TTY, unless NO_COLOR is set), always, "
                             "never; --color alone means always")
    parser.add_argument("-j", "--jobs", type=_jobs, metavar="N",
                        help="lint files in N processes (default: the cores available; 1: no pool)")
    parser.add_argument("--parser", choices=PARSERS,
                        help=f"YAML parser (default ${PARSER_ENV}, else libyaml; rapidyaml needs "
                             "pip install 'kexlint[rapidyaml]')")
    parser.add_argument("--version", action="version", version=f"kexlint {__version__}")
    add_context_arguments(parser)
    return parser


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def add_gateway_api_version_argument(parser: argparse.ArgumentParser) -> None:
    """--gateway-api-version, shared by lint and fix so that both judge the same CRD versions."""
    parser.add_argument("--gateway-api-version", metavar="X.Y",
                        help="target Gateway API release, whose CRD versions deprecated-api and fix go by "
                             f"(default: gateway-api-version from .kexlint.yaml, else {DEFAULT_GATEWAY_API_VERSION})")


def resolve_config(args: argparse.Namespace) -> Config:
    """The config file, then command-line overrides on top."""
    known = set(rules_by_id())
    path: Path | str | None = None
    if args.config:
        from pathlib import Path  # as the path is shown in messages (`./a//b` as `a/b`)

        path = Path(args.config)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
    elif not args.no_config:
        path = find_config(os.getcwd())
    config = load_config(path, known)
    settings = config.settings
    try:
        if args.kube_version:
            settings = replace(settings, kube_version=parse_kube_version(args.kube_version))
        # audit has no such option: getattr, as its namespace lacks the attribute.
        if getattr(args, "gateway_api_version", None):
            settings = replace(settings, gateway_api_version=parse_gateway_api_version(args.gateway_api_version))
        if args.node_port_range:
            settings = replace(settings, node_port_range=parse_port_range(args.node_port_range))
    except ValueError as err:
        raise UsageError(str(err)) from None
    rules = dict(config.rules)
    for rule_id in args.disable:
        if rule_id not in known:
            raise UsageError(f"--disable {rule_id}: no such rule (see `kexlint rules`)")
        rules[rule_id] = RuleSetting(enabled=False)
    return replace(config, settings=settings, rules=rules, fail_on=args.fail_on or config.fail_on)


def _use_color(choice: str, stream: object) -> bool:
    if choice != "auto":
        return choice == "always"
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


def bare_color(argv: list[str]) -> list[str]:
    """`--color` without a value means always, and the word after it stays a PATH unless it is one
    of the choices (argparse's nargs="?" would take `--color deploy/` as an invalid colour)."""
    out = []
    for index, arg in enumerate(argv):
        if arg == "--":
            return out + argv[index:]
        if arg == "--color" and (index + 1 == len(argv) or argv[index + 1] not in COLOR_CHOICES):
            arg = "--color=always"
        out.append(arg)
    return out


def path_filter(args: argparse.Namespace, config: Config) -> PathFilter:
    """exclude-paths relative to the config's folder, --exclude relative to the working directory."""
    paths = PathFilter()
    if config.exclude_paths and config.path:
        paths.add(os.path.dirname(os.path.abspath(config.path)), config.exclude_paths)
    paths.add(os.getcwd(), args.exclude)
    return paths


def open_output(path: str) -> TextIO:
    """The -o file, or one line saying why it cannot be written (before any linting is done)."""
    try:
        return open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by run_lint
    except OSError as err:
        raise UsageError(f"-o {path}: cannot write: {err.strerror}") from None


def run_lint(argv: list[str]) -> int:
    from .reporters import Report, render

    args = _lint_parser().parse_args(bare_color(argv))
    if args.parser:
        select_parser(args.parser)
    if not args.paths:
        raise UsageError("no paths given (use - for stdin; see kexlint --help)")
    config = resolve_config(args)
    engine = Engine(builtin_rules(), config)
    text_details = args.format == "text" and not args.quiet
    linter = Linter(engine, max_bytes=int(args.max_file_size * 2**20), track_objects=args.format == "junit",
                    helm=HelmOptions(tuple(args.helm_values), tuple(args.helm_set)), excerpts=text_details)
    if STDIN in args.paths and STDIN in args.context:
        raise UsageError("stdin (-) can be either a PATH or a --context, not both")
    out = open_output(args.output) if args.output else sys.stdout
    stdin = sys.stdin.buffer if STDIN in args.paths or STDIN in args.context else None
    resume_gc()  # before any input is read: a large one may well make garbage cycles
    linter.result.problems.extend(use_context(linter.run, engine, args, stdin, linter.max_bytes))
    try:
        progress = Progress(sys.stderr, linter.result)
        lint_items(linter, expand_paths(args.paths, path_filter(args, config)), args.jobs, stdin,
                   args.stdin_filename, progress.tick)
        progress.done()
        result = linter.finish()
        report = Report(result, builtin_rules(), args.show_suppressed, _use_color(args.color, out),
                        quiet=args.quiet, fix_hints=not args.no_fix)
        out.write(render(args.format, report))
    finally:
        if args.output:
            out.close()
    return exit_code(result, config.fail_on)


def select_parser(name: str) -> None:
    """The YAML parser, or one line saying why it cannot be used (before anything is read)."""
    try:
        use_parser(name)
    except (ImportError, ValueError) as err:
        source = "" if name in PARSERS else f"{PARSER_ENV}: "
        raise UsageError(f"{source}{err}") from None


def exit_code(result: LintResult, fail_on: str) -> int:
    """2 for input that could not be read, 1 for unsuppressed findings at or above fail_on, else 0."""
    if result.problems:
        return EXIT_USAGE
    if fail_on == "never":
        return EXIT_OK
    threshold = LEVEL_RANK[fail_on]
    failing = any(f.suppressed is None and LEVEL_RANK[f.level] >= threshold for f in result.findings)
    return EXIT_FINDINGS if failing else EXIT_OK


def run_rules(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kexlint rules", description="List the rules.")
    parser.parse_args(argv)
    rules = builtin_rules()
    width = max(len(rule.id) for rule in rules)
    for rule in rules:
        state = rule.level if rule.enabled else f"{rule.level} (off by default)"
        print(f"{rule.id:<{width}}  {state:<8}  {rule.summary}")
    return EXIT_OK


def run_explain(argv: list[str]) -> int:
    from .explain import explain

    parser = argparse.ArgumentParser(prog="kexlint explain", description="Print a rule's documentation.")
    parser.add_argument("rule")
    args = parser.parse_args(argv)
    rule = rules_by_id().get(args.rule)
    if rule is None:
        raise UsageError(f"no rule {args.rule!r}; `kexlint rules` lists them")
    sys.stdout.write(explain(rule))
    return EXIT_OK


def run_webhook(argv: list[str]) -> int:
    try:
        from .webhook.commands import run
    except ImportError as err:
        raise UsageError(f"the webhook needs extra packages: pip install 'kexlint[webhook]' ({err})") from None
    return run(argv)


def run_fix(argv: list[str]) -> int:
    try:
        from .fix import run
    except ImportError as err:
        raise UsageError(f"kexlint fix needs extra packages: pip install 'kexlint[fix]' ({err})") from None
    return run(argv)


def run_audit(argv: list[str]) -> int:
    from .audit import run

    return run(argv)


COMMANDS = {"audit": run_audit, "lint": run_lint, "rules": run_rules, "explain": run_explain, "webhook": run_webhook,
            "fix": run_fix}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = run_lint
    if argv and argv[0] in COMMANDS:
        command = COMMANDS[argv.pop(0)]
    if command is not run_lint:
        resume_gc()  # the webhook and the other commands run with the collector from the start
    try:
        if os.environ.get(PARSER_ENV):
            select_parser(selected_parser())
        return command(argv)
    except (UsageError, ConfigError, RuleFileError, ContextError) as err:
        print(f"kexlint: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `kexlint … | head`: the reader left; say nothing more.
        sys.stderr.close()
        return EXIT_FINDINGS
