"""JSONPath templates holding bytes that are not UTF-8 (issue 15, section 2), through the real CLIs: kubectl and
kates get the same argv bytes and print the same stdout bytes. Python reads such argv bytes as surrogate escapes;
kates's stdout writes them back as the bytes they were (it used to stop with an internal error, or print U+FFFD)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import KATES, _env, create, kubectl_path

TEMPLATES = [
    b"{.data.a}\xff\n",  # text outside braces
    b'{"\\xff"}',  # a \x escape: one byte
    b"{'\\377\\xc3\\xa9'}",  # octal and a UTF-8 pair spelled as escapes
    b'{"\xff"}',  # a raw byte in a literal without escapes: kept
    b'{"\\n\xff"}',  # a raw byte in a literal with escapes: Go reads it rune by rune, U+FFFD
    b"{range .data.*}{@}{'\\xfe'}{end}",
    b"{.data.a.*}",  # the bytes of a string, as numbers
    b"\xe9{.data.a}\xc3",
    b"{.items[?(@.x=='\\xff')]}",
]


def run(cmd: list[str | bytes], cluster: ControlPlane, cache_dir: Path) -> tuple[int, bytes, bytes]:
    # stdout strict, as Python makes it under a UTF-8 locale such as en_US.UTF-8 (under C and C.UTF-8 it
    # surrogate-escapes, so the machine's locale would hide the difference)
    env = _env(cluster, cache_dir, {"PYTHONIOENCODING": "utf-8:strict"})
    proc = subprocess.run(cmd, capture_output=True, env=env, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("fmt", [b"jsonpath", b"jsonpath-as-json"])
def test_jsonpath_literals_that_are_not_utf8_print_kubectls_bytes(
    cluster: ControlPlane, ns: str, cache_dir: Path, fmt: bytes
) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "cm"}, "data": {"a": "hi"}})
    for template in TEMPLATES:
        args: list[str | bytes] = ["get", "cm", "cm", "-n", ns, b"-o" + fmt + b"=" + template]
        theirs = run([kubectl_path(), *args], cluster, cache_dir)
        mine = run([*KATES, *args], cluster, cache_dir)
        assert theirs[0] == 0, (template, theirs)
        assert (mine[0], mine[1]) == (0, theirs[1]), (template, mine, theirs)


def test_an_evaluation_error_quotes_the_bytes_as_kubectl_does(cluster: ControlPlane, ns: str, cache_dir: Path) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "cm"}, "data": {"a": "hi"}})
    args: list[str | bytes] = ["get", "cm", "cm", "-n", ns, b"-o=jsonpath={.data.a[0]}\xff"]
    code, out, err = run([*KATES, *args], cluster, cache_dir)
    theirs = run([kubectl_path(), *args], cluster, cache_dir)
    assert (code, out) == (2, b"") and theirs[0] != 0
    line = err.splitlines()[0]
    expected = b'error executing jsonpath "{.data.a[0]}\\xff": Error executing template: string is not array or slice'
    assert line == b"error: " + expected
    # kubectl goes on with its debugging dump (the object as Go's %#v): kates leaves it out
    assert theirs[2].startswith(line + b". Printing more information for debugging the template:\n"), theirs[2]


def test_a_syntax_error_quotes_the_templates_bytes_as_kubectl_does(
    cluster: ControlPlane, ns: str, cache_dir: Path
) -> None:
    args: list[str | bytes] = ["get", "cm", "-n", ns, b"-o=jsonpath={\xff"]
    code, out, err = run([*KATES, *args], cluster, cache_dir)
    theirs = run([kubectl_path(), *args], cluster, cache_dir)
    expected = b"error: error parsing jsonpath {\xff, unrecognized character in action: U+FFFD '\xef\xbf\xbd'\n"
    assert (code, out, err) == (2, b"", expected)
    assert theirs[2] == err, theirs
