"""B7, naive side: the official kubernetes client's list, then `watch.Watch().stream` from the list's
resourceVersion, living through connection drops and API server restarts the usual naive way: the library resumes
by itself when a stream ends cleanly, and on any error the loop lists again and watches from there (1 s pause).
Counts relists (lists after the first), objects re-fetched (every object of those lists), reconnects and events.

The parent writes a marker (`data.marker = TOKEN`) on every marker object after each disruption; each time this
child has seen a token on all of them it prints "phase TOKEN {json}" with its counts so far. It exits after the
last token.

Usage: naive_resume.py NAMESPACE TOKEN[,TOKEN...] MARKER_NAME... Prints "ready N", then one "phase" line per token.
"""

import json
import sys
import time
from typing import Any

from kubernetes import client, config, watch


def main() -> None:
    ns, tokens, markers = sys.argv[1], sys.argv[2].split(","), set(sys.argv[3:])
    config.load_kube_config()
    v1 = client.CoreV1Api()
    seen: dict[str, set[str]] = {t: set() for t in tokens}
    stats = {"lists": 0, "refetched": 0, "reconnects": 0, "events": 0}
    pending = list(tokens)
    deadline = time.monotonic() + 180 * len(tokens)

    def note(obj: Any) -> None:
        token = (obj.data or {}).get("marker")
        if obj.metadata.name in markers and token in seen:
            seen[token].add(obj.metadata.name)
        while pending and seen[pending[0]] == markers:
            result = {**stats, "relists": stats["lists"] - 1, "caught_up": True, "at": time.monotonic()}
            print("phase", pending.pop(0), json.dumps(result), flush=True)

    while pending and time.monotonic() < deadline:
        try:
            listed = v1.list_namespaced_config_map(ns)
        except Exception:
            time.sleep(0.5)
            continue
        stats["lists"] += 1
        if stats["lists"] > 1:
            stats["refetched"] += len(listed.items)
        else:
            print("ready", len(listed.items), flush=True)
        for item in listed.items:
            note(item)
        w = watch.Watch()
        try:
            for event in w.stream(v1.list_namespaced_config_map, ns, resource_version=listed.metadata.resource_version):
                stats["events"] += 1
                note(event["object"])
                if not pending:
                    w.stop()
                    break
        except Exception:
            stats["reconnects"] += 1
            time.sleep(1.0)
    for token in pending:
        print("phase", token, json.dumps({**stats, "relists": stats["lists"] - 1, "caught_up": False}), flush=True)


if __name__ == "__main__":
    main()
