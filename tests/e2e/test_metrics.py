"""`kates watch --metrics-addr` and `--log-format json` against the real control plane: after a known number of
runs, failures, timeouts and forced stream restarts the counters equal them; /readyz is 503 until the bootstrap
and 200 after; /healthz turns 503 while a stream is silent past its stall bound and 200 when it hears again; every
line kates writes on stderr is JSON while the hook's own output passes untouched."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kates_cli.errors import ExitCode
from tests import figures
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane
from tests.faultproxy import FaultProxy

from .conftest import KATES, Runner, create
from .test_argv import _default_signals

pytestmark = pytest.mark.e2e

HOOK = r"""#!/bin/sh
# records ok / fail / timeout per run; fails while $OUT/fail holds a count, hangs once when $OUT/slow exists,
# waits while $OUT/hold exists
cat >/dev/null
while [ -e "$OUT/hold" ]; do sleep 0.05; done
echo "hook stdout line $KATES_RUN"
echo "hook stderr line $KATES_RUN: {not json" >&2
if [ -s "$OUT/fail" ]; then
  n=$(cat "$OUT/fail")
  if [ "$n" -gt 1 ]; then echo $((n - 1)) > "$OUT/fail"; else rm -f "$OUT/fail"; fi
  echo fail >> "$OUT/runs"
  exit 3
fi
if [ -e "$OUT/slow" ]; then
  rm -f "$OUT/slow"
  echo timeout >> "$OUT/runs"
  exec sleep 60
