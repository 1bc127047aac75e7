"""B7, kates side: a `kates_cli.Client().watch(Query(...))` of N ConfigMaps that lives through connection drops and
API server restarts. Counts what it takes to catch up: relists and reconnects (`acc.streams[0].relists` and
`.reconnects`), objects re-fetched (every object of a relist after the first sync, plus any event repeating a
version it already had), and events.

The parent writes a marker (`data.marker = TOKEN`) on every marker object after each disruption; each time this
child has seen a token on all of them it prints "phase TOKEN {json}" with its counts so far. It exits after the
last token.

Usage: kates_resume.py NAMESPACE TOKEN[,TOKEN...] MARKER_NAME... Prints "ready N", then one "phase" line per token.
"""

import json
import sys
import threading
import time
from typing import Any

from kates_cli import Client, Query


def main() -> None:
    ns, tokens, markers = sys.argv[1], sys.argv[2].split(","), set(sys.argv[3:])
    seen: dict[str, set[str]] = {t: set() for t in tokens}
    reached = {t: threading.Event() for t in tokens}
    stats = {"relisted_objects": 0, "repeated_events": 0, "events": 0}
    with Client() as client, client.watch(Query("cms", "cm", namespace=ns)) as acc:
        snapshot: dict[str, list[dict[str, Any]]] = {}
        if not acc.wait(120) or not acc.update(snapshot):
            raise SystemExit("no initial snapshot")
        known = {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in snapshot["cms"]}
        replace, event, event_batch = acc.replace, acc.event, acc.event_batch

        def note(entry: Any) -> None:
            name = (entry.obj.get("metadata") or {}).get("name")
            token = (entry.obj.get("data") or {}).get("marker")
            if name in markers and token in seen:
                seen[token].add(name)
                if seen[token] == markers:
                    reached[token].set()

        def counting_replace(query: str, entries: list[Any], rv: str) -> None:
            stats["relisted_objects"] += len(entries)
            for e in entries:
                note(e)
            replace(query, entries, rv)

        def count(entry: Any) -> None:
            stats["events"] += 1
            name = (entry.obj.get("metadata") or {}).get("name")
            if known.get(name) == entry.rv:
                stats["repeated_events"] += 1
            known[name] = entry.rv
            note(entry)

        def counting_event(query: str, event_type: str, entry: Any) -> None:
            count(entry)
            event(query, event_type, entry)

        def counting_batch(query: str, batch: list[tuple[str, Any]]) -> None:
            for _, entry in batch:  # streams deliver what one read brought at once (Accumulator.event_batch)
                count(entry)
            event_batch(query, batch)

        acc.replace = counting_replace  # type: ignore[method-assign]
        acc.event = counting_event  # type: ignore[method-assign]
        acc.event_batch = counting_batch  # type: ignore[method-assign]
        print("ready", len(known), flush=True)
        for token in tokens:
            ok = reached[token].wait(180)
            stream = acc.streams[0]
            result = {
                **stats,
                "refetched": stats["relisted_objects"] + stats["repeated_events"],
                "relists": stream.relists,
                "reconnects": stream.reconnects,
                "caught_up": ok,
                "at": time.monotonic(),
            }
            print("phase", token, json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
