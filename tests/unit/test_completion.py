"""Shell completion without a cluster: the request rewriting, the values that need no server (contexts, output
formats, manifest files), every shell's protocol and the kubectl plugin's, and `kates completion SHELL`.
Completion of names and namespaces from the cluster is in tests/e2e/test_completion.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer

from kates_cli.cli import completion, fastcomplete
from kates_cli.cli.app import COMMANDS, app
from kates_cli.cli.get import GET_FORMATS
from kates_cli.core.config import context_names

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kates_cli", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=60
    )


def bash(words: str, env: dict[str, str], cwd: Path | None = None) -> list[str]:
    """What `_kates_completion` gets back for the command line `words` (the word being completed is the last)."""
    cword = len(words.split(" ")) - 1
    proc = subprocess.run(
        [sys.executable, "-m", "kates_cli"],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=dict(env, _KATES_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(cword)),
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc
    return proc.stdout.splitlines()


def plugin(args: list[str], env: dict[str, str], cwd: Path | None = None) -> list[str]:
    """What `kubectl_complete-kates ARGS...` prints, as kubectl runs it (the last argument is the word completed)."""
    code = "from kates_cli.cli.completion import kubectl_complete_main; kubectl_complete_main()"
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=60
    )
    assert proc.returncode == 0 and proc.stderr == "", proc
    return proc.stdout.splitlines()


@pytest.fixture
def kubeconfig(tmp_path: Path) -> dict[str, str]:
    """An environment whose kubeconfig (two files, merged) names three contexts and no reachable cluster."""
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', certificate-authority: /no/such/ca.crt}}]\n"
        "contexts: [{name: prod, context: {cluster: c}}, {name: dev, context: {cluster: c}}]\n"
        "current-context: dev\n"
    )
    second.write_text("contexts: [{name: prod, context: {cluster: c}}, {name: stage, context: {cluster: c}}]\n")
    return dict(os.environ, KUBECONFIG=f"{first}{os.pathsep}{second}", KATES_CACHE_DIR=str(tmp_path / "cache"))


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    for name in ("a.yaml", "b.yml", "c.json", "notes.txt", "yaml", ".hidden.yaml", "sub/x.yaml", "sub/y.md"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("{}\n")
    (root / "empty").mkdir()
    return root


# -- the request as click sees it -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "incomplete", "expected"),
    [
        # the value of a global option: completed by the root command, after the other global options only
        (["get", "-n"], "", (["--namespace"], "", "")),
        (["get", "cm", "--namespace"], "k", (["--namespace"], "k", "")),
        (["--kubeconfig", "k", "get", "--context"], "", (["--kubeconfig=k", "--context"], "", "")),
        (["get", "--context", "c", "cm", "-n"], "", (["--context=c", "--namespace"], "", "")),
        (["get", "cm", "-wn"], "", (["--namespace"], "", "")),  # a group ending in -n
        # the value in the word: zsh, fish and the kubectl plugin keep it whole, bash's is joined back
        (["get"], "--context=pr", (["--context"], "pr", "--context=")),
        (["get", "cm"], "-n=fo", (["--namespace"], "fo", "-n=")),
        (["get", "cm"], "-n=", (["--namespace"], "", "-n=")),  # being typed: the start of `-n=VALUE`
        (["get", "cm"], "-nfo", (["--namespace"], "fo", "-n")),
        (["get", "cm"], "-wnfo", (["--namespace"], "fo", "-wn")),
        (["get"], "-o=ya", (["get", "--output"], "ya", "-o=")),
        (["get"], "-ojs", (["get", "--output"], "js", "-o")),
        (["get", "-o"], "-", (["get", "--output"], "-", "")),  # pflag gives -o the next word, whatever it is
        # an option's name being typed: click offers names
        (["get", "cm"], "-n", (["get", "cm"], "-n", "")),
        (["get", "cm"], "--na", (["get", "cm"], "--na", "")),
        # anything else: the words as argv.normalize gives them to click (global options first, `--long=VALUE`)
        (["get", "cm", "-n", "ns"], "x", (["--namespace=ns", "get", "cm"], "x", "")),
        (["get", "cm", "-n=foo"], "", (["--namespace=foo", "get", "cm"], "", "")),  # not `=foo`
        (["get", "cm", "-nfoo"], "", (["--namespace=foo", "get", "cm"], "", "")),
        (["get", "cm", "-n="], "", (["--namespace==", "get", "cm"], "", "")),  # pflag: `-n=` alone is the value "="
        (["--context=prod", "get", "cm"], "", (["--context=prod", "get", "cm"], "", "")),
        (["get", "cm", "-n", "a,b"], "", (["--namespace=a,b", "get", "cm"], "", "")),
        (["-o", "name", "get"], "", (["get", "--output=name"], "", "")),  # kubectl allows it before the command
        (["create", "--validate"], "", (["create", "--validate=strict"], "", "")),  # takes no next word
        (["get", "--", "-n"], "", (["get", "--", "-n"], "", "")),
        (["watch", "x", "-n"], "", (["watch", "x", "-n"], "", "")),  # a hook's arguments
        (["get", "cm", "--watch=maybe"], "", (["get", "cm", "--watch=maybe"], "", "")),  # refused by main
    ],
)
def test_a_request_is_rewritten_as_main_rewrites_a_command_line(
    args: list[str], incomplete: str, expected: tuple[list[str], str, str]
) -> None:
    assert completion.rewrite(args, incomplete) == expected


# bash's words (COMP_WORDS, COMP_CWORD and COMP_LINE) as a real bash gives them for the line typed, then the arguments
# the command gets from that line, the word being completed, and the part of it bash keeps (its text after the last
# "=", ":" or "@": every value offered loses that part)
BASH_WORDS = [
    (
        ["kates", "get", "cm", "--namespace", "=", "foo", ""],
        "kates get cm --namespace=foo ",
        (["get", "cm", "--namespace=foo"], "", ""),
    ),
    (
        ["kates", "--context", "=", "prod", "get", "cm", ""],
        "kates --context=prod get cm ",
        (["--context=prod", "get", "cm"], "", ""),
    ),
    (["kates", "get", "cm", "-n", "=", "foo", ""], "kates get cm -n=foo ", (["get", "cm", "-n=foo"], "", "")),
    # the word being completed: `=` itself right after the "=", else what follows it
    (
        ["kates", "get", "cm", "--namespace", "="],
        "kates get cm --namespace=",
        (["get", "cm"], "--namespace=", "--namespace="),
    ),
    (
        ["kates", "get", "cm", "--namespace", "=", "fo"],
        "kates get cm --namespace=fo",
        (["get", "cm"], "--namespace=fo", "--namespace="),
    ),
    (["kates", "get", "cm", "-n", "=", "fo"], "kates get cm -n=fo", (["get", "cm"], "-n=fo", "-n=")),
    (
        ["kates", "get", "cm", "--namespace", "==", "fo"],
        "kates get cm --namespace==fo",
        (["get", "cm"], "--namespace==fo", "--namespace=="),
    ),
    (["kates", "get", "cm", "-n", "=", ""], "kates get cm -n= ", (["get", "cm", "-n="], "", "")),
    # words that do not touch stay apart: the command gets them apart
    (
        ["kates", "get", "cm", "--namespace", "=", "d"],
        "kates get cm --namespace= d",
        (["get", "cm", "--namespace="], "d", ""),
    ),
    (["kates", "get", "cm", "-n", "=", "fo"], "kates get cm -n =fo", (["get", "cm", "-n"], "=fo", "=")),
    (["kates", "get", "cm", "-n", "=", "fo"], "kates get cm -n = fo", (["get", "cm", "-n", "="], "fo", "")),
    # ":" and "@" as well: names and contexts
    (
        ["kates", "get", "clusterrole", "system", ":", "a"],
        "kates get clusterrole system:a",
        (["get", "clusterrole"], "system:a", "system:"),
    ),
    (
        ["kates", "--context", "admin", "@", "kind", "get", "cm", ""],
        "kates --context admin@kind get cm ",
        (["--context", "admin@kind", "get", "cm"], "", ""),
    ),
    (
        ["kates", "get", "-l", "a", "=", "b,c", "=", "d", "cm", ""],
        "kates get -l a=b,c=d cm ",
        (["get", "-l", "a=b,c=d", "cm"], "", ""),
    ),
    (["kates", "get", "cm", '"a b"', "=", "c", ""], 'kates get cm "a b"=c ', (["get", "cm", "a b=c"], "", "")),
    (["kates", "="], "kates =", ([], "=", "=")),
]


@pytest.mark.parametrize(("words", "line", "expected"), BASH_WORDS)
def test_bash_words_are_joined_back_into_the_arguments_the_command_gets(
    words: list[str], line: str, expected: tuple[list[str], str, str]
) -> None:
    env = {"COMP_WORDS": "\n".join(words), "COMP_CWORD": str(len(words) - 1), "COMP_LINE": line}
    assert fastcomplete.completion_args("bash", env) == expected


def test_without_comp_line_bash_words_are_taken_to_touch_an_empty_word_excepted() -> None:
    """A script from before COMP_LINE was passed: `--namespace= fo` reads as `--namespace=fo`."""
    words = "kates\nget\ncm\n--namespace\n=\nfo"
    assert fastcomplete.bash_words(words, 5) == (["get", "cm"], "--namespace=fo", "--namespace=")
    assert fastcomplete.bash_words(words + "\n", 6) == (["get", "cm", "--namespace=fo"], "", "")
    assert fastcomplete.bash_words("kates\nget\ncm\n-n\n=\n", 5) == (["get", "cm", "-n="], "", "")
    # words that are not found in the line in order, or that are not one word a line: taken to touch too
    assert fastcomplete.bash_words(words, 5, "kates get cm") == fastcomplete.bash_words(words, 5)
    quoted = 'kates\nget\n"a\nb"\n=\nc\n'  # a word holding a newline: two lines
    assert fastcomplete.bash_words(quoted, 5, 'kates get "a\nb" = c ') == (["get", "a\nb=c"], "", "")


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_words_are_read_as_click_reads_them(shell: str) -> None:
    env = {"COMP_WORDS": "kates get cm -n=foo --namespace = x ", "COMP_CWORD": "7" if shell == "zsh" else ""}
    assert fastcomplete.completion_args(shell, env) == (["get", "cm", "-n=foo", "--namespace", "=", "x"], "", "")


# -- every protocol's words, on both paths -------------------------------------------------------------------------


class FakeClient:
    """Stands in for core.client.Client: the namespace and context completion asked for, and no cluster."""

    def __init__(self, kubeconfig: str | None, context: str | None, namespace: str | None, timeout: float) -> None:
        self.context = context or "current"
        self.namespace = namespace or "default"

    def close(self) -> None:
        pass


NAMESPACES = ["default", "fob", "foo", "prod"]


def fake_matching(
    client: FakeClient, kind: str, incomplete: str, namespaces: list[str] | tuple[str, ...] = ()
) -> list[str]:
    """A name per namespace read, telling which and in which context: `foo.prod` is the one in foo, context prod."""
    if kind == "namespaces":
        names = NAMESPACES
    elif kind == "clusterroles":
        names = ["admin", "system:aggregate", "system:auth"]
    else:
        names = sorted(f"{ns}.{client.context}" for ns in (namespaces or [client.namespace]))
    return [n for n in names if n.startswith(incomplete)]


@pytest.fixture
def fake_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    from kates_cli.cli import completionnames
    from kates_cli.core import client

    monkeypatch.setattr(client, "Client", FakeClient)
    monkeypatch.setattr(completionnames, "matching", fake_matching)
    monkeypatch.setattr(
        completion, "kinds", lambda ctx, incomplete: [k for k in ("clusterroles", "cm") if k.startswith(incomplete)]
    )
    for name in ("KATES_NAMESPACE", "KATES_CONTEXT", "COMP_LINE"):
        monkeypatch.delenv(name, raising=False)


def offered_by(
    shell: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[list[str], list[str] | None]:
    """The values the full path (cli/completion.py, through click) offers `shell`, and the fast path's (None when it
    leaves the request to the full path), read from their lines."""

    def values(out: str) -> list[str]:
        lines = out.splitlines()
        if shell == "zsh":
            return lines[1::3]
        return [line.split(",", 1)[1] for line in lines if "," in line]

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    capsys.readouterr()
    assert completion.run_shell_completion(f"{shell}_complete") == 0
    full = values(capsys.readouterr().out)
    answered = fastcomplete.answer(f"{shell}_complete", env)
    fast = values(capsys.readouterr().out) if answered is not None else None
    return full, fast


def bash_request(line: str) -> dict[str, str]:
    """COMP_WORDS, COMP_CWORD and COMP_LINE as a real bash sets them for `line`, the cursor at its end (bash cuts
    words at "=", ":" and "@": COMP_WORDBREAKS)."""
    import re

    words = [w for w in re.split(r"\s+|([=:@]+)", line) if w is not None and w != ""]
    if line.endswith(" ") or not words:
        words.append("")
    return {"COMP_WORDS": "\n".join(words), "COMP_CWORD": str(len(words) - 1), "COMP_LINE": line}


@pytest.mark.parametrize(
    ("line", "expected", "fast"),
    [
        ("kates get cm --namespace=foo ", ["foo.current"], True),  # not the namespace "=" with foo a name
        ("kates get cm --namespace=foo f", ["foo.current"], True),
        ("kates --context=prod get cm ", ["default.prod"], True),  # not prod taken for the command
        ("kates get cm -n=foo ", ["foo.current"], True),
        ("kates get cm -n= ", ["=.current"], True),  # pflag: `-n=` alone is the namespace "="
        ("kates get cm --namespace= d", ["default.current"], True),  # an empty namespace, then a name
        ("kates get cm -n a,foo ", ["a.current", "foo.current"], True),  # a get reads each namespace
        ("kates get cm -n a -n foo,b --namespace=c ", ["a.current", "b.current", "c.current", "foo.current"], True),
        ("kates delete cm -n a,foo ", ["foo.current"], False),  # other commands use the last
        ("kates get clusterroles system:a", ["aggregate", "auth"], True),  # bash keeps `system:`
        ("kates get cm --namespace=fo", ["fob", "foo"], False),  # bash keeps `--namespace=`
        ("kates get cm --namespace=", NAMESPACES, False),
        ("kates get cm -n=f", ["fob", "foo"], False),
        ("kates get cm -nf", ["-nfob", "-nfoo"], False),
        ("kates get -n foo,f", ["foo,fob", "foo,foo"], False),
        ("kates --context=prod get -n ", NAMESPACES, False),
        ("kates --context=prod get c", ["clusterroles", "cm"], False),
    ],
)
def test_bash_completes_what_the_command_line_means(
    fake_cluster: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    line: str,
    expected: list[str],
    fast: bool,
) -> None:
    full, quick = offered_by("bash", bash_request(line), monkeypatch, capsys)
    assert full == expected, line
    assert quick == (expected if fast else None), line


@pytest.mark.parametrize("shell", ["zsh", "fish"])
@pytest.mark.parametrize(
    ("line", "expected", "fast"),
    [
        ("kates get cm -n=foo ", ["foo.current"], True),  # not `=foo`
        ("kates get cm -nfoo ", ["foo.current"], True),
        ("kates -n=foo get cm --context=prod ", ["foo.prod"], True),
        ("kates get cm --namespace=foo ", ["foo.current"], True),
        ("kates get cm -n a,foo ", ["a.current", "foo.current"], True),
        ("kates delete cm -n a,foo ", ["foo.current"], False),
        ("kates get clusterroles system:a", ["system:aggregate", "system:auth"], True),
        ("kates get cm --namespace=fo", ["--namespace=fob", "--namespace=foo"], False),  # the word is replaced whole
        ("kates get cm -n=f", ["-n=fob", "-n=foo"], False),
        ("kates get cm -nf", ["-nfob", "-nfoo"], False),
        ("kates get -n foo,f", ["foo,fob", "foo,foo"], False),
        ("kates get cm --namespace = ", ["=.current"], True),  # apart, as typed: the namespace "="
    ],
)
def test_zsh_and_fish_complete_what_the_command_line_means(
    fake_cluster: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    shell: str,
    line: str,
    expected: list[str],
    fast: bool,
) -> None:
    words = line.split(" ")
    env = {"COMP_WORDS": line, "COMP_CWORD": words[-1] if shell == "fish" else str(len(words) - 1)}
    full, quick = offered_by(shell, env, monkeypatch, capsys)
    assert full == expected, line
    assert quick == (expected if fast else None), line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["get", "cm", "-n=foo", ""], ["foo.current"]),
        (["__complete", "--context=prod", "get", "cm", ""], ["default.prod"]),
        (["get", "cm", "-n", "a,foo", ""], ["a.current", "foo.current"]),
        (["delete", "cm", "-n", "a,foo", ""], ["foo.current"]),
        (["get", "clusterroles", "system:a"], ["system:aggregate", "system:auth"]),
        # cobra's scripts put a flag's `-n=` back themselves, as for kubectl's own flags; not `-n` without "="
        (["get", "cm", "-n=f"], ["fob", "foo"]),
        (["get", "cm", "--namespace=f"], ["fob", "foo"]),
        (["get", "cm", "-nf"], ["-nfob", "-nfoo"]),
    ],
)
def test_the_kubectl_plugin_completes_what_the_command_line_means(
    fake_cluster: None, capsys: pytest.CaptureFixture[str], args: list[str], expected: list[str]
) -> None:
    assert completion.kubectl_complete(args) == 0
    assert capsys.readouterr().out.splitlines() == [*expected, ":4"]


# -- values that need no cluster --------------------------------------------------------------------------------------


def test_context_names_come_from_every_kubeconfig_file_without_reading_what_they_name(
    kubeconfig: dict[str, str],
) -> None:
    assert context_names(env=kubeconfig) == ["dev", "prod", "stage"]
    first = kubeconfig["KUBECONFIG"].split(os.pathsep)[0]
    assert context_names(first, env=kubeconfig) == ["dev", "prod"]


def test_manifest_files_are_yaml_yml_and_json_files_and_directories(
    manifests: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(manifests)
    values = lambda word: [(i.value, i.type) for i in completion.manifest_files(word)]  # noqa: E731
    assert values("") == [
        ("a.yaml", "path"),
        ("b.yml", "path"),
        ("c.json", "path"),
        ("empty/", "path"),
        ("sub/", "path"),
    ]
    assert values("s") == [("sub/", "path")]
    assert values("sub/") == [("sub/x.yaml", "path")]
    assert values(".") == [(".hidden.yaml", "path")]  # hidden entries only when asked for
    assert values(f"{manifests}/c") == [(f"{manifests}/c.json", "path")]
    assert values("no-such-dir/") == []


def test_every_output_and_filename_option_completes_its_values() -> None:
    """A new -o or -f option needs a completer too (`completion.formats(...)`, `click_type=MANIFEST_FILES`)."""
    root = typer.main.get_command(app)
    assert isinstance(root, click.Group)
    ctx = click.Context(root)
    checked = []
    for name in COMMANDS:
        command = root.get_command(ctx, name)
        assert command is not None
        sub = click.Context(command, parent=ctx, info_name=name)
        for param in command.params:
            if "--output" in param.opts:
                offered = [i.value for i in param.shell_complete(sub, "")]
                assert offered, f"kates {name} -o completes nothing"
                assert all(f.split("=")[0] in (param.help or "") for f in offered), (name, offered)
                checked.append(f"{name} -o")
            if "--filename" in param.opts:
                assert isinstance(param.type, completion.ManifestFiles), f"kates {name} -f completes no files"
                checked.append(f"{name} -f")
    assert {"get -o", "create -f", "update -f", "delete -f", "logs -o", "api-resources -o"} <= set(checked)


# -- every protocol --------------------------------------------------------------------------------------------------


def test_bash_completes_contexts_formats_and_files(kubeconfig: dict[str, str], manifests: Path) -> None:
    assert bash("kates get --context ", kubeconfig) == ["plain,dev", "plain,prod", "plain,stage"]
    assert bash("kates --context p", kubeconfig) == ["plain,prod"]
    assert bash("kates get cm --context = s", kubeconfig) == ["plain,stage"]  # bash's split of --context=s
    assert bash("kates get -o ", kubeconfig) == [f"plain,{f}" for f in GET_FORMATS]
    assert bash("kates get -o jsonpath-", kubeconfig) == ["plain,jsonpath-as-json", "plain,jsonpath-file"]
    assert bash("kates create -f x.yaml -o ", kubeconfig) == ["plain,json", "plain,yaml", "plain,kyaml", "plain,name"]
    assert bash("kates logs -o r", kubeconfig) == ["plain,raw"]
    assert bash("kates create -f ", kubeconfig, manifests) == [
        "path,a.yaml",
        "path,b.yml",
        "path,c.json",
        "path,empty/",
        "path,sub/",
    ]
    assert bash("kates delete -n x -f sub/", kubeconfig, manifests) == ["path,sub/x.yaml"]
    assert bash("kates completion ", kubeconfig) == ["plain,bash", "plain,fish", "plain,zsh"]


def test_zsh_and_fish_complete_contexts_and_files(kubeconfig: dict[str, str], manifests: Path) -> None:
    def shell(name: str, words: str, cword: str) -> list[str]:
        env = dict(kubeconfig, _KATES_COMPLETE=f"{name}_complete", COMP_WORDS=words, COMP_CWORD=cword)
        proc = subprocess.run(
            [sys.executable, "-m", "kates_cli"], capture_output=True, text=True, env=env, cwd=manifests
        )
        assert proc.returncode == 0 and proc.stderr == "", proc
        return proc.stdout.splitlines()

    # zsh: type, value, help ("_": none) on three lines; COMP_CWORD is the index of the word completed
    assert shell("zsh", "kates get --context ", "3") == [
        "plain",
        "dev",
        "_",
        "plain",
        "prod",
        "_",
        "plain",
        "stage",
        "_",
    ]
    assert shell("zsh", "kates create -f s", "3") == ["path", "sub/", "_"]
    assert shell("zsh", "kates get --context=st", "2") == ["plain", "--context=stage", "_"]
    # fish: COMP_WORDS is the line up to the cursor and COMP_CWORD the word completed
    assert shell("fish", "kates get cm -n x --context d", "d") == ["plain,dev"]
    assert shell("fish", "kates get --context=", "--context=") == [
        "plain,--context=dev",
        "plain,--context=prod",
        "plain,--context=stage",
    ]
    assert shell("fish", "kates update -f sub/", "sub/") == ["path,sub/x.yaml"]


def test_the_kubectl_plugin_completes_contexts_formats_and_leaves_files_to_the_shell_as_kubectl_does(
    kubeconfig: dict[str, str], manifests: Path
) -> None:
    assert plugin(["get", "cm", "--context", ""], kubeconfig) == ["dev", "prod", "stage", ":4"]
    assert plugin(["__complete", "get", "-o", "y"], kubeconfig) == ["yaml", ":4"]
    # kubectl's own `kubectl __complete create -f ""`: the extensions, then ShellCompDirectiveFilterFileExt
    assert plugin(["create", "-f", ""], kubeconfig, manifests) == ["json", "yaml", "yml", ":8"]
    assert plugin(["create", "-f", "nothing-matches"], kubeconfig, manifests) == [":4"]


def test_completion_with_a_broken_kubeconfig_completes_nothing_quietly(tmp_path: Path) -> None:
    broken = tmp_path / "config"
    broken.write_text("contexts: [oops\n")
    env = dict(os.environ, KUBECONFIG=str(broken), KATES_CACHE_DIR=str(tmp_path))
    assert bash("kates get --context ", env) == [""]
    assert bash("kates get -n ", env) == [""]
    assert plugin(["get", "--context", ""], env) == [":4"]


# -- kates completion SHELL ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("shell", "filename"), sorted(completion.SHELLS.items()))
def test_completion_prints_the_committed_script(shell: str, filename: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "kates_cli", "completion", shell], capture_output=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == b"", proc
    assert proc.stdout == (ROOT / "completions" / filename).read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "error: Shell not specified.\n"),
        (["tcsh"], 'error: Unsupported shell type "tcsh".\n'),
        (["bash", "zsh"], "error: Too many arguments. Expected only the shell type.\n"),
    ],
)
def test_completion_refuses_a_missing_unknown_or_second_shell_as_kubectl_does(args: list[str], message: str) -> None:
    proc = run(["completion", *args], dict(os.environ))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == message + "hint: see 'kates completion --help'\n"


def test_the_scripts_let_the_shell_treat_paths_as_file_names() -> None:
    assert "compopt -o filenames" in completion.script("bash")
    assert "compadd -U -S ''" in completion.script("zsh")
    assert '= "path"' in completion.script("fish")


def test_a_completion_request_writes_no_warning_over_the_prompt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An ambiguous short name's warning (core/mapping.py) went to stderr, onto the user's terminal, at every TAB."""
    from kates_cli.cli.completionnames import client_for
    from kates_cli.core import server_warnings

    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {token: t}}]\n"
    )
    try:
        client_for(str(kubeconfig), None, None)  # the client every completion that reaches a server asks
        capsys.readouterr()
        server_warnings.client_warning('short name "gz" could also match lower priority resource gazmos.example.com')
        assert capsys.readouterr().err == ""
    finally:
        server_warnings.set_handler(None)
