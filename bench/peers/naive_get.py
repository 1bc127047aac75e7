"""B1 peer "naive": `get cm -n NS -o json` with the official kubernetes client used the usual way: typed models
(`CoreV1Api().list_namespaced_config_map`), then `ApiClient().sanitize_for_serialization` and `json.dumps`.

Usage: naive_get.py NAMESPACE (kubeconfig from $KUBECONFIG). Prints the list as 4-space-indented JSON, like kubectl.
"""

import json
import sys

from kubernetes import client, config


def main() -> None:
    config.load_kube_config()
    api = client.ApiClient()
    result = client.CoreV1Api(api).list_namespaced_config_map(sys.argv[1])
    sys.stdout.write(json.dumps(api.sanitize_for_serialization(result), indent=4) + "\n")


if __name__ == "__main__":
    main()
