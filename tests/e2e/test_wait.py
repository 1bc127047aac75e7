"""`kates wait` against the real control plane, compared with the real kubectl 1.37 where kubectl can do the same.

kubectl exits 1 for every failure; kates exits 11 (TIMEOUT) when the time ran out, 4 for a missing named object.
A wait that must see a change is started first, and the change is made only once the API server counts the waiter's
watch (apiserver_longrunning_requests): no sleep, no timing luck.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from kates_cli.errors import ExitCode
from tests import figures
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import KATES, Result, Runner, create, ensure_crd, kubectl_path, schemaless_crd, without_klog_noise

NOW = "2026-01-01T00:00:00Z"


class Background:
    """A command run in the background, its stdout lines collected as they come."""

    def __init__(self, cluster: ControlPlane, cache_dir: Path, argv: list[str], kubeconfig: Path | None = None):
        config = kubeconfig or cluster.kubeconfig
        env = dict(os.environ, KUBECONFIG=str(config), KATES_CACHE_DIR=str(cache_dir), NO_COLOR="1")
        env.pop("KATES_NAMESPACE", None)
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def result(self, timeout: float = 60) -> Result:
        try:
            self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        self._reader.join(5)
        assert self.proc.stderr is not None
        return Result(self.proc.returncode, "".join(self.lines), without_klog_noise(self.proc.stderr.read()))


def watchers(cluster: ControlPlane, resource: str) -> int:
    """How many WATCH requests on `resource` the API server is serving now."""
    code, text = cluster.request("GET", "/metrics", accept="text/plain")
    assert code == 200, text
    pattern = re.compile(r"^apiserver_longrunning_requests\{([^}]*)\} (\d+)", re.M)
    return sum(
        int(n)
        for labels, n in pattern.findall(str(text))
        if f'resource="{resource}"' in labels and 'verb="WATCH"' in labels
    )


def reads(cluster: ControlPlane, resource: str) -> int:
    """How many GET requests of one `resource` object the API server has answered so far (any status)."""
    code, text = cluster.request("GET", "/metrics", accept="text/plain")
    assert code == 200, text
    pattern = re.compile(r"^apiserver_request_total\{([^}]*)\} (\d+)", re.M)
    return sum(
        int(n)
        for labels, n in pattern.findall(str(text))
        if f'resource="{resource}"' in labels and 'verb="GET"' in labels and 'subresource=""' in labels
    )


def started(
    cluster: ControlPlane, cache_dir: Path, argv: list[str], resource: str, kubeconfig: Path | None = None
) -> Background:
    """Start `argv` and return once the API server serves one more watch of `resource` than before."""
    before = watchers(cluster, resource)
    run = Background(cluster, cache_dir, argv, kubeconfig)
    wait_for(lambda: run.proc.poll() is not None or watchers(cluster, resource) > before, 30, f"{argv[0]}'s watch")
    return run


def deployment(cluster: ControlPlane, ns: str, name: str, conditions: list[dict[str, Any]]) -> None:
    """A Deployment of 0 replicas whose status (set here, as a controller would) has these conditions."""
    base = f"/apis/apps/v1/namespaces/{ns}/deployments"
    obj = create(
        cluster,
        base,
        {
            "metadata": {"name": name},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "c", "image": "x"}]},
                },
            },
        },
    )
    generation = obj["metadata"]["generation"]

    def put() -> bool:
        code, current = cluster.request("GET", f"{base}/{name}")
        assert code == 200, current
        current["status"] = {
            "observedGeneration": generation,
            "conditions": [{"lastTransitionTime": NOW, "lastUpdateTime": NOW, **c} for c in conditions],
        }
        code, body = cluster.request("PUT", f"{base}/{name}/status", current)
        assert code in (200, 409), body  # 409: the deployment controller wrote meanwhile; again
        return code == 200

    wait_for(put, 30, "the deployment's status")


def test_wait_condition_available_matches_kubectl(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner
) -> None:
    # 0 replicas: the deployment controller, where it runs, agrees that the Deployment is Available
    deployment(cluster, ns, "web", [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}])
    for args in (
        ["wait", "deploy/web", "--for=condition=Available", "-n", ns],
        ["wait", "deployment.apps/web", "--for=condition=available=TRUE", "--timeout=0", "-n", ns],
        ["wait", "deploy", "--all", "--for=condition=Available", "-n", ns],
    ):
        theirs, ours = kubectl(*args), kates(*args)
        assert theirs.code == 0, theirs
        assert (
            (ours.code, ours.out, ours.err)
            == (0, theirs.out, theirs.err)
            == (0, "deployment.apps/web condition met\n", "")
        )
    # a condition not met: kubectl's messages, kates's own exit code
    for args, message in (
        (
            ["--for=condition=Available=False", "--timeout=1s"],
            "error: timed out waiting for the condition on deployments/web\n",
        ),
        (["--for=condition=Bogus", "--timeout=0"], "error: condition not met for deployments/web\n"),
    ):
        theirs, ours = kubectl("wait", "deploy/web", "-n", ns, *args), kates("wait", "deploy/web", "-n", ns, *args)
        assert (theirs.code, theirs.out, theirs.err) == (1, "", message), theirs
        assert (ours.code, ours.out, ours.err) == (ExitCode.TIMEOUT, "", message), ours


def test_wait_for_a_condition_that_becomes_true(cluster: ControlPlane, ns: str, cache_dir: Path) -> None:
    deployment(cluster, ns, "web", [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}])
    run = started(
        cluster,
        cache_dir,
        [*KATES, "wait", "deploy/web", "--for=condition=Ready", "--timeout=60s", "-n", ns],
        "deployments",
    )
    assert run.proc.poll() is None, run.result()
    path = f"/apis/apps/v1/namespaces/{ns}/deployments/web/status"
    code, body = cluster.request(
        "PATCH",
        path,
        {"status": {"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": NOW}]}},
        content_type="application/merge-patch+json",
    )
    assert code == 200, body
    result = run.result()
    assert (result.code, result.out, result.err) == (0, "deployment.apps/web condition met\n", ""), result


def test_wait_delete_matches_kubectl(cluster: ControlPlane, ns: str, cache_dir: Path) -> None:
    """Each waits on an object held by a finalizer; the finalizer is removed once the waiter watches."""
    path = f"/api/v1/namespaces/{ns}/configmaps"
    results = []
    for argv in ([kubectl_path()], KATES):
        create(cluster, path, {"metadata": {"name": "gone", "finalizers": ["kates.test/hold"]}})
        code, body = cluster.request("DELETE", f"{path}/gone")
        assert code == 200, body
        run = started(cluster, cache_dir, [*argv, "wait", "cm/gone", "--for=delete", "-n", ns], "configmaps")
        code, body = cluster.request(
            "PATCH", f"{path}/gone", {"metadata": {"finalizers": None}}, content_type="application/merge-patch+json"
        )
        assert code == 200, body
        results.append(run.result())
    theirs, ours = results
    assert (theirs.code, theirs.out, theirs.err) == (0, "configmap/gone condition met\n", ""), theirs
    assert (ours.code, ours.out, ours.err) == (0, theirs.out, theirs.err), ours


def test_wait_delete_of_a_missing_or_present_object_matches_kubectl(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner
) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "here"}})
    args = ["wait", "cm/missing", "--for=delete", "-n", ns]
    theirs, ours = kubectl(*args), kates(*args)
    assert (theirs.code, theirs.out, theirs.err) == (0, "", "")
    assert (ours.code, ours.out, ours.err) == (0, "", "")
    args = ["wait", "cm/here", "--for=delete", "--timeout=1s", "-n", ns]
    theirs, ours = kubectl(*args), kates(*args)
    message = "error: timed out waiting for the condition on configmaps/here\n"
    assert (theirs.code, theirs.out, theirs.err) == (1, "", message)
    assert (ours.code, ours.out, ours.err) == (ExitCode.TIMEOUT, "", message)


def test_wait_jsonpath_matches_kubectl(cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "a"}, "data": {"x": "1"}})
    cases = [
        (["--for=jsonpath={.data.x}=1"], 0, "configmap/a condition met\n", ""),
        (["--for=jsonpath=.data.x"], 0, "configmap/a condition met\n", ""),
        (["--for=jsonpath={.data.x}=1", "--for=create"], 0, "configmap/a condition met\n" * 2, ""),
        (
            ["--for=jsonpath={.data.x}=2", "--timeout=1s"],
            1,
            "",
            "error: timed out waiting for the condition on configmaps/a\n",
        ),
        (["--for=jsonpath={.data.y}", "--timeout=0"], 1, "", "error: condition not met for configmaps/a\n"),
        (
            ["--for=jsonpath={.data}=1"],
            1,
            "",
            "error: jsonpath leads to a nested object or list which is not supported\n",
        ),
    ]
    for args, code, out, err in cases:
        theirs, ours = kubectl("wait", "cm/a", "-n", ns, *args), kates("wait", "cm/a", "-n", ns, *args)
        assert (theirs.code, theirs.out, theirs.err) == (code, out, err), (args, theirs)
        want = ExitCode.TIMEOUT if "timed out" in err or "not met" in err else code
        assert (ours.code, ours.out, ours.err) == (want, out, err), (args, ours)


def test_wait_missing_object_is_not_found_unless_created(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner, cache_dir: Path
) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "a"}, "data": {"x": "1"}})
    args = ["wait", "cm/a", "cm/missing", "--for=jsonpath={.data.x}=1", "-n", ns]
    theirs, ours = kubectl(*args), kates(*args)
    assert (theirs.code, theirs.out) == (1, "configmap/a condition met\n"), theirs
    assert theirs.err == 'Error from server (NotFound): configmaps "missing" not found\n'
    assert (ours.code, ours.out, ours.err) == (
        ExitCode.NOT_FOUND,
        theirs.out,
        'error: configmaps "missing" not found\n',
    )
    # with --for=create, a missing object is waited for: it is no error
    run = started(
        cluster,
        cache_dir,
        [*KATES, "wait", "cm/later", "--for=create", "--for=jsonpath={.data.x}=1", "--timeout=60s", "-n", ns],
        "configmaps",
    )
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "later"}, "data": {"x": "1"}})
    result = run.result()
    assert (result.code, result.out, result.err) == (0, "configmap/later condition met\n" * 2, ""), result
    ours = kates("wait", "cm/never", "--for=create", "--timeout=1s", "-n", ns)
    assert (ours.code, ours.out, ours.err) == (ExitCode.TIMEOUT, "", "error: timed out waiting for the condition\n")


def test_wait_any_with_a_job_that_fails(cluster: ControlPlane, ns: str, cache_dir: Path, kubectl: Runner) -> None:
    base = f"/apis/batch/v1/namespaces/{ns}/jobs"
    create(
        cluster,
        base,
        {
            "metadata": {"name": "pi"},
            "spec": {
                "suspend": True,  # no pods: this test plays the job controller
                "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}},
            },
        },
    )
    argv = ["wait", "job/pi", "--any", "--for=condition=Complete", "--for=condition=Failed", "--timeout=60s", "-n", ns]
    run = started(cluster, cache_dir, [*KATES, *argv], "jobs")

    def fail_job() -> bool:
        code, job = cluster.request("GET", f"{base}/pi")
        assert code == 200, job
        job["status"] = {
            "startTime": NOW,
            "conditions": [
                {
                    "type": t,
                    "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "message": "failed",
                    "lastTransitionTime": NOW,
                    "lastProbeTime": NOW,
                }
                for t in ("FailureTarget", "Failed")
            ],
        }
        code, body = cluster.request("PUT", f"{base}/pi/status", job)
        assert code in (200, 409), body
        return code == 200

    wait_for(fail_job, 30, "the job's Failed status")
    result = run.result()
    assert (result.code, result.out, result.err) == (0, "job.batch/pi condition met: condition=Failed\n", ""), result
    # kubectl has no OR: both conditions must hold, so it waits on Complete in vain
    theirs = kubectl(*argv[:2], *argv[3:5], "--timeout=1s", "-n", ns)
    assert (theirs.code, theirs.err) == (1, "error: timed out waiting for the condition on jobs/pi\n"), theirs


def test_wait_across_two_kinds(cluster: ControlPlane, ns: str, cache_dir: Path, kubectl: Runner, kates: Runner) -> None:
    before = watchers(cluster, "services"), watchers(cluster, "deployments")
    run = Background(
        cluster, cache_dir, [*KATES, "wait", "deploy/web", "svc/web", "--for=create", "--timeout=60s", "-n", ns]
    )

    def watching() -> bool:
        now = watchers(cluster, "services"), watchers(cluster, "deployments")
        return run.proc.poll() is not None or (now[0] > before[0] and now[1] > before[1])

    wait_for(watching, 30, "the watches of both kinds")
    create(
        cluster, f"/api/v1/namespaces/{ns}/services", {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}
    )
    assert run.proc.poll() is None, run.result()  # the deployment does not exist yet
    deployment(cluster, ns, "web", [])
    result = run.result()
    want = "deployment.apps/web condition met\nservice/web condition met\n"
    assert (result.code, result.out, result.err) == (0, want, ""), result
    args = ["wait", "deploy/web", "svc/web", "--for=create", "-n", ns]
    theirs, ours = kubectl(*args), kates(*args)
    assert (theirs.code, theirs.out, theirs.err) == (0, want, "") == (ours.code, ours.out, ours.err)


def test_wait_spans_an_apiserver_restart(private_cluster: ControlPlane, tmp_path: Path) -> None:
    cp = private_cluster
    base = "/api/v1/namespaces/default/configmaps"
    create(cp, base, {"metadata": {"name": "a"}, "data": {"x": "1"}})
    create(cp, base, {"metadata": {"name": "b"}, "data": {"x": "0"}})
    run = Background(
        cp, tmp_path, [*KATES, "wait", "cm/a", "cm/b", "--for=jsonpath={.data.x}=1", "--timeout=120s", "-n", "default"]
    )
    # a is met at once: once it is printed, the wait is following b
    wait_for(lambda: run.lines or run.proc.poll() is not None, 30, "configmap/a condition met")
    assert run.lines == ["configmap/a condition met\n"], run.result()
    cp.kill_apiserver()
    cp.start_apiserver()
    code, body = cp.request("PATCH", f"{base}/b", {"data": {"x": "1"}}, content_type="application/merge-patch+json")
    assert code == 200, body
    changed = time.monotonic()
    result = run.result(90)
    assert result.code == 0, result
    assert result.out == "configmap/a condition met\nconfigmap/b condition met\n"
    assert "Traceback" not in result.err
    figures.record(
        "wait",
        "met after an API server restart (SIGKILL)",
        seconds_after_the_change=round(time.monotonic() - changed, 2),
    )


def test_wait_survives_dropped_connections(cluster: ControlPlane, ns: str, cache_dir: Path, tmp_path: Path) -> None:
    """Every connection reset, and new ones refused, while b changes and c is deleted: both waits still see it."""
    from tests.faultproxy import FaultProxy

    base = f"/api/v1/namespaces/{ns}/configmaps"
    create(cluster, base, {"metadata": {"name": "a"}, "data": {"x": "1"}})
    create(cluster, base, {"metadata": {"name": "b"}, "data": {"x": "0"}})
    create(cluster, base, {"metadata": {"name": "c"}})
    with FaultProxy(cluster.port) as proxy:
        cfg = proxy.kubeconfig(cluster.kubeconfig, tmp_path / "kubeconfig")
        argv = [*KATES, "wait", "-n", ns, "--timeout=90s"]
        before = watchers(cluster, "configmaps")
        changed = Background(cluster, cache_dir, [*argv, "cm/a", "cm/b", "--for=jsonpath={.data.x}=1"], cfg)
        wait_for(lambda: changed.lines or changed.proc.poll() is not None, 30, "configmap/a condition met")
        # a's watch and b's are both open (a wait stops its streams only when it ends): the server serves two more
        wait_for(lambda: watchers(cluster, "configmaps") >= before + 2, 30, "the watches of a and b")
        deleted = started(cluster, cache_dir, [*argv, "cm/c", "--for=delete"], "configmaps", cfg)
        proxy.refuse(True)
        assert proxy.reset() >= 3  # the three watches, at least
        code, body = cluster.request("PATCH", f"{base}/b", {"data": {"x": "1"}}, "application/merge-patch+json")
        assert code == 200, body
        code, body = cluster.request("DELETE", f"{base}/c")
        assert code == 200, body
        assert changed.proc.poll() is None and deleted.proc.poll() is None
        proxy.refuse(False)
        ours = changed.result(), deleted.result()
    assert (ours[0].code, ours[0].out) == (0, "configmap/a condition met\nconfigmap/b condition met\n"), ours[0]
    assert (ours[1].code, ours[1].out) == (0, "configmap/c condition met\n"), ours[1]
    assert "Traceback" not in ours[0].err + ours[1].err


def test_wait_selection_and_manifests_match_kubectl(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner, tmp_path: Path
) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    for name, x in (("y", "1"), ("x", "1"), ("z", "0")):
        create(cluster, base, {"metadata": {"name": name, "labels": {"app": "w"}}, "data": {"x": x}})
    manifest = tmp_path / "cms.yaml"
    manifest.write_text(
        "kind: ConfigMap\napiVersion: v1\nmetadata: {name: z}\n---\n"
        f"{{kind: Namespace, apiVersion: v1, metadata: {{name: {ns}}}}}\n---\n"  # kinds interleaved: kept in order
        "{kind: ConfigMap, apiVersion: v1, metadata: {name: x}}\n"
    )
    for args in (
        ["cm", "-l", "app=w", "--for=create"],
        ["cm,deploy", "-l", "app=w", "--for=jsonpath={.data.x}"],
        ["cm", "--field-selector", "metadata.name=x", "--for=jsonpath={.data.x}=1"],
        ["-f", str(manifest), "--for=create", "--timeout=0"],
        ["cm", "--all", "-l", "app=missing", "--for=delete"],
    ):
        theirs, ours = kubectl("wait", "-n", ns, *args), kates("wait", "-n", ns, *args)
        assert theirs.code == 0 and theirs.err == "", (args, theirs)
        assert (ours.code, ours.out, ours.err) == (0, theirs.out, ""), (args, ours)
    # several objects not met: kubectl reports each (without `error: ` when there are several); kates each as an error
    for args in (
        ["cm", "-l", "app=w", "--for=jsonpath={.data.x}=2", "--timeout=1s"],
        ["cm/x", "cm/z", "cm/y", "--for=jsonpath={.data.x}=0", "--timeout=0"],
    ):
        theirs, ours = kubectl("wait", "-n", ns, *args), kates("wait", "-n", ns, *args)
        assert theirs.code == 1 and len(theirs.err.splitlines()) > 1, (args, theirs)
        want = "".join(f"error: {line}\n" for line in theirs.err.splitlines())
        assert (ours.code, ours.out, ours.err) == (ExitCode.TIMEOUT, theirs.out, want), (args, ours)


def test_wait_output_formats_match_kubectl(cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner) -> None:
    for name in ("a", "b"):
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": name}, "data": {"x": "1"}})
    for output in ("name", "json", "yaml", "kyaml", "jsonpath={.metadata.name}", "jsonpath-as-json={.data}"):
        args = ["wait", "cm/a", "cm/b", "--for=jsonpath={.data.x}=1", "-o", output, "-n", ns]
        theirs, ours = kubectl(*args), kates(*args)
        assert theirs.code == 0 and theirs.out and theirs.err == "", (output, theirs)
        assert (ours.code, ours.out, ours.err) == (0, theirs.out, ""), (output, ours)


def test_wait_on_many_named_objects(cluster: ControlPlane, ns: str, cache_dir: Path) -> None:
    """Past 10 names of a kind, kates follows one watch of the kind in the namespace instead of one per object: the
    objects are still taken, and printed, in the order given. With --for=delete, an object already gone when its
    turn comes is passed over, unprinted, as kubectl passes it over (it reads each object at its turn)."""
    names = [f"n{i}" for i in range(12)]
    base = f"/api/v1/namespaces/{ns}/configmaps"
    for name in names:
        create(cluster, base, {"metadata": {"name": name}, "data": {"x": "0"}})
    argv = [*KATES, "wait", "cm", *names, "--for=jsonpath={.data.x}=1", "--timeout=60s", "-n", ns]
    run = started(cluster, cache_dir, argv, "configmaps")
    for name in reversed(names):  # n0, waited on first, is met last
        code, body = cluster.request(
            "PATCH", f"{base}/{name}", {"data": {"x": "1"}}, content_type="application/merge-patch+json"
        )
        assert code == 200, body
    result = run.result()
    assert (result.code, result.err) == (0, ""), result
    assert result.out == "".join(f"configmap/{name} condition met\n" for name in names)
    outs = []
    for argv in ([kubectl_path()], KATES):
        for name in names:
            cluster.request("POST", base, {"metadata": {"name": name}})
        run = started(
            cluster, cache_dir, [*argv, "wait", "cm", *names, "--for=delete", "--timeout=60s", "-n", ns], "configmaps"
        )
        for name in reversed(names):  # n0, waited on first, goes last: the others are gone at their turn
            code, body = cluster.request("DELETE", f"{base}/{name}")
            assert code == 200, body
        outs.append(run.result())
    theirs, ours = outs
    assert (theirs.code, theirs.out, theirs.err) == (0, "configmap/n0 condition met\n", ""), theirs
    assert (ours.code, ours.out, ours.err) == (0, theirs.out, ""), ours


def test_wait_reads_each_named_object_when_its_turn_comes_as_kubectl(
    cluster: ControlPlane, ns: str, cache_dir: Path
) -> None:
    """kubectl reads each named object only when its turn comes, and goes on after an object's error: b created
    while a is waited on is waited on and printed; b deleted while a is waited on is b's error, and c is still
    waited on and printed; a deleted while it is waited on is waited on still, and met once created again."""
    base = f"/api/v1/namespaces/{ns}/configmaps"
    args = ["wait", "cm/a", "cm/b", "cm/c", "--for=jsonpath={.data.x}=1", "--timeout=60s", "-n", ns]

    def put(name: str, x: str) -> None:
        """Create `name` with data x, or set its x."""
        code, body = cluster.request(
            "PATCH", f"{base}/{name}", {"data": {"x": x}}, content_type="application/merge-patch+json"
        )
        if code == 404:
            code, body = cluster.request("POST", base, {"metadata": {"name": name}, "data": {"x": x}})
        assert code in (200, 201), body

    def delete(name: str) -> None:
        code, body = cluster.request("DELETE", f"{base}/{name}")
        assert code in (200, 404), body

    def run(argv: list[str], streams: int, objects: dict[str, str], change: Any, last: Any) -> Result:
        for name in "abc":
            delete(name)
        wait_for(lambda: not any(cluster.request("GET", f"{base}/{n}")[0] == 200 for n in "abc"), 30, "a clean slate")
        for name, x in objects.items():
            put(name, x)
        before, got = watchers(cluster, "configmaps"), reads(cluster, "configmaps")
        bg = Background(cluster, cache_dir, [*argv, *args])
        # the waiter has read a and follows it (kubectl: one watch; kates: one per object) before anything changes
        wait_for(
            lambda: (
                bg.proc.poll() is not None
                or (watchers(cluster, "configmaps") >= before + streams and reads(cluster, "configmaps") > got)
            ),
            30,
            "the waiter's read of a and its watches",
        )
        assert bg.proc.poll() is None, bg.result()
        change()
        last()
        return bg.result()

    both = [([kubectl_path()], 1), (KATES, 3)]
    # b does not exist when the wait starts: created while a is waited on, it is waited on too
    created = [run(argv, n, {"a": "0", "c": "1"}, lambda: put("b", "1"), lambda: put("a", "1")) for argv, n in both]
    met = "configmap/a condition met\nconfigmap/b condition met\nconfigmap/c condition met\n"
    assert [(r.code, r.out, r.err) for r in created] == [(0, met, "")] * 2, created
    # b deleted while a is waited on: b's error when its turn comes; c is still waited on
    deleted = [
        run(argv, n, {"a": "0", "b": "1", "c": "1"}, lambda: delete("b"), lambda: put("a", "1")) for argv, n in both
    ]
    theirs, ours = deleted
    assert (theirs.code, theirs.out) == (1, "configmap/a condition met\nconfigmap/c condition met\n"), theirs
    assert theirs.err == 'Error from server (NotFound): configmaps "b" not found\n', theirs
    assert (ours.code, ours.out, ours.err) == (ExitCode.NOT_FOUND, theirs.out, 'error: configmaps "b" not found\n')
    # a deleted while it is waited on: kubectl's watch takes it as "not yet" (checked by hand: whether its watch has
    # synced before the delete cannot be seen from outside); created again with x=1, it is met
    again = run(KATES, 3, {"a": "0", "b": "1", "c": "1"}, lambda: delete("a"), lambda: put("a", "1"))
    assert (again.code, again.out, again.err) == (0, met, ""), again


def test_wait_reports_every_error_at_a_timeout_and_with_timeout_zero(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner
) -> None:
    """A missing object no longer hides the others' errors: each is printed, in kubectl's order; the exit code is
    the errors' own when they agree (4 for NotFound, 11 for a timeout), else 1."""
    base = f"/api/v1/namespaces/{ns}/configmaps"
    create(cluster, base, {"metadata": {"name": "a"}, "data": {"x": "0"}})
    create(cluster, base, {"metadata": {"name": "c"}, "data": {"x": "1"}})
    timed = "timed out waiting for the condition on configmaps"
    cases = [
        (
            ["cm/a", "cm/zz", "cm/c", "--timeout=2s"],
            "",
            [f"{timed}/a", 'configmaps "zz" not found', f"{timed}/c"],
            ExitCode.ERROR,
        ),
        (
            ["cm/a", "cm/zz", "cm/c", "cm/yy", "--timeout=0"],
            "configmap/c condition met\n",
            ["condition not met for configmaps/a", 'configmaps "zz" not found', 'configmaps "yy" not found'],
            ExitCode.ERROR,
        ),
        (
            ["cm/zz", "cm/yy", "--timeout=0"],
            "",
            ['configmaps "zz" not found', 'configmaps "yy" not found'],
            ExitCode.NOT_FOUND,
        ),
    ]
    for args, out, errors, code in cases:
        argv = ["wait", "-n", ns, "--for=jsonpath={.data.x}=1", *args]
        theirs, ours = kubectl(*argv), kates(*argv)
        kubectls = "".join(f"Error from server (NotFound): {e}\n" if "not found" in e else f"{e}\n" for e in errors)
        assert (theirs.code, theirs.out, theirs.err) == (1, out, kubectls), (args, theirs)
        assert (ours.code, ours.out, ours.err) == (code, out, "".join(f"error: {e}\n" for e in errors)), (args, ours)


def test_wait_on_a_kind_no_longer_served_says_what_kates_wait_can_do(
    cluster: ControlPlane, ns: str, cache_dir: Path
) -> None:
    """The CRD of the kind waited on is deleted mid-wait: kates wait ends with NotFound, and its hint names no
    option kates wait lacks (kates watch's --wait-for-kinds)."""
    crd = schemaless_crd("waitgone.example.org", "relics", "Relic")
    crd_path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/relics.waitgone.example.org"
    ensure_crd(cluster, crd)
    try:
        run = started(
            cluster,
            cache_dir,
            [*KATES, "wait", "relic/r1", "--for=create", "--timeout=60s", "-n", ns],
            "relics",
        )
        assert run.proc.poll() is None, run.result()
        code, body = cluster.request("DELETE", crd_path)
        assert code == 200, body
        result = run.result()
        assert (result.code, result.out) == (ExitCode.NOT_FOUND, ""), result
        lines = result.err.splitlines()
        assert lines[0].startswith("error: relic.waitgone.example.org/r1: the server no longer serves relics"), lines
        assert lines[1:] == [
            "hint: kates wait cannot wait for a kind to come back: wait again once the server serves it"
        ], lines
    finally:
        cluster.request("DELETE", crd_path)
