"""Pure logic of the write and delete commands: --validate spellings, kubectl's grace-period rules, the deletion
line, manifest checks (generateName, URLs, command-line objects), CRD kinds and patch parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from kates_cli.cli.app import main
from kates_cli.cli.delete import deleted_line, grace_period_for
from kates_cli.cli.manifests import Manifest, crd_refs, load
from kates_cli.cli.write import _parse_patch, field_validation
from kates_cli.core.mapping import ResourceRef
from kates_cli.errors import ExitCode, UsageError

CM = ResourceRef("", "v1", "configmaps", "ConfigMap", True)
NS = ResourceRef("", "v1", "namespaces", "Namespace", False)
DEPLOY = ResourceRef("apps", "v1", "deployments", "Deployment", True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("strict", "Strict"), ("warn", "Warn"), ("ignore", "Ignore"), ("true", "Strict"), ("T", "Strict"),
     ("1", "Strict"), ("false", "Ignore"), ("F", "Ignore"), ("0", "Ignore"), ("FALSE", "Ignore")],
)  # fmt: skip
def test_validate_takes_kubectls_words_and_go_booleans(value: str, expected: str) -> None:
    assert field_validation(value) == expected


@pytest.mark.parametrize("value", ["bogus", "Strict", "yes", ""])
def test_validate_refuses_anything_else_with_kubectls_message(value: str) -> None:
    with pytest.raises(UsageError, match=f'validate option "{value}"; must be one of: strict \\(or true\\), warn'):
        field_validation(value)


@pytest.mark.parametrize(
    ("grace", "now", "force", "expected"),
    [(None, False, False, None), (-1, False, False, None), (5, False, False, 5), (0, False, False, 1),
     (None, True, False, 1), (-1, True, False, 1), (None, False, True, 0), (0, False, True, 0)],
)  # fmt: skip
def test_grace_period_follows_kubectl(grace: int | None, now: bool, force: bool, expected: int | None) -> None:
    assert grace_period_for(grace, now, force) == expected


def test_grace_period_conflicts_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="--now and --grace-period cannot be specified together"):
        grace_period_for(3, True, False)
    with pytest.raises(UsageError, match="--now and --grace-period cannot be specified together"):
        grace_period_for(-2, True, False)  # kubectl takes only its default, -1, with --now
    with pytest.raises(UsageError, match="--force and --grace-period greater than 0 cannot be specified together"):
        grace_period_for(3, False, True)


def test_deleted_line_names_the_namespace_of_namespaced_kinds_only() -> None:
    assert deleted_line(CM, "x", "prod", grace=None) == 'configmap "x" deleted from prod namespace\n'
    assert deleted_line(DEPLOY, "d", "a", grace=1) == 'deployment.apps "d" deleted from a namespace\n'
    assert deleted_line(NS, "prod", None, grace=None, dry_run=True) == 'namespace "prod" deleted (server dry run)\n'
    assert deleted_line(CM, "x", "p", grace=0) == 'configmap "x" force deleted from p namespace\n'


def test_generate_name_without_name_is_refused_except_for_create(tmp_path: Path) -> None:
    path = tmp_path / "g.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: gen-\n")
    assert load([str(path)])[0].obj["metadata"] == {"generateName": "gen-"}
    with pytest.raises(UsageError, match=r"g.yaml: document 1 \(line 1\): resource name may not be empty"):
        load([str(path)], generate_name=False)


@pytest.mark.parametrize("url", ["http://example.com/a.yaml", "HTTPS://example.com/a.yaml"])
def test_a_url_is_refused_as_a_url_not_as_a_missing_file(url: str) -> None:
    with pytest.raises(UsageError, match="is a URL: kates does not fetch manifests over the network") as info:
        load([url])
    assert info.value.hint is not None and "curl" in info.value.hint


def test_an_object_named_on_the_command_line_is_not_called_a_document() -> None:
    assert Manifest({}, "configmap/x", 0, 0).where == "configmap/x"
    assert Manifest({}, "f.yaml", 2, 7).where == "f.yaml: document 2 (line 7)"


def test_crd_refs_lists_each_served_version_of_the_defined_kind() -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.org"},
        "spec": {
            "group": "example.org",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "scope": "Namespaced",
            "versions": [
                {"name": "v1", "served": True, "subresources": {"status": {}}},
                {"name": "v0", "served": False},
                {"name": "v2"},
            ],
        },
    }
    refs = crd_refs(crd)
    assert [(r.api_version, r.kind, r.resource, r.namespaced) for r in refs] == [
        ("example.org/v1", "Gadget", "gadgets", True),
        ("example.org/v2", "Gadget", "gadgets", True),
    ]
    assert refs[0].subresources == ("status",) and refs[1].subresources == ()
    assert crd_refs({"apiVersion": "v1", "kind": "ConfigMap"}) == []
    assert crd_refs({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "spec": 1}) == []


def test_a_bad_command_line_patch_is_quoted_as_kubectl_quotes_it() -> None:
    with pytest.raises(UsageError, match=r'^unable to parse "a: \[": line 1: did not find expected node content'):
        _parse_patch("a: [", '"a: ["')
    assert _parse_patch("data: {a: '1'}", "x") == {"data": {"a": "1"}}


def test_bare_validate_takes_no_value_and_a_bad_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    # both fail before any cluster is needed: the bad value at once, the bare flag on the missing manifest
    assert main(["create", "--validate=maybe", "-f", "x.yaml"]) == ExitCode.USAGE
    assert 'invalid --validate option "maybe"' in capsys.readouterr().err
    assert main(["create", "--validate", "-f", "/nonexistent/x.yaml"]) == ExitCode.USAGE
    assert 'the path "/nonexistent/x.yaml" does not exist' in capsys.readouterr().err


PAIRS = "selectors and the all flag cannot be used when passing resource/name arguments"
ALL_AND_SELECTOR = "setting 'all' parameter but found a non empty selector."


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["delete", "cm", "x", "--cascade=xyz"], 'invalid cascade value (xyz). Must be "background", "foreground", or '
         '"orphan"'),
        (["delete", "cm", "a", "--all"], "name cannot be provided when a selector is specified"),
        (["delete", "cm", "a", "b", "-l", "x"], "name cannot be provided when a selector is specified"),
        (["delete", "cm", "a", "--field-selector", "x=y"], "name cannot be provided when a selector is specified"),
        (["delete", "cm/a", "-l", "x"], PAIRS),
        (["delete", "cm/a", "--all"], PAIRS),
        (["delete", "cm", "--all", "-l", "a=b"], ALL_AND_SELECTOR),
        (["delete", "cm", "--all", "--field-selector", "a=b"], ALL_AND_SELECTOR),
        (["delete", "-f", "x.yaml", "cm"], "when paths, URLs, or stdin is provided as input, you may not specify "
         "resource arguments as well"),
        (["delete", "-f", "x.yaml", "cm", "a"], "when paths, URLs, or stdin is provided as input, you may not specify "
         "resource arguments as well"),
        (["delete", "-f", "x.yaml", "cm/a"], "resource/name arguments cannot be provided when a path is specified"),
        (["delete", "cm", "a", "--now", "--grace-period=-2"], "--now and --grace-period cannot be specified together"),
    ],
)  # fmt: skip
def test_delete_usage_errors_in_kubectls_words(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before any request (kubectl says the same with no server to ask), one line, exit 2."""
    assert main(argv) == ExitCode.USAGE
    assert capsys.readouterr().err == f"error: {message}\n"


