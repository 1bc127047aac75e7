"""B1 peer "raw": `get cm -n NS -o json` with the official kubernetes client, skipping the models:
`_preload_content=False`, then `json.loads` of the body and `json.dumps`.

Usage: raw_get.py NAMESPACE (kubeconfig from $KUBECONFIG). Prints the list as 4-space-indented JSON, like kubectl.
"""

import json
import sys

from kubernetes import client, config


def main() -> None:
    config.load_kube_config()
    resp = client.CoreV1Api().list_namespaced_config_map(sys.argv[1], _preload_content=False)
    sys.stdout.write(json.dumps(json.loads(resp.data), indent=4) + "\n")


if __name__ == "__main__":
    main()
