"""B3, naive side: the official kubernetes client's `watch.Watch().stream(list_namespaced_config_map, ...)` (typed
models for every event) from the resourceVersion of a first list, taking in the same patch storm as kates. Counts
MODIFIED events; the client's CPU-seconds for the storm come from its own rusage between "ready" and the last
expected event.

Usage: naive_intake.py NAMESPACE EXPECTED_EVENTS TIMEOUT. Prints "ready", then "done {json}".
"""

import json
import resource
import sys
import time

from kubernetes import client, config, watch


def cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main() -> None:
    ns, expected, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    config.load_kube_config()
    v1 = client.CoreV1Api()
    listed = v1.list_namespaced_config_map(ns)
    count = 0
    cpu0, t0 = cpu(), time.monotonic()
    print("ready", flush=True)
    w = watch.Watch()
    stream = w.stream(
        v1.list_namespaced_config_map,
        ns,
        resource_version=listed.metadata.resource_version,
        timeout_seconds=int(timeout),
    )
    for event in stream:
        if event["type"] == "MODIFIED":
            count += 1
            if count >= expected:
                break
    cpu1, t1 = cpu(), time.monotonic()
    w.stop()
    result = {
        "events": count,
        "cpu": cpu1 - cpu0,
        "wall": t1 - t0,
        "objects": len(listed.items),
        "complete": count >= expected,
    }
    print("done", json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
