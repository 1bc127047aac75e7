"""`main()`: the one error boundary, and the choice between the fast path of a plain `get` and the full command tree
(the root Typer app, cli/root.py, still reachable here as `app`).

Invariants:
- Only `main()` turns exceptions into exit codes (errors.ExitCode) and one-line `error: ...` messages on stderr;
  tracebacks appear only with --debug, and never with local variables.
- The command line is read as kubectl reads it: `argv.normalize` rewrites kubectl's flag spellings (`-n=NS`,
  `--wait=false`, options anywhere, global ones included) into click's before click parses; before that, a kuberc's
  aliases and defaults rewrite it (cli/kuberc.py, imported only when a kuberc may apply).
- Without a kuberc, the commonest `get` command lines (cli/fastget.py states which) are parsed without typer or
  click, and run by the same `get.run` with the same `State`: the same output and exit code, in less start-up time.
  Likewise a shell's request for the names after `get KIND` (cli/fastcomplete.py). Everything else takes the full
  path; KATES_NO_FASTPATH=1 forces it for both.
- In a kates process a signal never shows a traceback: SIGINT and SIGTERM raise KeyboardInterrupt only while a
  command runs (outside imports); before and after, they exit 130 at once (kates_cli/__init__.py).
- Importing this module imports neither typer nor click, nor the `kubernetes` package, and builds no client.
- As a process, the full path builds its command tree with the cyclic collector paused, then frozen, and a `watch`
  pauses it until its first take (cli/collector.py); called with `argv`, `main` leaves the collector alone, a
  `watch` included.
- As a process, once the command has returned, kates ends at once with its exit code once its output is flushed and
  its atexit callbacks have run, skipping the interpreter's teardown (`exit_now`), unless a thread that is not a
  daemon remains; called with `argv` (tests, a library), `main` always returns.
"""

from __future__ import annotations

import codecs
import io
import os
import sys
from collections.abc import Sequence
from types import FrameType

from .. import _exit_interrupted
from ..errors import ExitCode, KatesError, OutputError
from . import collector, fastget, fastwatch

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B0)
if TYPE_CHECKING:
    import signal
    from typing import Any

    import typer

    app: typer.Typer
else:  # signal's own C module (the same functions and numbers): `signal` makes its enums, 0.8 ms of every start
    import _signal as signal

# command -> the module whose register() defines it (cli/root.py builds each on first use)
COMMANDS = {
    "version": "info",
    "api-resources": "info",
    "get": "getcommand",
    "create": "write",
    "update": "write",
    "update-status": "write",
    "patch": "write",
    "delete": "delete",
    "logs": "logs",
    "watch": "watch",
    "replay": "replay",
    "wait": "wait",
    "rbac": "rbac",
    "completion": "completion",
}


