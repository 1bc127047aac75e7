"""B4: coalescing. A real `kates watch -q 'cms=cm ns=NS' --exec peers/b4_hook.py` whose hook sleeps S seconds per
run, while this process makes U writes spread evenly over T seconds to the M ConfigMaps of a fresh namespace
(merge patches setting `data.seq` to the write's number; every 10th write creates a ConfigMap, every 10th (from
the 9th) deletes one created earlier). Measured:

- hook runs caused by the writes (the bootstrap run left out) against the runs a hook run once per watch event
  would need, which is one per write (U; counted, not run: it would take U x S seconds);
- staleness of each write: from its acknowledgement by the API server to the start of the first hook run whose
  snapshot shows it (or something newer), p99 over all writes, and for the last write;
- correctness: the final snapshot equals the server's state (same objects, same resourceVersions), and every
  write was seen by some run. This is checked always (also in --smoke): a failure fails the whole run.
"""

from __future__ import annotations

import http.client
import json
import math
import signal
import ssl
import time
from pathlib import Path
from typing import Any

from . import fixtures
from .harness import BenchError, Child, Context, median, wait_until
from .report import Row


class Writer:
    """One kept-alive admin connection to the API server (each write is acknowledged before the next)."""

    def __init__(self, ctx: Context):
        cp = ctx.cp
        tls = ssl.create_default_context(cafile=str(cp.pki.ca_cert))
        tls.load_cert_chain(str(cp.admin[0]), str(cp.admin[1]))
        self.conn = http.client.HTTPSConnection("127.0.0.1", cp.port, context=tls, timeout=30)

    def send(self, method: str, path: str, body: Any, content_type: str = "application/json") -> None:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": content_type} if data is not None else {}
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        if resp.status >= 300:
            raise BenchError(f"{method} {path} -> {resp.status}: {raw[:300]!r}")

    def close(self) -> None:
        self.conn.close()


def plan(objects: int, updates: int) -> list[tuple[str, str, int]]:
    """(op, name, seq) for every write: mostly patches, some creates and deletes (of objects created earlier)."""
    ops: list[tuple[str, str, int]] = []
    created: list[str] = []
    for k in range(updates):
        if k % 10 == 5:
            name = f"new-{k:05d}"
            created.append(name)
            ops.append(("create", name, k))
        elif k % 10 == 9 and len(created) > 3:
            ops.append(("delete", created.pop(0), k))
        else:
            ops.append(("patch", f"cm-{(k * 7) % objects:05d}", k))
    return ops


