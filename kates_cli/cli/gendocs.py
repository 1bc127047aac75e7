"""Generates the committed man pages (man/) and shell completion scripts (completions/) from the one CLI
definition, and checks that the committed files are current: `python -m kates_cli.cli.gendocs [--check] [ROOT]`.

Invariants: output is deterministic (no dates, sorted where order is free), so an unchanged CLI regenerates
byte-identical files and the check compares bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import ExitCode
from .recording import FORMAT as RECORDING_FORMAT
from .replay import PROTOCOL as REPLAY_PROTOCOL
from .replay import STATUS as REPLAY_STATUS
from .watch import METRICS_PARAGRAPHS, RESYNC_HELP

EXIT_CODES = [
    (ExitCode.SUCCESS, "done"),
    (ExitCode.ERROR, "any failure without a more specific code"),
    (ExitCode.USAGE, "bad flags or arguments, unknown resource type, bad selector, malformed input or query"),
    (ExitCode.CONFIG, "kubeconfig missing, unreadable or inconsistent"),
    (ExitCode.NOT_FOUND, "a named object does not exist"),
    (ExitCode.FORBIDDEN, "not allowed (403) or not authenticated (401)"),
    (ExitCode.UNREACHABLE, "the API server cannot be reached, or timed out"),
    (ExitCode.CONFLICT, "409: stale resourceVersion, or the object already exists"),
    (ExitCode.INVALID, "422: the server rejected the object as invalid"),
    (
        ExitCode.HOOK_FAILED,
        "watch: the hook failed --max-failures times in a row; replay: a run hit --hook-timeout",
    ),
    (
        ExitCode.FENCED,
        "a write in a leader's hook not sent: no permit from a watcher holding its lease; or a write in a kates "
        "replay hook without --allow-writes",
    ),
    (ExitCode.TIMEOUT, "wait: the --timeout passed before the conditions held"),
    (ExitCode.INTERRUPTED, "SIGINT or SIGTERM"),
]

WATCH_SECTIONS = [
    (
        "HOOK PROTOCOL",
        [
            "The hook is executed directly (no shell) in its own process group, with the snapshot on standard "
            "input: one JSON object keyed by query name, each value a list of full objects ordered by namespace, "
            "then name. Equal states give byte-identical snapshots.",
            "Projections: a query ending in jq=FILTER (the rest of the query, verbatim) puts the filter's results "
            "for each object in the snapshot instead of the object (none: the object is left out; several: all, "
            "in order; each encoded as objects are), and a run happens only when they change: with a filter "
            "reading only .spec, a status update starts no run. Its deltas name the objects whose results "
            "appeared (add), changed (update) or disappeared (delete). A filter that does not compile is a usage "
            "error before any request; one that fails on an object ends kates with status 1 and one line naming "
            "the query and the object (write (...)? or try (...) catch empty to drop such objects instead). Reads "
            "by the hook (kates get) still answer whole objects.",
            "Environment: KATES_SNAPSHOT_SHA256 is the hex SHA-256 digest of the exact standard input. "
            "KATES_DELTAS names a file holding the JSON list of changes since the previous run "
            '(each {"type": add|update|delete, "query", "apiVersion", "kind", "namespace", "name"}); KATES_RUN '
            "counts the runs before this one; KATES_FAILURES counts failed runs in a row; KUBECONFIG, "
            "KATES_CONTEXT and KATES_NAMESPACE name the cluster kates watches; KATES_WRITE_SOCKET lets kates "
            "commands run by the hook report their writes.",
            "Exit status 0 is success. Any other status, or running longer than --hook-timeout, is a failure: the "
            "run is retried with capped exponential backoff (--max-backoff) and the newest snapshot, and "
            "--max-failures failures in a row end kates with status 9. The hook's stdout and stderr pass through.",
        ],
    ),
    (
        "COALESCING",
        [
            "Nothing runs until every query has listed everything (an empty list counts). Never two runs at "
            "once: changes that arrive during a run are coalesced into one next run with the newest state. A "
            "relist that changes nothing runs nothing (only --resync runs without a change: RESYNC). --debounce "
            "waits for quiet before a run.",
        ],
    ),
    (
        "COHERENCE",
        [
            "Writes made by kates create, update, update-status, patch and delete inside the hook are reported to "
            "the watching kates before the command returns, so they are in the very next snapshot even before "
            "the watch delivers them, and a late watch event never rolls them back. A write outside a query's "
            "namespace or selectors never appears in it. If the report fails, the write still succeeds.",
            "Fenced writes (--leader-elect): the hook's environment also has KATES_FENCED_WRITES=1, and a write "
            "by kates inside the hook is sent only with a permit from the watching kates, granted while it holds "
            "its lease and checked the moment before the request leaves. Without one (the lease lost; the watcher "
            "stopped, frozen or gone; the permit expired) nothing is sent and kates exits with status 10. A server "
            "dry run needs no permit.",
        ],
    ),
    ("RESYNC", [RESYNC_HELP.removeprefix("RESYNC: ")]),
    ("RECORDING", [RECORDING_FORMAT]),
    ("METRICS, PROBES AND LOGS", list(METRICS_PARAGRAPHS)),
    (
        "SIGNALS",
        [
            "SIGINT and SIGTERM are forwarded to the running hook's process group; kates waits up to "
            "--grace-period for it, then kills it, and exits with status 130.",
        ],
    ),
]


REPLAY_SECTIONS = [
    ("HOOK PROTOCOL", [REPLAY_PROTOCOL]),
    ("REPLAY EXIT STATUS", [REPLAY_STATUS]),
    ("RECORDING", [RECORDING_FORMAT]),
    (
        "WRITES",
        [
            "Unless --allow-writes, the hook's environment has KATES_REPLAY=1, and kates inside it sends no create, "
            "update, update-status, patch or delete: the command fails with `error: write refused: the hook runs "
            "under kates replay (KATES_REPLAY is set), which changes no cluster` and status 10 before making any "
            "request. A server dry run is allowed; reads are not refused.",
        ],
    ),
]

SECTIONS = {"watch": WATCH_SECTIONS, "replay": REPLAY_SECTIONS}


def _esc(text: str) -> str:
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.splitlines():
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.strip().split("\n\n") if p.strip()]


def _options(cmd: Any) -> list[str]:
    out = []
    for param in cmd.params:
        if param.param_type_name != "option" or getattr(param, "hidden", False):
            continue
        names = ", ".join(f"\\fB{_esc(o)}\\fR" for o in [*param.opts, *param.secondary_opts])
        longest = max(param.opts, key=len).lstrip("-").replace("-", "_").upper()
        metavar = "" if param.is_flag else f" \\fI{_esc(param.metavar or longest)}\\fR"
        out += [".TP", names + metavar, _esc(param.help or "")]
    out += [".TP", "\\fB\\-h\\fR, \\fB\\-\\-help\\fR", "Show the help and exit."]
    return out


def _page(name: str, cmd: Any, synopsis: str, extra: list[tuple[str, list[str]]]) -> str:
    title = name.upper()
    help_text = cmd.help or ""
    paras = _paragraphs(help_text)
    lines = [
        f'.TH {_esc(title)} 1 "" "kates {__version__}" "kates manual"',
        ".SH NAME",
        f"{_esc(name)} \\- {_esc(paras[0] if paras else '')}",
        ".SH SYNOPSIS",
        f".B {_esc(name.replace('-', ' ', 1))}",
        _esc(synopsis),
        ".SH DESCRIPTION",
    ]
    for p in paras:
        lines += [_esc(p), ".PP"]
    if lines[-1] == ".PP":
        lines.pop()
    lines += [".SH OPTIONS", *_options(cmd)]
    for section, texts in extra:
        lines.append(f".SH {_esc(section)}")
        for i, t in enumerate(texts):
            if i:
                lines.append(".PP")
            lines.append(_esc(t))
    lines.append(".SH EXIT STATUS")
    for code, text in EXIT_CODES:
        lines += [".TP", f"\\fB{int(code)}\\fR", _esc(text)]
    lines += [".SH SEE ALSO", _esc("kates(1), kubectl(1)") if name != "kates" else "kubectl(1)"]
    return "\n".join(lines) + "\n"


def man_pages() -> dict[str, str]:
    import click
    import typer

    from .app import app

    root = typer.main.get_command(app)
    assert isinstance(root, click.Group)
    ctx = click.Context(root)
    commands: dict[str, Any] = {n: root.get_command(ctx, n) for n in root.list_commands(ctx)}
    pages = {}
    names = sorted(commands)
    see = ", ".join(f"kates\\-{n}(1)" for n in names)
    root_extra = [("COMMANDS", [f"kates {n}: {commands[n].get_short_help_str(200)}" for n in names])]
    pages["kates.1"] = _page("kates", root, "[GLOBAL OPTIONS] COMMAND [ARGS]...", root_extra).replace(
        "kubectl(1)\n", f"{see}, kubectl(1)\n"
    )
    for n in names:
        cmd = commands[n]
        args = " ".join(p.human_readable_name for p in cmd.params if p.param_type_name == "argument")
        extra = SECTIONS.get(n, [])
        pages[f"kates-{n}.1"] = _page(f"kates-{n}", cmd, f"[OPTIONS] {args}".strip(), extra)
    return pages


def completion_scripts() -> dict[str, str]:
    from .completion import SHELLS, script

    return {filename: script(shell) for shell, filename in SHELLS.items()}


def generated() -> dict[str, str]:
    """Relative path -> content, for every generated file."""
    files = {f"man/{k}": v for k, v in man_pages().items()}
    files.update({f"completions/{k}": v for k, v in completion_scripts().items()})
    return files


def stale(root: Path) -> list[str]:
    """Generated files that are missing or differ from what the CLI generates now."""
    out = []
    for rel, content in sorted(generated().items()):
        path = root / rel
        if not path.exists() or path.read_text() != content:
            out.append(rel)
    return out


def main(argv: list[str]) -> int:
    check = "--check" in argv
    rest = [a for a in argv if a != "--check"]
    root = Path(rest[0]) if rest else Path.cwd()
    if check:
        bad = stale(root)
        for rel in bad:
            print(f"stale: {rel} (run: nox -s gen)", file=sys.stderr)
        return 1 if bad else 0
    for rel, content in generated().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
