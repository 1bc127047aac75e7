"""The names completion offers (cli/completionnames.py): read from a Table without objects, kept a few seconds.

A fake client stands in for the transport: what it answers is a recorded Table (or a plain list), not behaviour of
the API server under test. The e2e test (tests/e2e/test_completion_load.py) runs it against the real one.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from kates_cli.cli import completionnames
from kates_cli.core.config import ConnectionSettings
from kates_cli.core.mapping import ResourceRef

CM = ResourceRef("", "v1", "configmaps", "ConfigMap", True)
NS = ResourceRef("", "v1", "namespaces", "Namespace", False)


class FakeTransport:
    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.requests: list[tuple[str, dict[str, Any], str]] = []

    def request(self, method: str, path: str, *, params: dict[str, Any], accept: str) -> bytes:
        self.requests.append((path, params, accept))
        return orjson.dumps(self.answer)


class FakeClient:
    def __init__(self, answer: dict[str, Any], namespace: str = "ns1", context: str = "ctx") -> None:
        self.settings = ConnectionSettings("https://k:6443", context, namespace, kubeconfig_paths=("/k/config",))
        self.namespace = namespace
        self.transport = FakeTransport(answer)


def table(*names: str, name_at: int = 0) -> dict[str, Any]:
    columns = [{"name": "Data", "format": ""}]
    columns.insert(name_at, {"name": "Name", "format": "name"})
    rows = []
    for n in names:
        cells: list[Any] = [3]
        cells.insert(name_at, n)
        rows.append({"cells": cells, "object": None})
    return {"kind": "Table", "columnDefinitions": columns, "rows": rows}


def test_names_come_from_one_table_request_without_objects(tmp_path: Path) -> None:
    client = FakeClient(table("b", "a", "c"))
    assert completionnames.names(client, CM, cache_dir=tmp_path) == ["a", "b", "c"]  # type: ignore[arg-type]
    [(path, params, accept)] = client.transport.requests
    assert path == "/api/v1/namespaces/ns1/configmaps"
    assert params == {"resourceVersion": "0", "includeObject": "None"}  # the watch cache; no limit, no objects
    assert accept.startswith("application/json;as=Table;v=v1;g=meta.k8s.io")


def test_the_name_column_is_found_by_its_format(tmp_path: Path) -> None:
    client = FakeClient(table("x", "y", name_at=1))
    assert completionnames.names(client, CM, cache_dir=tmp_path) == ["x", "y"]  # type: ignore[arg-type]


def test_a_plain_list_still_gives_its_names(tmp_path: Path) -> None:
    client = FakeClient({"kind": "List", "items": [{"metadata": {"name": "q"}}, {"metadata": {"name": "p"}}]})
    assert completionnames.names(client, CM, cache_dir=tmp_path) == ["p", "q"]  # type: ignore[arg-type]


def test_names_are_kept_for_the_ttl_and_no_longer(tmp_path: Path) -> None:
    client = FakeClient(table("a"))
    assert completionnames.names(client, CM, ttl=60, cache_dir=tmp_path) == ["a"]  # type: ignore[arg-type]
    client.transport.answer = table("a", "b")
    assert completionnames.names(client, CM, ttl=60, cache_dir=tmp_path) == ["a"]  # type: ignore[arg-type]
    assert len(client.transport.requests) == 1
    [cached] = (tmp_path / "completion").iterdir()
    assert stat.S_IMODE(cached.stat().st_mode) == 0o600  # names can be telling: the owner's only
    old = time.time() - 61
    os.utime(cached, (old, old))
    assert completionnames.names(client, CM, ttl=60, cache_dir=tmp_path) == ["a", "b"]  # type: ignore[arg-type]
    assert completionnames.names(client, CM, ttl=0, cache_dir=tmp_path) == ["a", "b"]  # type: ignore[arg-type]
    assert len(client.transport.requests) == 3


def test_an_empty_kind_is_cached_as_empty(tmp_path: Path) -> None:
    client = FakeClient(table())
    assert completionnames.names(client, CM, ttl=60, cache_dir=tmp_path) == []  # type: ignore[arg-type]
    assert completionnames.names(client, CM, ttl=60, cache_dir=tmp_path) == []  # type: ignore[arg-type]
    assert len(client.transport.requests) == 1


def test_each_namespace_context_and_kind_has_its_own_names(tmp_path: Path) -> None:
    def key(client: FakeClient, ref: ResourceRef) -> Path:
        return completionnames.cache_file(client, ref, client.namespace if ref.namespaced else None, tmp_path)  # type: ignore[arg-type]

    base = key(FakeClient({}), CM)
    assert key(FakeClient({}, namespace="ns2"), CM) != base
    assert key(FakeClient({}, context="other"), CM) != base
    assert key(FakeClient({}), NS) != base
    assert key(FakeClient({}, namespace="ns2"), NS) == key(FakeClient({}), NS)  # cluster-scoped: no namespace
    assert base.parent == tmp_path / "completion"


@pytest.mark.parametrize(("value", "ttl"), [(None, 5.0), ("0", 0.0), ("12.5", 12.5), ("junk", 5.0), ("-3", 0.0)])
def test_the_ttl_comes_from_the_environment(value: str | None, ttl: float) -> None:
    env = {} if value is None else {completionnames.TTL_ENV: value}
    assert completionnames.ttl_seconds(env) == ttl


def test_an_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    client = FakeClient(table("a"))
    assert completionnames.names(client, CM, ttl=60, cache_dir=blocker) == ["a"]  # type: ignore[arg-type]
    assert completionnames.names(client, CM, ttl=60, cache_dir=blocker) == ["a"]  # type: ignore[arg-type]
    assert len(client.transport.requests) == 2


class PerNamespace(FakeClient):
    """A client whose server holds the names given for each namespace (and, for a cluster-wide list, `cluster`)."""

    def __init__(self, held: dict[str, list[str]], namespace: str = "ns1") -> None:
        super().__init__({}, namespace=namespace)
        self.held = held
        self.transport.request = self.request  # type: ignore[method-assign]

    def request(self, method: str, path: str, *, params: dict[str, Any], accept: str) -> bytes:
        self.transport.requests.append((path, params, accept))
        parts = path.split("/")
        namespace = parts[parts.index("namespaces") + 1] if "namespaces" in parts[:-1] else "cluster"
        return orjson.dumps(table(*self.held.get(namespace, [])))

    def resolve(self, kind: str) -> ResourceRef:
        return {"cm": CM, "ns": NS}[kind]


def test_names_across_namespaces_are_each_namespaces_once_sorted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KATES_CACHE_DIR", str(tmp_path))
    client = PerNamespace({"a": ["x", "shared", "ax"], "b": ["shared", "b1"], "ns1": ["own"], "cluster": ["n1", "n2"]})
    match = completionnames.matching
    assert match(client, "cm", "", ["b", "a"]) == ["ax", "b1", "shared", "x"]  # type: ignore[arg-type]
    assert match(client, "cm", "s", ["a", "b"]) == ["shared"]  # type: ignore[arg-type]
    assert match(client, "cm", "") == ["own"]  # type: ignore[arg-type]  # the client's namespace
    client.transport.requests.clear()
    assert match(client, "ns", "n", ["a", "b"]) == ["n1", "n2"]  # type: ignore[arg-type]  # cluster-scoped: once
    assert len(client.transport.requests) == 1


def test_the_client_is_made_from_the_global_options_as_main_makes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[Any, ...]] = []

    class Client:
        def __init__(self, *args: Any) -> None:
            made.append(args)

    from kates_cli.core import client

    monkeypatch.setattr(client, "Client", Client)
    monkeypatch.delenv("KATES_NAMESPACE", raising=False)
    monkeypatch.delenv("KATES_CONTEXT", raising=False)
    timeout = completionnames.COMPLETION_TIMEOUT
    _, several = completionnames.client_for("/k", "c", ["b,a", "c", ""])
    assert several == ["a", "b", "c"] and made[-1] == ("/k", "c", "c", timeout)  # -n b,a -n c: the last is its own
    _, several = completionnames.client_for(None, None, None)
    assert several == [] and made[-1] == (None, None, None, timeout)
    monkeypatch.setenv("KATES_NAMESPACE", "hook-ns")  # inside a `kates watch` hook, as every command
    monkeypatch.setenv("KATES_CONTEXT", "hook-ctx")
    _, several = completionnames.client_for(None, None, [])
    assert several == [] and made[-1] == (None, "hook-ctx", "hook-ns", timeout)