fi
echo ok >> "$OUT/runs"
"""


class Proc:
    """A background `kates watch`, its stdout and stderr in files."""

    def __init__(self, args: list[str], kubeconfig: Path, cache: Path, tmp: Path, **env: str) -> None:
        self.out, self.err = tmp / "kates.out", tmp / "kates.err"
        full = dict(os.environ, KUBECONFIG=str(kubeconfig), KATES_CACHE_DIR=str(cache), NO_COLOR="1", **env)
        for var in ("KATES_NAMESPACE", "KATES_CONTEXT", "KATES_WRITE_SOCKET", "KATES_TEST_HOLD_WATCH"):
            full.pop(var, None)
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen([*KATES, "watch", *args], env=full, stdout=out, stderr=err)

    def records(self) -> list[dict[str, Any]]:
        """The stderr lines that are JSON objects (a line being written may be cut: only whole lines)."""
        text = self.err.read_text()
        return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines() if line.startswith("{")]

    def port(self) -> int:
        def listening() -> int | None:
            for r in self.records():
                if r["event"] == "metrics.listening":
                    return int(r["address"].rsplit(":", 1)[1])
            assert self.proc.poll() is None, self.err.read_text()
            return None

        port = wait_for(listening, 30, "the metrics address on stderr")
        assert port
        return port

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(30)


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, text = get(port, "/metrics")
    assert status == 200, text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def runs(tmp: Path) -> list[str]:
    path = tmp / "runs"
    return path.read_text().split() if path.exists() else []


def test_the_counters_equal_the_runs_failures_and_restarts_and_the_log_is_json(
    cluster: ControlPlane, ns: str, tmp_path: Path, watches: list[Any]
) -> None:
    hook = tmp_path / "hook.sh"
    hook.write_text(HOOK)
    hook.chmod(0o755)
    started = time.monotonic()
    with FaultProxy(cluster.port) as proxy:
        kc = proxy.kubeconfig(cluster.kubeconfig, tmp_path / "kubeconfig")
        args = ["-q", f"cms=cm ns={ns}", "--exec", str(hook), "--metrics-addr", "127.0.0.1:0", "--log-format", "json"]
        args += ["--hook-timeout", "1s", "--grace-period", "1s"]
        w = Proc(args, kc, tmp_path / "cache", tmp_path, OUT=str(tmp_path))
        watches.append(w)
        port = w.port()
        wait_for(lambda: runs(tmp_path) == ["ok"], 30, "the bootstrap's run")
        assert get(port, "/readyz") == (200, "ok\n")

        (tmp_path / "fail").write_text("2")  # the next two runs fail; the retry after them succeeds
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "a"}})
        wait_for(lambda: runs(tmp_path) == ["ok", "fail", "fail", "ok"], 30, "two failures, then a success")

        wait_for(lambda: proxy.open_connections >= 1, 10, "the watch connection")
        reset = proxy.reset()  # RST: the watch's connection (and any idle one) is dropped
        metrics = wait_for(
            lambda: (m := scrape(port))[("kates_watch_restarts_total", (("query", "cms"), ("reason", "error")))] and m,
            10,
            "the restart",
        )
        (tmp_path / "slow").write_text("")  # the next run hangs past --hook-timeout; its retry succeeds
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "b"}})
        wait_for(lambda: runs(tmp_path)[4:] == ["timeout", "ok"], 30, "a timeout, then a success")

        (tmp_path / "hold").write_text("")  # the next run waits: three changes meanwhile coalesce into one run
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "c"}})
        wait_for(lambda: any(r.get("run") == 6 for r in w.records() if r["event"] == "run.started"), 30, "run 6")
        for name in ("d", "e", "f"):
            create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": name}})
        added = ("kates_watch_events_total", (("query", "cms"), ("type", "ADDED")))
        wait_for(lambda: scrape(port)[added] == 6, 30, "d, e and f in kates while run 6 holds")
        (tmp_path / "hold").unlink()
        wait_for(lambda: runs(tmp_path)[6:] == ["ok", "ok"], 30, "run 6, then one run for d, e and f")
        expected = {"success": 5, "failure": 2, "timeout": 1}

        def settled() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
            m = scrape(port)
            got = {r: m[("kates_hook_runs_total", (("result", r),))] for r in expected}
            return m if got == expected else None

        metrics = wait_for(settled, 10, f"the runs counted as {expected}")
        cms = (("query", "cms"),)
        assert metrics[("kates_hook_run_duration_seconds_count", ())] == 8
        assert metrics[("kates_hook_consecutive_failures", ())] == 0
        assert metrics[("kates_watch_restarts_total", (*cms, ("reason", "error")))] == 1  # the one reset
        assert metrics[("kates_watch_restarts_total", (*cms, ("reason", "410")))] == 0
        assert metrics[("kates_watch_restarts_total", (*cms, ("reason", "stall")))] == 0
        assert metrics[("kates_watch_lists_total", cms)] == 1  # resumed after the reset: no relist
        assert metrics[("kates_watch_events_total", (*cms, ("type", "ADDED")))] == 6
        assert metrics[("kates_watch_events_total", (*cms, ("type", "DELETED")))] == 0
        assert metrics[("kates_objects", cms)] == 7  # kube-root-ca.crt, a to f
        assert metrics[("kates_overlay_entries", cms)] == 0
        assert metrics[("kates_snapshot_bytes", cms)] > 1000
        assert metrics[("kates_bootstrap_duration_seconds", ())] > 0
        # a, b and c each carried by one run (and its retries), d, e and f by one more: two of them coalesced
        assert metrics[("kates_changes_total", ())] == 6
        assert metrics[("kates_changes_coalesced_total", ())] == 2
        assert metrics[("kates_staleness_seconds_count", ())] == 4
        assert metrics[("kates_leader", ())] == 0
        assert get(port, "/healthz") == (200, "ok\n")
        assert w.stop() == ExitCode.INTERRUPTED
    seconds = time.monotonic() - started

    # every line kates wrote on stderr is one JSON object; the hook's own lines pass through untouched
    hook_lines = [f"hook stderr line {n}: {{not json" for n in range(8)]
    lines = w.err.read_text().splitlines()
    assert sorted(line for line in lines if line.startswith("hook ")) == hook_lines
    records = [json.loads(line) for line in lines if not line.startswith("hook ")]
    assert all(list(r)[:4] == ["time", "level", "event", "msg"] for r in records), records
    names = [r["event"] for r in records]
    assert names.count("run.started") == 8 and names.count("run.ended") == 8, names
    ended = [(r["run"], r["result"], r["code"]) for r in records if r["event"] == "run.ended"]
    assert [(run, result) for run, result, _ in ended] == [
        (0, "success"),
        (1, "failure"),
        (2, "failure"),
        (3, "success"),
        (4, "timeout"),
        (5, "success"),
        (6, "success"),
        (7, "success"),
    ]
    assert ended[1][2] == 3 and ended[0][2] == 0
    backoffs = [r for r in records if r["event"] == "run.backoff"]
    assert [r["failures"] for r in backoffs] == [1, 2, 1] and all(r["level"] == "warning" for r in backoffs)
    assert any(r["event"] == "stream.restarted" and r["reason"] == "error" for r in records)
    assert names[0] == "metrics.listening" and "bootstrap.done" in names
    assert w.out.read_text().split("\n")[:-1] == [f"hook stdout line {n}" for n in range(8)]
    figures.record(
        "metrics",
        "runs, failures, a timeout, a reset, coalescing",
        runs=8,
        restarts=1,
        reset_conns=reset,
        coalesced=2,
        seconds=round(seconds, 1),
    )


def test_readyz_waits_for_the_bootstrap_and_healthz_fails_while_a_stream_is_silent(
    cluster: ControlPlane, ns: str, tmp_path: Path, watches: list[Any]
) -> None:
    cache = tmp_path / "cache"
    with FaultProxy(cluster.port) as proxy:
        kc = proxy.kubeconfig(cluster.kubeconfig, tmp_path / "kubeconfig")
        env = dict(os.environ, KUBECONFIG=str(kc), KATES_CACHE_DIR=str(cache))
        subprocess.run([*KATES, "get", "cm", "-n", ns], env=env, check=True, capture_output=True)  # discovery cached
        proxy.stall()  # nothing reaches the server: the bootstrap cannot end
        args = ["-q", f"cms=cm ns={ns}", "--metrics-addr", "127.0.0.1:0", "--log-format", "json"]
        w = Proc([*args, "--stall-timeout", "2s"], kc, cache, tmp_path)
        watches.append(w)
        port = w.port()
        status, body = get(port, "/readyz")
        assert status == 503 and body.startswith("not bootstrapped: "), body
        stalled = wait_for(lambda: (s := get(port, "/healthz"))[0] == 503 and s, 10, "healthz 503 in the stall")
        assert stalled[1].startswith("query cms: nothing from the server for "), stalled
        assert stalled[1].endswith(" (stall bound 2s)\n"), stalled
        assert get(port, "/readyz")[0] == 503

        proxy.resume()
        wait_for(lambda: get(port, "/readyz") == (200, "ok\n"), 20, "readyz 200 after the bootstrap")
        # (a wait, not an assert: with a 2 s bound the server renews an idle watch every second, and a reconnect on
        # this busy machine may take longer than the 1 s left; the default 30 s bound leaves 3 s)
        wait_for(lambda: get(port, "/healthz") == (200, "ok\n"), 10, "healthz 200 in steady state")
        lists = scrape(port)[("kates_watch_lists_total", (("query", "cms"),))]

        proxy.stall()  # in steady state: silent past the bound, then heard again
        stalled = wait_for(lambda: (s := get(port, "/healthz"))[0] == 503 and s, 10, "healthz 503 in the 2nd stall")
        assert "query cms: nothing from the server" in stalled[1]
        assert get(port, "/readyz") == (200, "ok\n")  # still bootstrapped: the snapshot is complete, if old
        proxy.resume()
        wait_for(lambda: get(port, "/healthz") == (200, "ok\n"), 20, "healthz 200 once the server is heard again")
        metrics = scrape(port)
        assert metrics[("kates_watch_restarts_total", (("query", "cms"), ("reason", "stall")))] >= 1
        assert metrics[("kates_watch_lists_total", (("query", "cms"),))] == lists  # the stall cost no relist
        assert w.stop() == ExitCode.INTERRUPTED
    assert [r["event"] for r in w.records() if r["event"] == "stream.notice"], w.err.read_text()


def test_a_bad_or_busy_metrics_address_ends_kates_before_the_bootstrap(kates: Runner) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = kates("watch", "-q", "cm", "--metrics-addr", f"127.0.0.1:{port}", timeout=30)
        assert r.code == ExitCode.ERROR, r
        assert r.err == (
            f"error: cannot listen on 127.0.0.1:{port} (--metrics-addr): address already in use\n"
            "hint: choose another address with --metrics-addr\n"
        )
        r = kates("watch", "-q", "cm", "--metrics-addr", f"127.0.0.1:{port}", "--log-format", "json")
        assert r.code == ExitCode.ERROR, r
        record = json.loads(r.err)  # one line, one object
        assert record["level"] == "error" and record["msg"].startswith("cannot listen on 127.0.0.1:")
    r = kates("watch", "-q", "cm", "--metrics-addr", "localhost")
    assert r.code == ExitCode.USAGE and r.err.startswith('error: invalid --metrics-addr "localhost": no port\n'), r


@pytest.mark.parametrize("after", [0.0, 0.15, 0.4, 3.0])
def test_an_interrupt_at_any_moment_is_a_json_line_with_log_format_json(
    cluster: ControlPlane, cache_dir: Path, ns: str, after: float
) -> None:
    """Ctrl-C during the start (imports, the client, the bind) or after the watch ended wrote `error: interrupted`
    as text into the JSON log. Whichever moment the signal lands in, every stderr line is a JSON object."""
    import signal

    env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig), KATES_CACHE_DIR=str(cache_dir))
    proc = subprocess.Popen(
        [*KATES, "watch", "--log-format", "json", "-q", f"cms=cm ns={ns}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=_default_signals,
    )  # fmt: skip
    time.sleep(after)  # the moment varies on purpose: every one must hold
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    # (a signal before the interpreter has set up any handler kills it by the signal, before a word is written)
    assert proc.returncode == ExitCode.INTERRUPTED or (proc.returncode == -signal.SIGINT and not err), err
    for line in err.splitlines():
        assert isinstance(json.loads(line), dict), err
