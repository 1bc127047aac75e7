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

from kates_cli.cli import completion
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
        (["get", "-n"], "", (["-n"], "", "")),
        (["get", "cm", "--namespace"], "k", (["--namespace"], "k", "")),
        (["--kubeconfig", "k", "get", "--context"], "", (["--kubeconfig", "k", "--context"], "", "")),
        (["get", "--context", "c", "cm", "-n"], "", (["--context", "c", "-n"], "", "")),
        # anything else: global options first, as main() runs the command
        (["get", "cm", "-n", "ns"], "x", (["-n", "ns", "get", "cm"], "x", "")),
        (["get", "-o", "="], "ya", (["get", "-o"], "ya", "")),  # bash splits `-o=ya` at "="
        (["get"], "--context=pr", (["--context"], "pr", "--context=")),  # zsh and fish keep it whole
        (["get"], "-o=ya", (["get", "-o"], "ya", "-o=")),
    ],
)
def test_a_request_is_rewritten_as_main_rewrites_a_command_line(
    args: list[str], incomplete: str, expected: tuple[list[str], str, str]
) -> None:
    assert completion.rewrite(args, incomplete) == expected


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
