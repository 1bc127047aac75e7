"""Parity rows for discovery's edges (issue 10): `get all` and categories, `get -f`, `api-resources`, `version`."""

from __future__ import annotations

import copy
import tempfile
from typing import Any

from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import create, ensure_crd, schemaless_crd
from tests.e2e.parity import Case

# kubectl caches discovery for 6 hours under ~/.kube/cache; a CRD made by a row must not meet a cache older than it
FRESH_KUBECTL_CACHE = {"KUBECACHEDIR": tempfile.mkdtemp(prefix="disco-kubectl-cache-")}


def _crd(plural: str, kind: str, categories: list[str]) -> dict[str, Any]:
    return schemaless_crd("disco.example.com", plural, kind, categories=categories)


def configmap_and_service(cluster: ControlPlane, ns: str) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "c1"}, "data": {"a": "1"}})
    create(
        cluster,
        f"/api/v1/namespaces/{ns}/services",
        {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}], "selector": {"app": "web"}}},
    )


def workloads(cluster: ControlPlane, ns: str) -> None:
    """A Deployment (two Pending pods: no scheduler), a Service, a suspended CronJob and a ConfigMap, settled: every
    status the controllers write is written before the rows compare."""
    configmap_and_service(cluster, ns)
    labels = {"app": "web"}
    pod = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    create(
        cluster,
        f"/apis/apps/v1/namespaces/{ns}/deployments",
        {"metadata": {"name": "web"}, "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": pod}},
    )
    job = {"template": {"spec": {**copy.deepcopy(pod["spec"]), "restartPolicy": "Never"}}}
    create(
        cluster,
        f"/apis/batch/v1/namespaces/{ns}/cronjobs",
        {
            "metadata": {"name": "nightly"},
            "spec": {"schedule": "0 0 1 1 *", "suspend": True, "jobTemplate": {"spec": job}},
        },
    )

    def settled() -> bool:
        _, deploy = cluster.request("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/web")
        _, rss = cluster.request("GET", f"/apis/apps/v1/namespaces/{ns}/replicasets")
        _, pods = cluster.request("GET", f"/api/v1/namespaces/{ns}/pods")
        status = deploy.get("status") or {}
        return (
            status.get("observedGeneration") == 1
            and status.get("replicas") == 2
            and status.get("updatedReplicas") == 2
            and len(rss.get("items") or []) == 1
            and (rss["items"][0].get("status") or {}).get("replicas") == 2
            and len(pods.get("items") or []) == 2
        )

    wait_for(settled, 60, "the deployment's replica set and pods")


def toys(cluster: ControlPlane, ns: str) -> None:
    """Two CRDs in the category `discotoys`, one object of each."""
    for plural, kind in (("gizmos", "Gizmo"), ("doodads", "Doodad")):
        ensure_crd(cluster, _crd(plural, kind, ["discotoys"]))
        create(
            cluster,
            f"/apis/disco.example.com/v1/namespaces/{ns}/{plural}",
            {"apiVersion": "disco.example.com/v1", "kind": kind, "metadata": {"name": f"my-{kind.lower()}"}},
        )


MIXED = """apiVersion: v1
kind: ConfigMap
metadata: {name: c1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: kube-root-ca.crt}
"""
ONE_JSON = '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c1"}}\n'
MISSING = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: missing1}\n"
TREE = {
    "m/a.yaml": MIXED,
    "m/b.json": ONE_JSON,
    "m/sub/c.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n",
}

