"""Kind resolution over a discovery document recorded from the Kubernetes 1.37 API server."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from kates_cli.core.mapping import ResourceRef, expand_category, parse_discovery, resolve_in, served, unserved
from kates_cli.errors import NotFound, ResourceTypeNotFound, from_status

DATA = Path(__file__).parent / "data" / "discovery-v1.37.json"


def crd_group(
    group: str, kind: str, plural: str, short: list[str], versions: tuple[str, ...] = ("v1",)
) -> dict[str, Any]:
    return {
        "metadata": {"name": group},
        "versions": [
            {
                "version": v,
                "resources": [
                    {
                        "resource": plural,
                        "responseKind": {"group": group, "version": v, "kind": kind},
                        "scope": "Namespaced",
                        "singularResource": kind.lower(),
                        "shortNames": short,
                        "verbs": ["get", "list"],
                        "subresources": [{"subresource": "status", "verbs": ["get", "update"]}],
                    }
                ],
            }
            for v in versions
        ],
    }


@pytest.fixture(scope="module")
def refs() -> list[ResourceRef]:
    doc = json.loads(DATA.read_text())
    doc["apis"]["items"].append(crd_group("example.com", "Widget", "widgets", ["wd"], ("v2", "v1")))
    # a CRD whose plural collides with a built-in: the built-in (earlier in priority order) must win
    doc["apis"]["items"].append(crd_group("other.io", "Pod", "pods", ["op"]))
    return parse_discovery(doc["api"], doc["apis"])


@pytest.mark.parametrize(
    ("arg", "group", "version", "resource"),
    [
        ("pods", "", "v1", "pods"),
        ("po", "", "v1", "pods"),
        ("pod", "", "v1", "pods"),
        ("Pod", "", "v1", "pods"),
        ("PODS", "", "v1", "pods"),
        ("svc", "", "v1", "services"),
        ("deploy", "apps", "v1", "deployments"),
        ("deployments.apps", "apps", "v1", "deployments"),
        ("deployment.v1.apps", "apps", "v1", "deployments"),
        ("Deployment.apps", "apps", "v1", "deployments"),
        ("ns", "", "v1", "namespaces"),
        ("cm", "", "v1", "configmaps"),
        ("crd", "apiextensions.k8s.io", "v1", "customresourcedefinitions"),
        # events exist in core and events.k8s.io: kubectl picks the core group
        ("events", "", "v1", "events"),
        ("ev", "", "v1", "events"),
        ("events.events.k8s.io", "events.k8s.io", "v1", "events"),
        # CRDs: preferred (first-listed) version, explicit version, short name and Kind
        ("widgets", "example.com", "v2", "widgets"),
        ("wd", "example.com", "v2", "widgets"),
        ("Widget", "example.com", "v2", "widgets"),
        ("widget.v1.example.com", "example.com", "v1", "widgets"),
        ("pods.other.io", "other.io", "v1", "pods"),
        ("op", "other.io", "v1", "pods"),
    ],
)
def test_resolves_like_kubectl(refs: list[ResourceRef], arg: str, group: str, version: str, resource: str) -> None:
    ref = resolve_in(refs, arg)
    assert ref is not None, arg
    assert (ref.group, ref.version, ref.resource) == (group, version, resource)


@pytest.mark.parametrize(
    "arg",
    [
        "foo",
        "pods/log",
        "",
        "deployments.nowhere",
        "pod.v9",
        "deployment.v2.apps",
        "pods.v1",  # "v1" read as a group, as kubectl reads it (only name.version.group names a version)
        "PO",  # short names match as typed (kubectl: the server doesn't have a resource type "PO")
        "DEPLOY",
    ],
)
def test_unknown_names_do_not_resolve(refs: list[ResourceRef], arg: str) -> None:
    assert resolve_in(refs, arg) is None


def test_refs_carry_scope_subresources_and_paths(refs: list[ResourceRef]) -> None:
    pod = resolve_in(refs, "po")
    ns = resolve_in(refs, "ns")
    deploy = resolve_in(refs, "deploy")
    assert pod and ns and deploy
    assert pod.namespaced and not ns.namespaced
    assert {"status", "log", "exec"} <= set(pod.subresources)
    assert pod.path("a", "b", "log") == "/api/v1/namespaces/a/pods/b/log"
    assert ns.path("ignored", "kube-system") == "/api/v1/namespaces/kube-system"
    assert deploy.path(None) == "/apis/apps/v1/deployments"
    assert deploy.path("x y", "we/ird") == "/apis/apps/v1/namespaces/x%20y/deployments/we%2Fird"
    assert (deploy.api_version, deploy.kind_group, deploy.group_resource) == (
        "apps/v1",
        "deployment.apps",
        "deployments.apps",
    )
    assert (pod.api_version, pod.kind_group, pod.group_resource) == ("v1", "pod", "pods")


def test_category_all_expands_like_kubectl(refs: list[ResourceRef]) -> None:
    # kubectl's discovery category expander, with HPA once although autoscaling serves it in v2 and v1
    found = [(r.group, r.version, r.resource) for r in expand_category(refs, "all")]
    assert found == [
        ("", "v1", "pods"),
        ("", "v1", "replicationcontrollers"),
        ("", "v1", "services"),
        ("apps", "v1", "daemonsets"),
        ("apps", "v1", "deployments"),
        ("apps", "v1", "replicasets"),
        ("apps", "v1", "statefulsets"),
        ("autoscaling", "v2", "horizontalpodautoscalers"),
        ("batch", "v1", "cronjobs"),
        ("batch", "v1", "jobs"),
    ]


def test_crd_categories_expand_and_match_exactly() -> None:
    gadget = crd_group("toys.io", "Gizmo", "gizmos", [], ("v2", "v1"))
    for ver in gadget["versions"]:
        ver["resources"][0]["categories"] = ["gadgets", "all"]
    refs = parse_discovery({"items": []}, {"items": [gadget]})
    assert [(r.version, r.resource) for r in expand_category(refs, "gadgets")] == [("v2", "gizmos")]
    assert [r.resource for r in expand_category(refs, "all")] == ["gizmos"]
    assert expand_category(refs, "Gadgets") == [] and expand_category(refs, "gizmos") == []


def status(details: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "kind": "Status",
        "reason": "NotFound",
        "code": 404,
        **({"details": details} if details is not None else {}),
    }


@pytest.mark.parametrize(
    ("body", "resource_gone"),
    [
        (None, True),  # "404 page not found": the group or version is not served at all
        (status({}), True),  # "the server could not find the requested resource": the group is, the resource not
        (status(None), True),
        (status({"name": "x", "kind": "configmaps"}), False),  # configmaps "x" not found: the object is missing
        (status({"name": "x", "group": "example.com", "kind": "widgets"}), False),
    ],
)
def test_a_404_tells_a_missing_resource_from_a_missing_object(body: dict[str, Any] | None, resource_gone: bool) -> None:
    exc = from_status(404, body, "404 page not found")
    assert isinstance(exc, NotFound)
    assert unserved(exc) is resource_gone


def test_a_deleted_kind_is_reported_as_unknown(refs: list[ResourceRef]) -> None:
    widget = resolve_in(refs, "wd")
    assert widget is not None and served(refs, widget)
    without = [r for r in refs if r.group != "example.com"]
    assert not served(without, widget)
    # resolved by a name, the error repeats it as kubectl words an unknown type; from a manifest, kind and version
    named = dataclasses.replace(widget, named_as="wd")
    assert named == widget and hash(named) == hash(widget)
    assert isinstance(named.missing, ResourceTypeNotFound)
    assert named.missing.message == 'the server doesn\'t have a resource type "wd"'
    assert widget.missing.message == 'no matches for kind "Widget" in version "example.com/v2"'


class _Transport:
    """Discovery's view of a transport: the server it names, and its two discovery documents (counted)."""

    scheme, host, port, prefix = "https", "127.0.0.1", 6443, ""

    def __init__(self) -> None:
        self.fetches = 0
        doc = json.loads(DATA.read_text())
        self.docs = {"/api": doc["api"], "/apis": doc["apis"]}

    def request_json(self, method: str, path: str, accept: str = "") -> dict[str, Any]:
        self.fetches += 1
        return self.docs[path]  # type: ignore[no-any-return]


