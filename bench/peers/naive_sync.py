"""B2 peer "naive": a cold list+watch of ConfigMaps, Secrets and Services in one namespace with the official
kubernetes client used the usual way (typed models, `watch.Watch().stream` from the list's resourceVersion), one
thread per kind as an informer would; once all three lists are in, the snapshot (models turned back into JSON with
`sanitize_for_serialization` + `json.dumps`, keyed like kates's: cm, secrets, svc) goes to the hook's stdin.

Usage: naive_sync.py NAMESPACE HOOK [ARGS...]. Exits with the hook's exit code.
"""

import json
import os
import subprocess
import sys
import threading

from kubernetes import client, config, watch


def main() -> None:
    ns, hook = sys.argv[1], sys.argv[2:]
    config.load_kube_config()
    api = client.ApiClient()
    v1 = client.CoreV1Api(api)
    kinds = {
        "cm": v1.list_namespaced_config_map,
        "secrets": v1.list_namespaced_secret,
        "svc": v1.list_namespaced_service,
    }
    stores: dict[str, dict[str, object]] = {name: {} for name in kinds}
    lock = threading.Lock()
    synced = {name: threading.Event() for name in kinds}
    errors: list[BaseException] = []

    def informer(name: str) -> None:
        try:
            lister = kinds[name]
            result = lister(ns)
            with lock:
                for item in result.items:
                    stores[name][item.metadata.name] = item
            synced[name].set()
            for event in watch.Watch().stream(lister, ns, resource_version=result.metadata.resource_version):
                with lock:
                    obj = event["object"]
                    if event["type"] == "DELETED":
                        stores[name].pop(obj.metadata.name, None)
                    else:
                        stores[name][obj.metadata.name] = obj
        except BaseException as exc:  # report, and let main fail
            errors.append(exc)
            synced[name].set()

    for name in kinds:
        threading.Thread(target=informer, args=(name,), daemon=True).start()
    for event in synced.values():
        event.wait()
    if errors:
        raise errors[0]
    with lock:
        snapshot = {
            name: [api.sanitize_for_serialization(store[k]) for k in sorted(store)] for name, store in stores.items()
        }
    code = subprocess.run(hook, input=json.dumps(snapshot).encode()).returncode
    sys.stdout.flush()
    os._exit(code)  # the watch threads are blocked in reads: do not wait for them


if __name__ == "__main__":
    main()