def __getattr__(name: str) -> Any:
    """`app` (the root click command, built with Typer) and its parts live in cli/root.py, imported on first use: the
    commonest `kates get` (cli/fastget.py) never builds them."""
    if name in ("app", "LazyGroup", "root"):
        from . import root

        return getattr(root, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


COMPLETE_VAR = "_KATES_COMPLETE"  # set by the completion scripts (cli/completion.py) when the shell asks


def parse_duration(text: str, flag: str | None = None) -> float:
    """A Go duration (`30s`, `1m30s`, `500ms`, `2h`) -> seconds; a UsageError in pflag's words otherwise (see
    durations.py)."""
    from .durations import parse_duration as parse

    return parse(text, flag)


_json_errors = False  # `kates watch --log-format json`: the final error line is a JSON object too


def json_errors(on: bool = True) -> None:
    """From now on, `_error` writes one JSON log line (cli/events.py's form) instead of `error:` and `hint:`, and so
    does an interrupt's line (kates_cli/__init__.py)."""
    global _json_errors
    _json_errors = on
    import kates_cli

    kates_cli._json_log = on


def _json_log_asked(argv: list[str]) -> bool:
    """Whether the command line asks for `--log-format json` (before click has parsed it: a usage error click finds
    is then a JSON line too)."""
    words = argv[: argv.index("--")] if "--" in argv else argv
    return "--log-format=json" in words or any(
        words[i] == "--log-format" and words[i + 1] == "json" for i in range(len(words) - 1)
    )


def _error(message: str, hint: str | None = None) -> None:
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    if _json_errors:
        import time

        from .events import json_line

        sys.stderr.write(json_line(time.time(), "error", "error", first, {"hint": hint} if hint else {}))
        return
    sys.stderr.write(f"error: {first}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run kates; return its exit code. The only place exceptions become exit codes. Called without `argv` it is
    the process (a console script, `python -m kates_cli`): SIGINT and SIGTERM then interrupt the command, and once
    it has ended they end the process at once with status 130, so that no moment shows a traceback."""
    process = argv is None
    try:
        try:
            if process:
                _interrupts(raise_=True)
                _complete_writes_to_stdout()
                _argv_bytes_to_stderr()
            if process:
                collector.own()  # the collector is this process's to pause (cli/collector.py)
            code = _flushed(_run(list(sys.argv[1:] if argv is None else argv)))
        finally:
            if process:
                _interrupts(raise_=False)
    except KeyboardInterrupt:  # one that arrived while the command's end was being reported
        if process:
            _interrupts(raise_=False)
        _error("interrupted")
        return int(ExitCode.INTERRUPTED)
    if process:
        exit_now(code)
    return code


def exit_now(code: int) -> None:
    """End the process with `code` at once, without the interpreter's finalisation (tearing down every module and
    freeing every object: about 10 ms of a one-shot `get`, 30 ms after a watch of 16,000 objects, measured), once
    stdout and stderr are flushed and the atexit callbacks have run; or return, leaving the ordinary exit to the
    caller, when anything could still need it: a thread that is not a daemon (the ordinary exit waits for it), an
    interpreter without CPython's atexit internals, or output that cannot be flushed. Daemon threads end with the
    process either way. Called by `main` when it is the process, after the command has returned."""
    import atexit

    threading = sys.modules.get("threading")
    if threading is not None:
        main_thread = threading.main_thread()
        if any(t is not main_thread and not t.daemon and t.is_alive() for t in threading.enumerate()):
            return
    run_callbacks = getattr(atexit, "_run_exitfuncs", None)  # CPython's; elsewhere, never skip the ordinary exit
    if run_callbacks is None:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    run_callbacks()  # each once: CPython clears them after running them
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code)


def _completion_policy() -> Any:
    from . import kuberc

    return kuberc.plugin_policy()


def _kuberc_may_apply(argv: list[str]) -> bool:
    """Whether kuberc.apply could change anything: without a kuberc, a plain `kates get` imports none of it."""
    if any(arg.startswith("--kuberc") for arg in argv):
        return True  # also when kuberc is off: kuberc.apply then refuses the flag, as kubectl does
    switch = os.environ.get("KUBECTL_KUBERC")
    if switch is not None and switch.lower() == "false":
        return False  # kuberc off (the test suite's setting): nothing to apply, so a plain get may take the fast path
    if os.environ.get("KUBERC") or switch:
        return True
    return os.path.exists(os.path.join(os.path.expanduser("~"), ".kube", "kuberc"))


def _run(argv: list[str]) -> int:
    json_errors(_json_log_asked(argv))
    prog = "kubectl kates" if os.path.basename(sys.argv[0]) == "kubectl-kates" else "kates"
    debug = "--debug" in argv
    try:
        instruction = os.environ.get(COMPLETE_VAR)
        if instruction:
            if _kuberc_may_apply([]):  # names may need the user's exec plugin: the kuberc's policy holds
                from ..core import pluginpolicy

                pluginpolicy.set_loader(_completion_policy)  # read only if a plugin is about to run
            from . import fastcomplete

            answered = fastcomplete.answer(instruction) if fastget.enabled() else None  # names after `get`
            if answered is not None:
                return answered
            from . import completion

            collector.pause()  # a one-shot answer: the process ends before any pass would be due
            return completion.run_shell_completion(instruction)
        kuberc = _kuberc_may_apply(argv)
        fast_paths = not kuberc and fastget.enabled()
        fast = fastget.parse(argv) if fast_paths else None
        if fast is not None:
            return fastget.run(fast)
        watch = fastwatch.parse(argv) if fast_paths else None
        if watch is not None:
            return fastwatch.run(watch)
        # a process's start (typer, click and the command tree) lives as long as the process: not collected while it
        # is built, then frozen, so that no pass ever rescans it (cli/collector.py)
        pause = collector.pause()
        try:
            import click
            import typer

            from . import warning
            from .argv import normalize
            from .root import app

            command = typer.main.get_command(app)
            assert isinstance(command, click.Group)
            if kuberc:
                from . import kuberc as preferences

                argv = preferences.apply(argv, command, prog)
            args = normalize(argv, command)
        finally:
            pause.end()
        debug = "--debug" in args
        warning.install()
        result = command.main(args=args, prog_name=prog, standalone_mode=False)
        return int(result) if isinstance(result, int) else 0
    except KatesError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        _error(exc.message, exc.hint)
        if isinstance(exc, OutputError):
            _stdout_to_devnull()  # what is still buffered is dropped, not written again (and failed) at the end
        return int(exc.exit_code)
    except KeyboardInterrupt:
        _error("interrupted")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        return _broken_pipe()
    except SystemExit as exc:
        # click catches EPIPE itself and exits 1 without a word; kates exits with its documented code
        if isinstance(exc.__context__, BrokenPipeError):
            return _broken_pipe()
        raise
    except Exception as exc:
        clicks = sys.modules.get("click")  # only click raises its exceptions: not imported, none was raised
        if clicks is not None and isinstance(exc, clicks.exceptions.Exit):
            return int(exc.exit_code)
        if clicks is not None and isinstance(exc, clicks.exceptions.Abort):
            _error("interrupted")
            return int(ExitCode.INTERRUPTED)
        show = getattr(exc, "format_message", None)
        code = getattr(exc, "exit_code", None)
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:  # bare `kates`: help, as kubectl does
            sys.stdout.write(ctx.get_help() + "\n")
            return int(ExitCode.SUCCESS)
        if callable(show) and isinstance(code, int):  # click's usage errors
            _error(str(show()), _usage_hint(exc, prog))
            return int(ExitCode.USAGE)
        if debug:
            import traceback

            traceback.print_exc()
        _error(f"internal error: {type(exc).__name__}: {exc}", "rerun with --debug for a traceback")
        return int(ExitCode.ERROR)


class _WholeWrites(io.RawIOBase):
    """A file descriptor whose write() writes everything or raises. CPython's own stdout gives up silently after a
    partial write (a pipe whose reader left mid-write: `kates get -o yaml | head -1`), so the rest of the output
    was dropped and kates exited 0; here the next write meets EPIPE, and kates exits BROKEN_PIPE."""

    def __init__(self, fd: int):
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        done = 0
        while done < len(view):
            try:
                done += os.write(self._fd, view[done:])
            except ConnectionResetError as exc:  # stdout is a socket and its reader went away: a broken pipe too
                raise BrokenPipeError(*exc.args) from exc
            except BrokenPipeError:
                raise
            except BlockingIOError:  # a non-blocking stdout that is full: wait until it takes more
                import select

                select.select([], [self._fd], [])
            except OSError as exc:  # the output itself failed (a full disk, an I/O error): one line, exit 1
                raise OutputError(f"cannot write the output: {exc.strerror or exc}") from None
        return done


def _complete_writes_to_stdout() -> None:
    """Put stdout's file descriptor behind `_WholeWrites`, with the same encoding and buffering."""
    old = sys.stdout
    try:
        fd = old.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a file descriptor (a test's capture): leave it
    old.flush()
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(_WholeWrites(fd)),
        encoding=old.encoding,
        # bytes of argv that are not UTF-8 (a -o jsonpath literal) reach kates surrogate-escaped; kubectl prints
        # them as they came, and so does this
        errors="surrogateescape",
        line_buffering=bool(getattr(old, "line_buffering", False)),
    )


def _argv_bytes(exc: UnicodeError) -> tuple[str | bytes, int]:
    """An encoding error handler: argv's bytes that are not UTF-8 (surrogate escapes) are written as those bytes,
    as kubectl writes them in its messages; any other unencodable character is backslash-escaped, as before."""
    if isinstance(exc, UnicodeEncodeError):
        chunk = exc.object[exc.start : exc.end]
        if all(0xDC80 <= ord(c) <= 0xDCFF for c in chunk):
            return bytes(ord(c) - 0xDC00 for c in chunk), exc.end
    return codecs.backslashreplace_errors(exc)


def _argv_bytes_to_stderr() -> None:
    """A message quoting a template (`error parsing jsonpath {\xff, ...`) carries its bytes, as kubectl's does."""
    codecs.register_error("kates.argvbytes", _argv_bytes)
    if isinstance(sys.stderr, io.TextIOWrapper):
        sys.stderr.reconfigure(errors="kates.argvbytes")


def _broken_pipe() -> int:
    """The reader of stdout went away (`kates get ... | head`): nothing more can be written, so stop quietly."""
    _stdout_to_devnull()
    return int(ExitCode.BROKEN_PIPE)


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null, as the Python docs advise after a broken pipe, so that the interpreter's flush at
    exit finds nothing to fail on and prints no "Exception ignored" message."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, sys.stdout.fileno())
        finally:
            os.close(null)
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture): replace the object
        sys.stdout = open(os.devnull, "w")