def test_discovery_is_cached_on_disk_for_its_ttl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fetch writes the cache; a new Discovery reads it back within the TTL, fetches again past it, and
    `invalidate` removes it. The file is per server (its name holds host, port and a key of scheme and prefix)."""
    from kates_cli.core.mapping import Discovery

    transport = _Transport()
    first = Discovery(transport, tmp_path)  # type: ignore[arg-type]
    assert first.cache_file is not None and not first.cache_file.exists()
    refs = first.refs()
    assert transport.fetches == 2 and first.cache_file.exists()
    assert first.cache_file.parent == tmp_path / "discovery" and first.cache_file.name.startswith("127.0.0.1_6443_")
    assert Discovery(transport, str(tmp_path)).refs() == refs and transport.fetches == 2  # type: ignore[arg-type]
    assert Discovery(transport, tmp_path, ttl=-1).refs() == refs and transport.fetches == 4  # type: ignore[arg-type]
    first.invalidate()
    assert not first.cache_file.exists()
    first.invalidate()  # already gone: nothing to do


def test_without_a_home_directory_discovery_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HOME unset and no passwd entry: os.path.expanduser leaves "~", which must not become a directory named "~"
    in the working directory. Discovery then works uncached."""
    import os
    import pwd

    from kates_cli.core import mapping

    for name in ("HOME", "KATES_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)

    def no_entry(uid: int) -> Any:
        raise KeyError(uid)

    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    monkeypatch.chdir(tmp_path)
    assert os.path.expanduser("~") == "~"
    assert mapping._default_cache_dir() is None
    transport = _Transport()
    discovery = mapping.Discovery(transport)  # type: ignore[arg-type]
    assert discovery.cache_file is None
    assert discovery.refs() and transport.fetches == 2
    discovery.invalidate()
    assert mapping.Discovery(transport).refs() and transport.fetches == 4  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mapping._default_cache_dir() == str(tmp_path / "xdg" / "kates")


def _with(*groups: dict[str, Any]) -> list[ResourceRef]:
    doc = json.loads(DATA.read_text())
    doc["apis"]["items"].extend(groups)
    return parse_discovery(doc["api"], doc["apis"])


def test_a_crd_short_name_never_hides_a_resource_of_that_name() -> None:
    """A CRD with `shortNames: [secret]`: `kates delete secret foo` acted on the CRD's kind. kubectl's shortcut
    expander does not expand a name that is some resource's plural or singular."""
    refs = _with(crd_group("shadow.example.com", "Widget", "widgets", ["secret", "wdg"]))
    secret = resolve_in(refs, "secret")
    assert secret is not None and (secret.group, secret.resource) == ("", "secrets")
    widget = resolve_in(refs, "wdg")
    assert widget is not None and widget.group == "shadow.example.com"


def test_a_crd_singular_that_is_a_built_in_short_name_wins_as_in_kubectl() -> None:
    """A CRD `deploys.yota.example.com` (singular `deploy`): kubectl's `get deploy` reads the CRD (a resource's own
    name is never expanded as another's short name)."""
    refs = _with(crd_group("yota.example.com", "Deploy", "deploys", []))
    ref = resolve_in(refs, "deploy")
    assert ref is not None and ref.group == "yota.example.com"


def test_an_ambiguous_short_name_takes_the_first_and_warns_in_kubectls_words() -> None:
    refs = _with(
        crd_group("one.example.com", "Gizmo", "gizmos", ["gz"]), crd_group("two.example.com", "Gazmo", "gazmos", ["gz"])
    )
    said: list[str] = []
    ref = resolve_in(refs, "gz", said.append)
    assert ref is not None and ref.group == "one.example.com"
    assert said == ['short name "gz" could also match lower priority resource gazmos.two.example.com']


@pytest.mark.parametrize(
    ("arg", "group", "resource"),
    [
        ("deploy.app", "apps", "deployments"),  # a group prefix, as kubectl's mapper allows it
        ("storageclass.storage", "storage.k8s.io", "storageclasses"),
        ("hpa.autoscal", "autoscaling", "horizontalpodautoscalers"),
    ],
)
def test_a_group_prefix_is_enough_as_in_kubectl(arg: str, group: str, resource: str) -> None:
    ref = resolve_in(_with(), arg)
    assert ref is not None and (ref.group, ref.resource) == (group, resource)


def test_a_kind_is_tried_after_every_resource_name() -> None:
    """A CRD of Kind `Gadgets` (plural gadgetz) before a CRD whose plural is `gadgets`: kubectl maps plurals and
    singulars across all groups first, kinds only then."""
    alpha = crd_group("alpha.example.com", "Gadgets", "gadgetz", [])
    alpha["versions"][0]["resources"][0]["singularResource"] = "gadget"
    refs = _with(alpha, crd_group("beta.example.com", "Thing", "gadgets", []))
    ref = resolve_in(refs, "gadgets")
    assert ref is not None and ref.group == "beta.example.com"
    kind = resolve_in(refs, "Gadgets.alpha.example.com")
    assert kind is not None and kind.resource == "gadgetz"


def test_a_stale_version_is_not_served() -> None:
    """metrics-server down after the aggregator read its discovery: the version is Stale, its resources unserved."""
    stale = crd_group("metrics.example.com", "PodMetrics", "podmetricses", [])
    stale["versions"][0]["freshness"] = "Stale"
    assert resolve_in(_with(stale), "podmetricses") is None


def test_the_unknown_type_message_names_the_group_as_kubectl() -> None:
    from kates_cli.core.mapping import type_not_found

    assert str(type_not_found("foo")) == 'the server doesn\'t have a resource type "foo"'
    assert (
        str(type_not_found("foo.example.com"))
        == 'the server doesn\'t have a resource type "foo" in group "example.com"'
    )
