"""The recording format of `kates watch --record` and `kates replay`'s checks of it (no cluster needed): bytes come
back exactly as written, even where re-encoding the JSON would change them; a line is complete or absent; a bad file
is one `error:` line and exit 2 before any run; a replay needs --exec; completion offers files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from kates_cli.cli import recording
from kates_cli.cli.recording import Record, Recorder, read
from kates_cli.errors import ExitCode, UsageError

# Bytes orjson would not give back if the JSON were parsed and encoded again: an exponent, an escaped character,
# a key order, white space inside strings only.
ODD_SNAPSHOT = b'{"z":[{"n":1E5,"s":"\\u00e9\\/","t":"a\\"b"}],"a":[]}'


def record(run: int = 0, snapshot: bytes = ODD_SNAPSHOT, deltas: bytes = b"[]", **kw: object) -> Record:
    fields: dict[str, object] = {"time": "2026-12-04T20:00:00.000Z", "failures": 0, "context": "c", "namespace": "n"}
    fields.update(kw)
    return Record(run=run, snapshot=snapshot, deltas=deltas, code=0, **fields)  # type: ignore[arg-type]


def test_snapshot_and_deltas_come_back_byte_for_byte(tmp_path: Path) -> None:
    path = str(tmp_path / "r.jsonl")
    # a context that holds the separator kates slices at, deltas with a "snapshot" key of their own
    tricky = record(1, context='x","snapshot":{}', deltas=b'[{"name":"a","snapshot":{"deltas":1E2}}]', result="timeout")
    rec = Recorder(path)
    rec.write(record(0))
    rec.write(tricky)
    rec.close()
    first, second = read(path)
    assert first == record(0) and second == tricky
    assert orjson.dumps(orjson.loads(ODD_SNAPSHOT)) != ODD_SNAPSHOT  # re-encoding would not have given them back
    line = Path(path).read_bytes().split(b"\n")[1]
    assert json.loads(line)["snapshot"] == json.loads(ODD_SNAPSHOT)  # and the line is plain JSON
    assert json.loads(line)["snapshot_sha256"] == recording.sha256(ODD_SNAPSHOT)


def test_one_header_and_append_only(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    for run in range(2):  # two sessions into one file: one header, both lines
        rec = Recorder(str(path))
        rec.write(record(run))
        rec.close()
    assert path.read_bytes().count(b"kates_recording") == 1
    assert [r.run for r in read(str(path))] == [0, 1]
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", '"{p}" is empty, not a kates recording'),
        (b"hello\n", '"{p}" is not a kates recording: its first line is not {{"kates_recording": VERSION}}'),
        (b'{"kates_recording":2}\n', '"{p}" is a kates recording of version 2; this kates reads version 1'),
        (recording.HEADER + b"{not json\n", '"{p}" line 2: not JSON (*)'),
        (recording.HEADER + b"[1]\n", '"{p}" line 2: not a JSON object'),
        (recording.HEADER + record(0).encode()[:-5] + b"\n", '"{p}" line 2: "deltas" is not where kates writes it'),
        (recording.HEADER[:-1], '"{p}" line 1: incomplete (no end of line)'),
        (
            recording.HEADER + record(0).encode().replace(b'"a":[]', b'"a":[ ]'),
            '"{p}" line 2: the snapshot does not match its snapshot_sha256',
        ),
        (
            recording.HEADER + record(0).encode() + record(1).encode().replace(b'"run":1,', b""),
            '"{p}" line 3: no int "run"',
        ),
    ],
)
def test_a_bad_recording_is_one_usage_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(content)
    with pytest.raises(UsageError) as caught:
        read(str(path))
    import fnmatch

    assert fnmatch.fnmatchcase(caught.value.message, message.format(p=path)), caught.value.message


def test_record_refuses_a_file_that_is_not_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my notes\n")
    with pytest.raises(UsageError, match="is not a kates recording"):
        Recorder(str(path))
    assert path.read_text() == "my notes\n"  # untouched
    with pytest.raises(UsageError, match=r'cannot write recording ".*": No such file or directory'):
        Recorder(str(tmp_path / "no" / "dir.jsonl"))


WRITE_PAST_LIMIT = """
import resource, signal, sys
from kates_cli.cli.recording import Record, Recorder
from kates_cli.errors import KatesError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
rec = Recorder(sys.argv[1])
rec.write(Record(0, "t", 0, "c", "n", 0, b'{"a":[]}', b"[]"))
resource.setrlimit(resource.RLIMIT_FSIZE, (150, 150))  # the next line would cross it
try:
    rec.write(Record(1, "t", 0, "c", "n", 0, b'{"a":["' + b"x" * 200 + b'"]}', b"[]"))