CASES = [
    # get all, categories and duplicates
    Case("disco-get-all", ("get", "all", "-n", "{ns}"), setup=workloads, stdout="masked"),
    Case("disco-get-all-and-cm", ("get", "all,cm", "-n", "{ns}"), setup=workloads, stdout="masked"),
    Case("disco-get-all-name", ("get", "all", "-n", "{ns}", "-o", "name"), setup=workloads),
    Case("disco-get-svc-and-all-once", ("get", "svc,all", "-n", "{ns}", "-o", "name"), setup=workloads),
    Case(
        "disco-get-cm-twice-once", ("get", "cm,configmaps", "-n", "{ns}"), setup=configmap_and_service, stdout="masked"
    ),
    Case("disco-get-all-empty", ("get", "all", "-n", "{ns}"), stderr_words=("No resources found in",)),
    Case("disco-get-all-with-a-name", ("get", "all", "web", "-n", "{ns}"), stderr_words=("only one resource",)),
    Case("disco-get-all-cm-with-a-name", ("get", "all,cm", "c1"), stderr_words=('resource type "all"',)),
    Case(
        "disco-get-crd-category",
        ("get", "discotoys", "-n", "{ns}"),
        setup=toys,
        stdout="masked",
        env=FRESH_KUBECTL_CACHE,
    ),
    Case(
        "disco-get-crd-category-name",
        ("get", "discotoys", "-n", "{ns}", "-o", "name"),
        setup=toys,
        env=FRESH_KUBECTL_CACHE,
    ),
    # get -f
    Case(
        "disco-get-f-file",
        ("get", "-f", "{dir}/m.yaml", "-n", "{ns}"),
        setup=configmap_and_service,
        files={"m.yaml": MIXED},
        stdout="masked",
    ),
    Case(
        "disco-get-f-dir", ("get", "-f", "{dir}/m", "-n", "{ns}", "-o", "name"), setup=configmap_and_service, files=TREE
    ),
    Case(
        "disco-get-f-recursive",
        ("get", "-f", "{dir}/m", "-R", "-n", "{ns}", "-o", "name"),
        setup=configmap_and_service,
        files=TREE,
    ),
    Case("disco-get-f-stdin", ("get", "-f", "-", "-n", "{ns}", "-o", "name"), setup=configmap_and_service, stdin=MIXED),
    Case(
        "disco-get-f-one-json",
        ("get", "-f", "{dir}/one.json", "-n", "{ns}", "-o", "json"),
        setup=configmap_and_service,
        files={"one.json": ONE_JSON},
    ),
    # a directory: for a single file, kubectl's -o json|yaml|name prints nothing at all when one object is missing
    # (its printGeneric returns early when one item is implied); kates prints what it found in every format
    Case(
        "disco-get-f-missing",
        ("get", "-f", "{dir}/m", "-n", "{ns}", "-o", "name"),
        setup=configmap_and_service,
        files={"m/a.yaml": MIXED, "m/b.yaml": MISSING},
        stderr_words=('configmaps "missing1" not found',),
    ),
    Case(
        "disco-get-f-and-args",
        ("get", "-f", "{dir}/m.yaml", "cm"),
        files={"m.yaml": MIXED},
        stderr_words=("you may not specify resource arguments",),
    ),
    # api-resources
    Case("disco-api-resources-wide", ("api-resources", "-o", "wide")),
    Case("disco-api-resources-verbs", ("api-resources", "--verbs=list,watch", "--namespaced=false")),
    Case("disco-api-resources-verbs-repeated", ("api-resources", "--verbs", "create", "--verbs", "get", "-o", "wide")),
    Case("disco-api-resources-sort-kind", ("api-resources", "--sort-by=kind")),
    Case("disco-api-resources-sort-name-wide", ("api-resources", "--sort-by", "name", "-o", "wide", "--no-headers")),
    Case("disco-api-resources-categories", ("api-resources", "--categories=all", "-o", "wide")),
    Case("disco-api-resources-categories-name", ("api-resources", "--categories", "all", "-o", "name")),
    Case("disco-api-resources-group-json", ("api-resources", "--api-group=apps", "-o", "json")),
    Case("disco-api-resources-core-json", ("api-resources", "--api-group=", "-o", "json")),
    Case("disco-api-resources-nothing-json", ("api-resources", "--verbs=frob", "-o", "json")),
    Case("disco-api-resources-nothing", ("api-resources", "--verbs=frob")),
    Case("disco-api-resources-core-yaml", ("api-resources", "--api-group=", "-o", "yaml")),
    Case("disco-api-resources-group-yaml", ("api-resources", "--api-group=apps", "-o", "yaml")),
    Case("disco-api-resources-cached", ("api-resources", "--cached", "--api-group=apps")),
    Case(
        "disco-api-resources-bad-sort",
        ("api-resources", "--sort-by=group"),
        stderr_words=("--sort-by accepts only name or kind",),
    ),
    Case("disco-api-resources-bad-output", ("api-resources", "-o", "bogus"), stderr_words=('output format "bogus"',)),
    # version
    Case("disco-version-bad-output", ("version", "-o", "name"), stderr_words=("--output must be 'yaml' or 'json'",)),
]
