"""`kates get -w` in the formats that are not the server's tables, against the real kubectl on the same objects:
kubectl's watch writes every one of them through its tabwriter (custom-columns: the header once, the first list's
rows aligned together, each later row as it comes, aligned with the widest cells seen; a tab in a template's text
aligns), and with --output-watch-events custom columns read the event (`.type`, `.object...`). kates printed each
row aligned on its own, a template's tabs raw, and an EVENT column of its own.

Every process is started and its watch counted by the API server (apiserver_longrunning_requests) before the first
change, and each change is waited for in every output before the next: no sleep, no timing luck."""

from __future__ import annotations

import signal
from pathlib import Path

from kates_cli.errors import ExitCode
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import KATES, Runner, create, kubectl_path
from .test_wait import Background, started


def _cases(columns_file: Path) -> list[list[str]]:
    return [
        ["-o", "custom-columns=NAME:.metadata.name,DATA:.data"],
        ["-o", "custom-columns=NAME:.metadata.name,DATA:.data", "--no-headers"],
        ["-o", "custom-columns=T:.type,NAME:.object.metadata.name,DATA:.object.data", "--output-watch-events"],
        ["-o", f"custom-columns-file={columns_file}", "--no-headers"],  # kubectl's file columns print their header
        ["-o", 'jsonpath={.metadata.name}{"\\t"}{.data}{"\\n"}'],
        ["-o", 'go-template={{.metadata.name}}{{"\\t"}}{{.data}}{{"\\n"}}'],
    ]


def test_watch_in_template_formats_prints_what_kubectl_prints(
    cluster: ControlPlane, ns: str, cache_dir: Path, tmp_path: Path
) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    labels = {"w": "1"}  # (not the namespace's kube-root-ca.crt)
    create(cluster, base, {"metadata": {"name": "a", "labels": labels}})
    create(cluster, base, {"metadata": {"name": "longer-name-here", "labels": labels}, "data": {"k": "v"}})
    columns_file = tmp_path / "columns.txt"
    columns_file.write_text("NAME DATA\n.metadata.name .data\n")
    runs: list[tuple[list[str], Background, Background]] = []
    try:
        for args in _cases(columns_file):
            argv = ["get", "cm", "-n", ns, "-l", "w=1", "-w", *args]
            theirs = started(cluster, cache_dir, [kubectl_path(), *argv], "configmaps")
            ours = started(cluster, cache_dir, [*KATES, *argv], "configmaps")
            runs.append((args, theirs, ours))
        every = [b for _, theirs, ours in runs for b in (theirs, ours)]

        def everyone_saw(text: str) -> bool:
            return all(text in "".join(b.lines) or b.proc.poll() is not None for b in every)

        wait_for(lambda: everyone_saw("longer-name-here"), 30, "the first list in every output")
        create(cluster, base, {"metadata": {"name": "b", "labels": labels}, "data": {"x": "y" * 24}})
        wait_for(lambda: everyone_saw("yyyyyyyy"), 30, "the new ConfigMap in every output")
        code, body = cluster.request(
            "PATCH", f"{base}/a", {"data": {"a": "patched"}}, content_type="application/merge-patch+json"
        )
        assert code == 200, body
        wait_for(lambda: everyone_saw("patched"), 30, "the patched ConfigMap in every output")
    finally:
        for _, theirs, ours in runs:
            for b in (theirs, ours):
                b.proc.send_signal(signal.SIGTERM)  # not SIGINT: a backgrounded run (CI) starts us with SIGINT ignored
    for args, theirs, ours in runs:
        want, got = theirs.result(), ours.result()
        assert want.err == "", (args, want)
        assert (got.out, got.err) == (want.out, ""), (args, got, want)
    outs = {" ".join(args): ours.result().out for args, _, ours in runs}
    # the first list aligned as one block, each later row with the widest cells seen so far
    assert outs["-o custom-columns=NAME:.metadata.name,DATA:.data"] == (
        "NAME               DATA\n"
        "a                  <none>\n"
        "longer-name-here   map[k:v]\n"
        "b                  map[x:yyyyyyyyyyyyyyyyyyyyyyyy]\n"
        "a                  map[a:patched]\n"
    )


def test_watch_whose_printer_fails_in_the_first_list_prints_kubectls_error(
    kates: Runner, kubectl: Runner, cluster: ControlPlane, ns: str
) -> None:
    """A cell, a JSONPath or a column that fails on an object of the first list: kubectl's `unable to output the
    provided object` and nothing of the list (its tabwriter is never flushed); a one-column table's lines went out
    one by one before it."""
    base = f"/api/v1/namespaces/{ns}/configmaps"
    for name, data in (("a", {}), ("b", {}), ("c", {"bad": "x"}), ("d", {})):
        create(cluster, base, {"metadata": {"name": name}, "data": data})
    for output, printed in (
        ("custom-columns=NAME:.metadata.name,BAD:.data.bad[0]", ""),
        ("custom-columns=BAD:.data.bad[0]", "BAD\n<none>\n<none>\n"),
        ("custom-columns=NAME:.metadata.name,X:.items[", ""),
        ("jsonpath={.metadata.name}{.data.bad[0]}", ""),
    ):
        args = ("get", "cm", "-n", ns, "-w", "-o", output)
        theirs, ours = kubectl(*args), kates(*args)
        assert (theirs.code, theirs.out) == (1, printed), (output, theirs)
        assert theirs.err.startswith("error: unable to output the provided object: "), (output, theirs)
        assert (ours.code, ours.out) == (ExitCode.USAGE, printed), (output, ours)
        assert ours.err.splitlines()[0] == theirs.err.splitlines()[0].split(". Printing more information")[0], (
            output,
            ours,
            theirs,
        )
