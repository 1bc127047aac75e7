"""B4's hook for `kates watch --exec`: reads the snapshot, notes when it saw it and, for every ConfigMap of query
`cms`, its resourceVersion and `data.seq`, appends that as one JSON line to $B4_LOG, then sleeps $B4_SLEEP seconds
(the slow hook whose runs kates must coalesce).
"""

import json
import os
import sys
import time


def main() -> None:
    data = sys.stdin.buffer.read()
    seen = time.monotonic()
    snapshot = json.loads(data)
    objects = {
        o["metadata"]["name"]: [o["metadata"]["resourceVersion"], int((o.get("data") or {}).get("seq", "-1"))]
        for o in snapshot["cms"]
    }
    line = {"t": seen, "run": int(os.environ.get("KATES_RUN", "-1")), "objects": objects}
    with open(os.environ["B4_LOG"], "a") as fh:
        fh.write(json.dumps(line) + "\n")
    time.sleep(float(os.environ["B4_SLEEP"]))


if __name__ == "__main__":
    main()
