"""The objects the benchmarks read, created before any timing through `ControlPlane.bulk` (untimed): ConfigMaps of
about 1 KB, and for B2 also Secrets (about 1 KB) and Services at the ratios of BENCHMARKS.md (N : N/2 : N/10).

Services are headless (`clusterIP: None`): the local control plane's service CIDR is a /24, which would run out of
cluster IPs at larger N, and a cluster IP changes nothing for a client that lists or watches them.

Namespaces: `bench-main` (the B1/B2/B6 objects), `bench-empty` (nothing: the baseline of B6), `bench-storm` (N
ConfigMaps that B3 patches and B7 watches), and one fresh `bench-coalesce-R` per B4 round.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .harness import Context, Sizes

MAIN, EMPTY, STORM = "bench-main", "bench-empty", "bench-storm"
_FILLER = "abcdefghijklmnopqrstuvwxyz0123456789" * 4


def configmap(i: int, **data: str) -> dict[str, Any]:
    """A ConfigMap whose data is about 1 KB (eight 120-character values)."""
    values = {f"key-{k}": (f"{i:05d}-{k}-" + _FILLER)[:120] for k in range(8)}
    values.update(data)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"cm-{i:05d}", "labels": {"app": "bench", "shard": str(i % 10)}},
        "data": values,
    }


def secret(i: int) -> dict[str, Any]:
    raw = (f"{i:05d}-" + _FILLER * 2)[:180].encode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": f"secret-{i:05d}", "labels": {"app": "bench"}},
        "type": "Opaque",
        "data": {f"key-{k}": base64.b64encode(raw).decode() for k in range(4)},
    }


def service(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"svc-{i:05d}", "labels": {"app": "bench"}},
        "spec": {
            "clusterIP": "None",
            "selector": {"app": f"workload-{i:05d}"},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080}, {"name": "metrics", "port": 9090}],
        },
    }


def namespace(ctx: Context, name: str) -> None:
    code, body = ctx.cp.request(
        "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    if code not in (201, 409):
        raise RuntimeError(f"creating namespace {name} -> {code}: {body}")


def create(ctx: Context, ns: str, resource: str, objects: list[dict[str, Any]]) -> None:
    if objects:
        ctx.cp.bulk("POST", [(f"/api/v1/namespaces/{ns}/{resource}", o) for o in objects])


def ensure(ctx: Context, which: str) -> None:
    """Create one fixture set at this run's size, once; a scale run grows it from the previous size (objects are
    numbered, so the set at size N is always objects 0..N-1, whatever sizes came before)."""
    n = ctx.sizes
    have = ctx.fixtures.get(which)
    if have is not None and have >= n.size:
        return
    if have is None:
        namespace(ctx, {"main": MAIN, "empty": EMPTY, "storm": STORM}[which])
        have = 0
    old = Sizes(have, n.smoke)
    if which == "main":
        create(ctx, MAIN, "configmaps", [configmap(i) for i in range(have, n.size)])
        create(ctx, MAIN, "secrets", [secret(i) for i in range(old.secrets if have else 0, n.secrets)])
        create(ctx, MAIN, "services", [service(i) for i in range(old.services if have else 0, n.services)])
    elif which == "storm":
        create(ctx, STORM, "configmaps", [configmap(i) for i in range(have, n.size)])
    elif which != "empty":
        raise ValueError(which)
    ctx.fixtures[which] = n.size


def items(ctx: Context, ns: str, resource: str) -> list[dict[str, Any]]:
    code, body = ctx.cp.request("GET", f"/api/v1/namespaces/{ns}/{resource}")
    if code != 200:
        raise RuntimeError(f"listing {resource} in {ns} -> {code}: {body}")
    return list(body["items"])


def raw_json_bytes(objects: list[dict[str, Any]]) -> int:
    """The objects' size as compact JSON, as the server sends them."""
    return sum(len(json.dumps(o, separators=(",", ":"))) for o in objects)
