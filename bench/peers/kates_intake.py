"""B3, kates side: a `kates_cli.Client().watch(Query(...))` of the ConfigMaps of one namespace taking in a patch
storm. Every watch event delivered into the Accumulator is counted (a wrapper around `Accumulator.event`); the
client's CPU-seconds for the storm come from its own rusage, between "ready" (synced, watch open) and the moment
the last expected event has been delivered. At the end the snapshot is taken once and checked to hold every object.

Usage: kates_intake.py NAMESPACE EXPECTED_EVENTS TIMEOUT. Prints "ready", then "done {json}".
"""

import json
import resource
import sys
import threading
import time
from typing import Any

from kates_cli import Client, Query


def cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main() -> None:
    ns, expected, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    count = 0
    done = threading.Event()
    with Client() as client, client.watch(Query("cms", "cm", namespace=ns)) as acc:
        deliver = acc.event

        def counting(query: str, event_type: str, entry: Any) -> None:
            nonlocal count
            deliver(query, event_type, entry)
            count += 1
            if count >= expected:
                done.set()

        acc.event = counting  # type: ignore[method-assign]
        deliver_many = getattr(
            acc, "event_batch", None
        )  # streams deliver what one read brought at once, where they can

        def counting_many(query: str, batch: list[Any]) -> None:
            nonlocal count
            assert deliver_many is not None
            deliver_many(query, batch)
            count += len(batch)
            if count >= expected:
                done.set()

        if deliver_many is not None:
            acc.event_batch = counting_many  # type: ignore[method-assign]
        snapshot: dict[str, list[dict[str, Any]]] = {}
        if not acc.wait(120) or not acc.update(snapshot):
            raise SystemExit("no initial snapshot")
        objects = len(snapshot["cms"])
        cpu0, t0 = cpu(), time.monotonic()
        print("ready", flush=True)
        done.wait(timeout)
        cpu1, t1 = cpu(), time.monotonic()
        acc.update(snapshot)
        result = {
            "events": count,
            "cpu": cpu1 - cpu0,
            "wall": t1 - t0,
            "objects": objects,
            "final_objects": len(snapshot["cms"]),
            "complete": count >= expected,
        }
        print("done", json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