def read_runs(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def sees(run: dict[str, Any], op: str, name: str, seq: int) -> bool:
    obj = run["objects"].get(name)
    if op == "delete":
        return obj is None
    return obj is not None and obj[1] >= seq


def first_seen(
    write: dict[str, Any], writes: list[dict[str, Any]], runs: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The first run whose snapshot shows `write` or a later write to the same object (coalescing may skip a state:
    a create and its delete can both happen between two runs)."""
    later = [w for w in writes if w["name"] == write["name"] and w["seq"] >= write["seq"]]
    for run in runs:
        if any(run["t"] >= w["sent"] and sees(run, w["op"], w["name"], w["seq"]) for w in later):
            return run
    return None


def one_round(ctx: Context, rnd: int) -> dict[str, Any]:
    s = ctx.sizes
    ns = f"bench-coalesce-{rnd}"
    fixtures.namespace(ctx, ns)
    fixtures.create(ctx, ns, "configmaps", [fixtures.configmap(i, seq="-1") for i in range(s.coalesce_objects)])
    log = ctx.tmp / f"b4-{rnd}.log"
    env = dict(ctx.env, B4_LOG=str(log), B4_SLEEP=str(s.hook_sleep))
    hook = [ctx.python, "--", str(Path(__file__).parent / "peers" / "b4_hook.py")]
    argv = [*ctx.kates, "watch", "-q", f"cms=cm ns={ns}", "--exec", hook[0], *hook[1:]]
    child = Child(argv, env, stdout_null=True)
    writer = Writer(ctx)
    try:
        wait_until(lambda: read_runs(log), 60, "B4's first (bootstrap) hook run")
        ops = plan(s.coalesce_objects, s.coalesce_updates)
        spacing = s.coalesce_seconds / len(ops)
        base = f"/api/v1/namespaces/{ns}/configmaps"
        writes: list[dict[str, Any]] = []
        t0 = time.monotonic()
        for k, (op, name, seq) in enumerate(ops):
            due = t0 + k * spacing
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            sent = time.monotonic()
            if op == "patch":
                writer.send("PATCH", f"{base}/{name}", {"data": {"seq": str(seq)}}, "application/merge-patch+json")
            elif op == "create":
                writer.send("POST", base, fixtures.configmap(0, seq=str(seq)) | {"metadata": {"name": name}})
            else:
                writer.send("DELETE", f"{base}/{name}", None)
            writes.append({"op": op, "name": name, "seq": seq, "sent": sent, "acked": time.monotonic()})
        last_write = time.monotonic()
        code, body = ctx.cp.request("GET", base)
        if code != 200:
            raise BenchError(f"listing {base} -> {code}")
        server = {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in body["items"]}

        def final_run() -> bool:
            runs = read_runs(log)
            return bool(runs) and {n: v[0] for n, v in runs[-1]["objects"].items()} == server

        caught_up = True
        try:
            wait_until(final_run, s.coalesce_seconds + 10 * s.hook_sleep + 20, "a hook run with the server's state")
        except BenchError:
            caught_up = False
        time.sleep(s.hook_sleep + 1.0)  # a run now would be a spurious one: let it show up in the count
    finally:
        writer.close()
        code = child.finish(timeout=30, stop=signal.SIGTERM)
    runs = read_runs(log)
    storm_runs = runs[1:]  # the first run is the bootstrap run
    staleness, unseen = [], []
    for w in writes:
        seen = first_seen(w, writes, runs)
        if seen is None:
            unseen.append(w)
        else:
            staleness.append(max(0.0, seen["t"] - w["acked"]))
    final = {n: v[0] for n, v in runs[-1]["objects"].items()} if runs else {}
    lost = sorted(set(server) - set(final))
    extra = sorted(set(final) - set(server))
    stale = sorted(n for n in set(server) & set(final) if server[n] != final[n])
    staleness.sort()
    return {
        "runs": len(storm_runs),
        "writes": len(writes),
        "write_seconds": last_write - t0,
        "p99_staleness": staleness[max(0, math.ceil(0.99 * len(staleness)) - 1)] if staleness else None,
        "last_write_staleness": staleness_of_last(writes, runs),
        "created_objects_never_shown": sum(
            1 for w in writes if w["op"] == "create" and not any(sees(r, "create", w["name"], w["seq"]) for r in runs)
        ),
        "lost": lost,
        "extra": extra,
        "stale": stale,
        "unseen_writes": len(unseen),
        "unseen_examples": unseen[:5],
        "caught_up": caught_up,
        "exit_code": code,
        "bad": len(lost) + len(extra) + len(stale) + len(unseen) + (0 if caught_up else 1),
    }


def staleness_of_last(writes: list[dict[str, Any]], runs: list[dict[str, Any]]) -> float | None:
    if not writes:
        return None
    seen = first_seen(writes[-1], writes, runs)
    return None if seen is None else max(0.0, seen["t"] - writes[-1]["acked"])


def run(ctx: Context) -> list[Row]:
    s = ctx.sizes
    results = [one_round(ctx, rnd) for rnd in range(ctx.rounds)]
    u, t, sleep = s.coalesce_updates, s.coalesce_seconds, s.hook_sleep
    bound = t / sleep + 2
    bad = sum(r["bad"] for r in results)
    if bad:
        worst = max(results, key=lambda r: r["bad"])
        ctx.failures.append(
            f"B4: final snapshot differs from the server or writes were never seen: lost {worst['lost'][:5]}, "
            f"extra {worst['extra'][:5]}, stale {worst['stale'][:5]}, unseen writes {worst['unseen_writes']}, "
            f"caught up {worst['caught_up']}"
        )
    what = f"{u} writes/{t:g} s, hook sleeps {sleep:g} s"
    p99 = [r["p99_staleness"] for r in results if r["p99_staleness"] is not None]
    last = [r["last_write_staleness"] for r in results if r["last_write_staleness"] is not None]
    return [
        Row(
            "B4",
            f"{what}: hook runs",
            "runs",
            median([r["runs"] for r in results]),
            "hook run once per event",
            float(u),
            target=f"<= T/S + 2 = {bound:g}",
            check=f"kates<={bound}",
            samples={"kates": [r["runs"] for r in results], "peer": [float(u)] * len(results)},
            note="peer figure counted, not run: one run per watch event is one per write (U), "
            f"which would take U x S = {u * sleep:g} s",
            details={"rounds": results},
        ),
        Row(
            "B4",
            f"{what}: p99 staleness (acked -> hook sees it)",
            "s",
            median(p99) if p99 else None,
            "",
            None,
            ratio_kind="",
            target=f"<= S + 0.2 = {sleep + 0.2:g} s",
            check=f"kates<={sleep + 0.2}",
            samples={"kates": p99, "last_write": last},
            note=f"last write seen after {median(last):.3f} s (median over rounds)" if last else "",
        ),
        Row(
            "B4",
            f"{what}: lost/extra/stale objects, unseen writes",
            "objects",
            float(bad),
            "",
            None,
            ratio_kind="",
            target="0 (final snapshot = server state)",
            check="kates==0",
            correctness=True,
        ),
    ]
