"""kubectl's flag grammar (spf13/pflag) on the real kates command tree: what each spelling parses to, in-process."""

from __future__ import annotations

from typing import Any

import click
import pytest
import typer

from kates_cli.cli.app import COMMANDS, app, main
from kates_cli.cli.argv import FALSE, TRUE, normalize, parse_bool
from kates_cli.errors import ExitCode, UsageError


def root() -> click.Group:
    command = typer.main.get_command(app)
    assert isinstance(command, click.Group)
    return command


def parsed(*argv: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """(root options, subcommand, subcommand options) as click parses the normalised argv."""
    group = root()
    args = normalize(argv, group)
    at = next(i for i, a in enumerate(args) if not a.startswith("-"))  # global options come first, attached
    name = args[at]
    glob = group.make_context("kates", args[: at + 1], resilient_parsing=True).params
    sub = group.get_command(click.Context(group), name)
    assert sub is not None
    return glob, name, sub.make_context(name, args[at + 1 :], resilient_parsing=True).params


@pytest.mark.parametrize(
    "argv",
    [
        ["get", "-n=h1", "cm"],
        ["get", "-nh1", "cm"],
        ["get", "-n", "h1", "cm"],
        ["get", "--namespace=h1", "cm"],
        ["get", "--namespace", "h1", "cm"],
        ["-n=h1", "get", "cm"],
        ["get", "cm", "-n=h1"],
    ],
)
def test_short_and_long_value_spellings_agree(argv: list[str]) -> None:
    glob, name, opts = parsed(*argv)
    assert (glob["namespace"], name, opts["args"]) == (("h1",), "get", ("cm",))


def test_equals_is_a_separator_only_before_a_value() -> None:
    opts = parsed("get", "cm", "-l=a=b", "-o=json")[2]
    assert (opts["selector"], opts["output"]) == ("a=b", "json")
    assert parsed("get", "cm", "-la=b")[2]["selector"] == "a=b"
    assert parsed("get", "cm", "-l=")[2]["selector"] == "="  # pflag: `-l=` is the value "="
    assert parsed("get", "cm", "-l", "=")[2]["selector"] == "="
    assert parsed("get", "cm", "--selector=")[2]["selector"] == ""


def test_grouped_boolean_shorthands() -> None:
    opts = parsed("get", "cm", "-Aw")[2]
    assert opts["all_namespaces"] and opts["watch"]
    opts = parsed("get", "cm", "-wA=false")[2]
    assert opts["watch"] and not opts["all_namespaces"]
    glob, _, opts = parsed("get", "cm", "-wnh1")  # a group may end in an option that takes a value
    assert opts["watch"] and glob["namespace"] == ("h1",)
    opts = parsed("create", "-Rf", "dir")[2]
    assert opts["recursive"] and opts["filenames"] == ("dir",)


@pytest.mark.parametrize("spelling", sorted(TRUE | FALSE))
def test_every_parse_bool_spelling(spelling: str) -> None:
    want = spelling in TRUE
    assert parse_bool(spelling, "--x") is want
    assert parsed("get", "cm", f"--show-labels={spelling}")[2]["show_labels"] is want
    assert parsed("get", "cm", f"-A={spelling}")[2]["all_namespaces"] is want
    assert parsed("delete", "cm", "x", f"--wait={spelling}")[2]["wait"] is want
    assert parsed("delete", "cm", "x", f"--no-wait={spelling}")[2]["wait"] is not want
    assert parsed(f"--debug={spelling}", "get", "cm")[0]["debug"] is want


def test_the_last_occurrence_of_a_flag_wins() -> None:
    assert parsed("get", "cm", "--show-labels", "--show-labels=false")[2]["show_labels"] is False
    assert parsed("get", "cm", "--show-labels=false", "--show-labels")[2]["show_labels"] is True
    assert parsed("delete", "cm", "x", "--no-wait", "--wait=true")[2]["wait"] is True
    assert parsed("delete", "cm", "x", "--wait=false")[2]["wait"] is False


def test_a_boolean_flag_does_not_take_the_next_argument() -> None:
    assert parsed("get", "--show-labels", "false")[2]["args"] == ("false",)


@pytest.mark.parametrize(
    ("argv", "message", "hint"),
    [
        (
            ["get", "cm", "-A=x"],
            'invalid argument "x" for "-A, --all-namespaces" flag: strconv.ParseBool: parsing "x": invalid syntax',
            "see 'kates get --help'",
        ),
        (
            ["delete", "cm", "a", "--wait=maybe"],
            'invalid argument "maybe" for "--wait" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
            "see 'kates delete --help'",
        ),
        (
            ["get", "cm", "--show-labels="],
            'invalid argument "" for "--show-labels" flag: strconv.ParseBool: parsing "": invalid syntax',
            "see 'kates get --help'",
        ),
        (["get", "cm", "-o"], "flag needs an argument: 'o' in -o", "see 'kates get --help'"),
        (["get", "cm", "-wo"], "flag needs an argument: 'o' in -wo", "see 'kates get --help'"),
        (["get", "cm", "--selector"], "flag needs an argument: --selector", "see 'kates get --help'"),
        (["--debug=yes", "version"], 'invalid argument "yes" for "--debug" flag', "see 'kates version --help'"),
    ],
)
def test_pflag_errors(argv: list[str], message: str, hint: str) -> None:
    with pytest.raises(UsageError) as caught:
        normalize(argv, root())
    assert caught.value.message.startswith(message)
    assert caught.value.hint == hint


def test_bad_boolean_is_a_usage_error_from_main(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["get", "cm", "--all-namespaces=x"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err == (
        'error: invalid argument "x" for "-A, --all-namespaces" flag: strconv.ParseBool: parsing "x": invalid syntax\n'
        "hint: see 'kates get --help'\n"
    )


def test_command_options_may_come_before_the_command_name() -> None:
    glob, name, opts = parsed("-o", "name", "-n=h1", "get", "cm")
    assert (name, opts["output"], glob["namespace"]) == ("get", "name", ("h1",))
    assert parsed("--show-labels=true", "get", "cm")[2]["show_labels"] is True


def test_globals_are_hoisted_and_values_stay_attached() -> None:
    assert normalize(["get", "pods", "-n", "x", "--context", "c", "-o", "json"], root()) == [
        "--namespace=x",
        "--context=c",
        "get",
        "pods",
        "--output=json",
    ]
    # an option's value is never taken for an option later: `-l --debug` selects the label "--debug"
    assert normalize(["get", "cm", "-l", "--debug"], root()) == ["get", "cm", "--selector=--debug"]


def test_after_double_dash_and_hook_arguments_nothing_is_rewritten() -> None:
    assert normalize(["watch", "--", "-n", "x"], root()) == ["watch", "--", "-n", "x"]
    # watch does not intersperse options: after its first argument, all are the hook's
    argv = ["watch", "-q", "cm", "--exec=/bin/echo", "a", "-n=x", "--wait=maybe"]
    assert normalize(argv, root()) == ["watch", "--query=cm", "--exec=/bin/echo", "a", "-n=x", "--wait=maybe"]


def test_unknown_options_are_left_for_click() -> None:
    assert normalize(["get", "cm", "--bogus=1", "-xyz"], root()) == ["get", "cm", "--bogus=1", "-xyz"]
    assert normalize(["get", "cm", "-Ax"], root()) == ["get", "cm", "--all-namespaces", "-x"]
    assert normalize(["get", "-h"], root()) == ["get", "-h"]


def test_every_boolean_flag_can_be_set_false() -> None:
    """`--flag=false` is expressed by dropping the flag or by its --no- form: so a flag without a --no- form must
    default to false, or `=false` could not be said to click."""
    group = root()
    ctx = click.Context(group)
    commands = [group, *(group.get_command(ctx, name) for name in COMMANDS)]
    seen = 0
    for command in commands:
        assert command is not None
        for param in command.params:
            if isinstance(param, click.Option) and param.is_bool_flag:
                seen += 1
                assert param.secondary_opts or not param.default, (command.name, param.opts)
    assert seen > 20


def test_a_bare_validate_takes_no_value_from_the_next_argument() -> None:
    # pflag's NoOptDefVal: `--validate -f x.yaml` is strict validation of x.yaml, not --validate=-f
    assert normalize(["create", "--validate", "-f", "x.yaml"], root()) == [
        "create",
        "--validate=strict",
        "--filename=x.yaml",
    ]
    assert normalize(["create", "--validate=warn", "-f", "x.yaml"], root())[1] == "--validate=warn"