def _flushed(code: int) -> int:
    """`code`, once stdout's buffer is written: a reader that left before the last buffered bytes is a broken pipe
    too, and output that cannot be written is an error (exit 1 unless the command failed already), each found here
    rather than by the interpreter at exit."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return _broken_pipe()
    except (OutputError, OSError) as exc:
        message = exc.message if isinstance(exc, OutputError) else f"cannot write the output: {exc.strerror or exc}"
        _error(message)
        _stdout_to_devnull()
        return code or int(ExitCode.ERROR)
    except ValueError:  # stdout closed by the command: nothing to flush
        pass
    return code


def _usage_hint(exc: Exception, prog: str) -> str:
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or prog
    return f"see '{path} --help'"


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    """KeyboardInterrupt, so that the command cleans up; but inside an import, exit at once: a half-imported module
    has nothing to clean up, and some C extensions crash when their initialisation is interrupted (orjson
    segfaults)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            _exit_interrupted(signum, frame)
        frame = frame.f_back
    raise KeyboardInterrupt


def _interrupts(*, raise_: bool) -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt (while a command runs, so that it cleans up), or end the process
    at once with status 130 (before and after: see kates_cli/__init__.py). An ignored signal stays ignored."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) != signal.SIG_IGN:
            signal.signal(signum, _raise_interrupt if raise_ else _exit_interrupted)