CLIENT_DRY_RUN = (
    "error: client dry runs are not offered: kates has no client-side dry run (a bare --dry-run means "
    "--dry-run=client, as in kubectl)\nhint: use --dry-run=server: the server checks the change without persisting it\n"
)


@pytest.mark.parametrize(
    "argv",
    [
        ["delete", "cm", "x", "--dry-run"],
        ["delete", "--dry-run", "cm", "x"],  # the bare flag takes no value: `cm` stays an argument
        ["delete", "cm", "x", "--dry-run=client"],
        ["create", "--dry-run", "-f", "x.yaml"],
        ["patch", "--dry-run", "cm", "x", "-p", "{}"],
    ],
)
def test_a_bare_dry_run_means_client_and_is_refused_as_client(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == ExitCode.USAGE
    assert capsys.readouterr().err == CLIENT_DRY_RUN


def test_ignore_not_found_false_is_told_from_not_given() -> None:
    """kubectl turns --ignore-not-found on for -l, --field-selector and --all only when it was not set explicitly."""
    from tests.unit.test_argv import parsed

    assert parsed("delete", "cm", "-l", "a=b")[2]["ignore_not_found"] is None
    assert parsed("delete", "cm", "-l", "a=b", "--ignore-not-found=false")[2]["ignore_not_found"] is False
    assert parsed("delete", "cm", "x", "--ignore-not-found")[2]["ignore_not_found"] is True
    assert parsed("delete", "--dry-run", "cm", "x")[2]["dry_run"] == "client"
    assert parsed("delete", "--dry-run", "cm", "x")[2]["args"] == ("cm", "x")