except KatesError as exc:
    print(exc.message)
"""


def test_a_line_that_cannot_be_written_whole_is_absent(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    proc = subprocess.run(
        [sys.executable, "-c", WRITE_PAST_LIMIT, str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.stdout == f'cannot write recording "{path}": File too large\n', proc
    assert [r.run for r in read(str(path))] == [0]  # the first line whole, the second not there at all


def kates(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kates_cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=dict(os.environ, KUBECONFIG="/nonexistent/kubeconfig", **env),
    )


def test_replay_checks_the_whole_file_before_any_run(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\necho run >> {ran}\n")
    hook.chmod(0o755)
    path = tmp_path / "r.jsonl"
    path.write_bytes(recording.HEADER + record(0).encode() + b"{oops}\n")
    done = kates("replay", str(path), "--exec", str(hook))
    assert done.returncode == ExitCode.USAGE
    assert done.stderr.startswith(f'error: "{path}" line 3: not JSON (') and done.stderr.count("\n") == 1
    assert not ran.exists()  # the good first line did not run either

    missing = kates("replay", str(tmp_path / "missing.jsonl"), "--exec", str(hook))
    assert (missing.returncode, missing.stderr) == (
        ExitCode.USAGE,
        f'error: cannot read recording "{tmp_path / "missing.jsonl"}": No such file or directory\n',
    )
    no_exec = kates("replay", str(path))
    assert (no_exec.returncode, no_exec.stderr) == (
        ExitCode.USAGE,
        "error: --exec HOOK is required\nhint: kates replay FILE --exec HOOK\n",
    )


def test_replay_passes_hook_arguments_and_says_when_the_hook_cannot_run(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    rec = Recorder(str(path))
    rec.write(record(0))
    rec.close()
    out = tmp_path / "args"
    done = kates("replay", str(path), "--exec", "sh", "--", "-c", f'echo "$0 $1" > {out}', "a", "b")
    assert done.returncode == 0, done.stderr
    assert out.read_text() == "a b\n"
    hook = tmp_path / "bad.sh"
    hook.write_text("#!/bin/sh\n")
    hook.chmod(0o755)
    hook.chmod(0o644)  # no longer executable
    done = kates("replay", str(path), "--exec", str(hook))
    assert (done.returncode, done.stderr) == (
        ExitCode.USAGE,
        f'error: cannot run hook "{hook}": not an executable file\nhint: chmod +x {hook}\n',
    )


def test_the_recording_and_replay_files_complete_as_files(tmp_path: Path) -> None:
    for line in ("kates replay ", "kates watch -q cm --record "):
        proc = subprocess.run(
            [sys.executable, "-m", "kates_cli"],
            capture_output=True,
            text=True,
            env=dict(os.environ, _KATES_COMPLETE="bash_complete", COMP_WORDS=line, COMP_CWORD=str(line.count(" "))),
            timeout=60,
        )
        assert proc.stdout.splitlines() == ["file,"], (line, proc)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0s", "error: --resync must be longer than 0, not 0s\n"),
        (
            "soon",
            'error: invalid argument "soon" for "--resync" flag: time: invalid duration "soon"\n'
            "hint: e.g. 30s, 1m30s, 500ms, 2h\n",
        ),
    ],
)
def test_a_bad_resync_is_a_usage_error_before_any_connection(value: str, message: str) -> None:
    done = kates("watch", "-q", "cm", "--resync", value)
    assert (done.returncode, done.stderr) == (ExitCode.USAGE, message)


def test_sigterm_stops_a_replay_and_its_hook(tmp_path: Path) -> None:
    from tests.conftest import wait_for

    path = tmp_path / "r.jsonl"
    rec = Recorder(str(path))
    rec.write(record(0))
    rec.write(record(1))
    rec.close()
    pid_file = tmp_path / "pid"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\necho $$ > {pid_file}.tmp && mv {pid_file}.tmp {pid_file}\nexec sleep 60\n")
    hook.chmod(0o755)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kates_cli", "replay", str(path), "--exec", str(hook)],
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, KUBECONFIG="/nonexistent/kubeconfig"),
    )
    try:
        wait_for(pid_file.exists, 30, "the first run")
        hook_pid = int(pid_file.read_text())
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert (proc.returncode, err) == (ExitCode.INTERRUPTED, "")
    wait_for(lambda: gone(hook_pid), 10, "the hook to end with the replay")


def gone(pid: int) -> bool:
    """No such process, or only its zombie (a container's init may be slow to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_replay_run_that_hits_the_timeout_fails_with_9_even_if_it_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    rec = Recorder(str(path))
    rec.write(record(0))
    rec.close()
    hook = tmp_path / "hook.sh"
    hook.write_text("#!/bin/sh\ntrap 'exit 0' TERM\nwhile true; do sleep 0.1; done\n")
    hook.chmod(0o755)
    done = kates("replay", str(path), "--hook-timeout", "500ms", "--grace-period", "5s", "--exec", str(hook))
    assert (done.returncode, done.stderr.splitlines()[-1]) == (  # before it, the hook's shell may say "Terminated"
        ExitCode.HOOK_FAILED,
        "replay: run 0 (line 2) failed (timed out after 0.5s, exit 0)",
    )


def test_a_hook_that_cannot_be_executed_fails_its_run_with_127(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    rec = Recorder(str(path))
    rec.write(record(0))
    rec.write(record(1))
    rec.close()
    hook = tmp_path / "hook.sh"  # runnable when checked, then its interpreter is gone (as in kates watch's tests)
    interp = tmp_path / "sh"
    interp.symlink_to("/bin/sh")
    hook.write_text(f"#!{interp}\nrm -f {interp}\nexit 0\n")
    hook.chmod(0o755)
    done = kates("replay", str(path), "--keep-going", "--exec", str(hook))
    assert done.returncode == 127, done.stderr
    assert (
        done.stderr == f"replay: run 1 (line 3) failed ({hook}: bad interpreter {interp}: No such file or directory)\n"
    )


def test_a_line_a_crash_cut_is_left_out_when_read_and_cut_off_when_recording_again(tmp_path: Path) -> None:
    """kates killed while writing a line: replay refused the whole file, and a restarted `watch --record` glued its
    next line to the cut one, a broken line in the middle of the file for good."""
    path = tmp_path / "r.jsonl"
    path.write_bytes(recording.HEADER + record(0).encode() + record(1).encode()[:40])
    cut: list[int] = []
    assert [r.run for r in read(str(path), cut.append)] == [0] and cut == [3]
    again = recording.Recorder(str(path))
    again.write(record(2))
    again.close()
    assert [r.run for r in read(str(path))] == [0, 2]


def test_objects_nested_past_orjsons_depth_limit_replay(tmp_path: Path) -> None:
    """The watch serves objects nested thousands of levels deep (core/deepjson.py); their recording was unreadable."""
    deep: Any = {}
    for _ in range(1100):
        deep = {"d": deep}
    from kates_cli.core import deepjson

    snapshot = b'{"cms":[' + deepjson.dumps({"metadata": {"name": "deep"}, "data": deep}) + b"]}"
    rec = recording.Record(0, recording.now(), 0, "ctx", "ns", 0, snapshot, b"[]", "success")
    path = tmp_path / "r.jsonl"
    writer = recording.Recorder(str(path))
    writer.write(rec)
    writer.close()
    assert read(str(path))[0].snapshot == snapshot
