"""cli/app.py's `exit_now`: once the command has returned, the process ends at once, its output flushed and its
atexit callbacks run, but never while a thread that is not a daemon could still need the interpreter's ordinary
exit (which waits for it)."""

from __future__ import annotations

import subprocess
import sys


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_the_process_ends_with_the_code_and_the_buffered_output() -> None:
    proc = run(
        "import sys; from kates_cli.cli.app import exit_now\n"
        "sys.stdout.write('buffered'); sys.stderr.write('err')\n"
        "exit_now(7)\n"
        "print('not reached')\n"
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (7, "buffered", "err")


def test_atexit_callbacks_run_once_before_the_end() -> None:
    proc = run(
        "import atexit, tempfile, os; from kates_cli.cli.app import exit_now\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "d = tempfile.TemporaryDirectory(); print(os.path.isdir(d.name)); open('/dev/stderr', 'w').write(d.name)\n"
        "exit_now(7)\n"
        "print('not reached')\n"
    )
    assert (proc.returncode, proc.stdout) == (7, "True\natexit ran\n"), proc
    assert not __import__("os").path.exists(proc.stderr)  # weakref.finalize's cleanup ran too


def test_a_running_thread_keeps_the_ordinary_exit() -> None:
    proc = run(
        "import threading; from kates_cli.cli.app import exit_now\n"
        "done = threading.Event(); t = threading.Thread(target=done.wait); t.start()\n"
        "exit_now(7)\n"
        "print('returned'); done.set(); t.join()\n"
    )
    assert (proc.returncode, proc.stdout) == (0, "returned\n")


def test_a_daemon_thread_does_not_keep_it() -> None:
    """The ordinary exit would not wait for a daemon thread either."""
    proc = run(
        "import threading; from kates_cli.cli.app import exit_now\n"
        "threading.Thread(target=threading.Event().wait, daemon=True).start()\n"
        "exit_now(7)\n"
        "print('returned')\n"
    )
    assert (proc.returncode, proc.stdout) == (7, "")


def test_main_with_arguments_always_returns() -> None:
    """Tests and library callers pass argv: main() returns its code, even when a fast path answered."""
    proc = run(
        "import os; os.environ['KUBECONFIG'] = '/nonexistent'; os.environ['KUBECTL_KUBERC'] = 'false'\n"
        "from kates_cli.cli.app import main\n"
        "print('code', main(['get', 'ns']))\n"
    )
    assert proc.stdout.startswith("code "), proc


def test_an_interpreter_without_the_atexit_internals_keeps_the_ordinary_exit() -> None:
    """`atexit._run_exitfuncs` is CPython's: where it is missing, exit_now cannot run the callbacks, so it returns."""
    proc = run(
        "import atexit; del atexit._run_exitfuncs; from kates_cli.cli.app import exit_now\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "exit_now(7)\n"
        "print('returned')\n"
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "returned\natexit ran\n", "")
