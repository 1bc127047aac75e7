"""`kates rbac`: the ServiceAccount, roles and bindings a `kates watch` needs, as YAML to apply.

Invariants:
- The queries are read by the watch's own parser (`queries.parse_query`), so `-q` means exactly what it means to
  `kates watch`, and every kind is resolved through discovery: CRDs get their real group and plural.
- Least privilege: a query in one namespace is granted by a Role and RoleBinding in that namespace (one pair per
  namespace the queries, the lease and the writes touch); only an all-namespace query (`ns=*`, or `-A`) and a
  cluster-scoped kind need the ClusterRole and ClusterRoleBinding. Reads are get, list and watch.
- The lease: get, update and watch on the named Lease only (`resourceNames`; the watch lets a follower take over
  at once when the leader releases it), and create on leases in its namespace, since Kubernetes cannot restrict
  create by name (the name is not known when create is authorised).
- Writes (`--writes KIND[:VERB,...]`) are granted where the hook's `kates` writes by default: the watch's
  namespace, or every namespace with -A; cluster-scoped kinds cluster-wide. Each kates verb maps to the API verbs
  its command sends (WRITE_VERBS).
- The documents are a pure function of the resolved plan (`documents`), in a stable order: ServiceAccount,
  ClusterRole, ClusterRoleBinding, then Role and RoleBinding per namespace (the watch's own first, then by name);
  rules in the order the command line named them. Printed by kubectl's YAML printer (yamlout), `---` between.
"""

from __future__ import annotations

import re
from dataclasses import field
from typing import TYPE_CHECKING, Any

import typer

from ..core.records import record
from ..errors import UsageError
from . import completion
from .state import State

if TYPE_CHECKING:
    from ..core.mapping import ResourceRef

RBAC_API = "rbac.authorization.k8s.io/v1"
READ = ("get", "list", "watch")
VERB_ORDER = ("get", "list", "watch", "create", "update", "patch", "delete")
# kates write verb -> (subresource, API verbs). Reads come along where the command reads: `update
# --retry-on-conflict` and `patch` get the object first (patch as kubectl does, to say "(no change)"), and `delete`
# waits (by default) with a watch until the object is gone.
WRITE_VERBS: dict[str, tuple[str, tuple[str, ...]]] = {
    "create": ("", ("create",)),
    "update": ("", ("get", "update")),
    "patch": ("", ("get", "patch")),
    "delete": ("", ("get", "list", "watch", "delete")),
    "update-status": ("status", ("get", "update")),
    "patch-status": ("status", ("get", "patch")),
}
DEFAULT_WRITES = ("create", "update", "patch", "delete")
WRITES_FORM = "KIND[:VERB,...] with VERB one of " + ", ".join(WRITE_VERBS)
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


@record
class Rules:
    """Verbs per (apiGroup, resource, resourceName), in first-named order."""

    verbs: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)

    def grant(self, group: str, resource: str, verbs: tuple[str, ...], name: str = "") -> None:
        self.verbs.setdefault((group, resource, name), set()).update(verbs)

    def render(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for (group, resource, name), verbs in self.verbs.items():
            rule: dict[str, Any] = {"apiGroups": [group], "resources": [resource]}
            if name:
                rule["resourceNames"] = [name]
            rule["verbs"] = [v for v in VERB_ORDER if v in verbs]
            out.append(rule)
        return out


@record
class Plan:
    """What one service account needs: rules cluster-wide and per namespace."""

    service_account: str
    namespace: str  # the service account's (and the watch's) namespace
    cluster: Rules = field(default_factory=Rules)
    namespaced: dict[str, Rules] = field(default_factory=dict)

    def scope(self, namespace: str | None) -> Rules:
        """The rules for one namespace, or the cluster-wide ones for None."""
        return self.cluster if namespace is None else self.namespaced.setdefault(namespace, Rules())

    def read(self, ref: ResourceRef, namespace: str | None) -> None:
        self.scope(namespace if ref.namespaced else None).grant(ref.group, ref.resource, READ)

    def lease(self, name: str, namespace: str) -> None:
        rules = self.scope(namespace)
        rules.grant("coordination.k8s.io", "leases", ("get", "update", "watch"), name)
        rules.grant("coordination.k8s.io", "leases", ("create",))

    def write(self, ref: ResourceRef, verbs: tuple[str, ...], namespace: str | None) -> None:
        rules = self.scope(namespace if ref.namespaced else None)
        for verb in verbs:
            sub, api_verbs = WRITE_VERBS[verb]
            rules.grant(ref.group, f"{ref.resource}/{sub}" if sub else ref.resource, api_verbs)

    def cluster_role_name(self) -> str:
        """Cluster-wide names must not collide between namespaces: `NAMESPACE:SERVICEACCOUNT`."""
        return f"{self.namespace}:{self.service_account}"

    def documents(self) -> list[dict[str, Any]]:
        sa, home = self.service_account, self.namespace
        subject = {"kind": "ServiceAccount", "name": sa, "namespace": home}
        docs: list[dict[str, Any]] = [
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": home}}
        ]
        if self.cluster.verbs:
            name = self.cluster_role_name()
            rules = self.cluster.render()
            docs.append({"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": {"name": name}, "rules": rules})
            docs.append(_binding("ClusterRoleBinding", "ClusterRole", name, None, subject))
        for ns in sorted(self.namespaced, key=lambda n: (n != home, n)):
            meta = {"name": sa, "namespace": ns}
            docs.append(
                {"apiVersion": RBAC_API, "kind": "Role", "metadata": meta, "rules": self.namespaced[ns].render()}
            )
            docs.append(_binding("RoleBinding", "Role", sa, ns, subject))
        return docs


def _binding(kind: str, role_kind: str, name: str, namespace: str | None, subject: dict[str, str]) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {
        "apiVersion": RBAC_API,
        "kind": kind,
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
        "subjects": [dict(subject)],
    }


def parse_writes(text: str) -> tuple[str, tuple[str, ...]]:
    """`KIND[:VERB,...]` -> (KIND, verbs); no verbs means DEFAULT_WRITES."""
    kind, sep, rest = text.partition(":")
    kind = kind.strip()
    if not kind:
        raise UsageError(f'invalid --writes "{text}": no KIND', hint=f"expected {WRITES_FORM}")
    if not sep:
        return kind, DEFAULT_WRITES
    verbs = tuple(v.strip() for v in rest.split(","))
    for verb in verbs:
        if verb not in WRITE_VERBS:
            shown = f'unknown verb "{verb}"' if verb else "an empty verb"
            raise UsageError(f'invalid --writes "{text}": {shown}', hint=f"expected {WRITES_FORM}")
    return kind, verbs


def _check_name(value: str, flag: str) -> None:
    if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        raise UsageError(
            f'invalid {flag} "{value}": a name must be lower case letters, digits, "-" and ".", starting and '
            "ending with a letter or digit"
        )


def register(app: typer.Typer) -> None:
    app.command("rbac")(rbac)


def rbac(
    ctx: typer.Context,
    queries: list[str] = typer.Option(
        None, "--query", "-q", help="A query, as for kates watch: [NAME=]KIND [ns=NAMESPACE|ns=*] [l=...] [f=...]."
    ),
    lease: str | None = typer.Option(
        None, "--lease", help="Grant get/update/watch on this Lease, and create on leases."
    ),
    lease_namespace: str | None = typer.Option(
        None, "--lease-namespace", help="The Lease's namespace (default: the watch's namespace)."
    ),
    writes: list[str] = typer.Option(
        None,
        "--writes",
        help="KIND[:VERB,...]: let the hook write KIND (verbs: create, update, patch, delete, update-status, "
        "patch-status; default the first four). Repeatable.",
        autocompletion=completion.kinds,
    ),
    all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="Queries without ns= watch all."),
    service_account: str = typer.Option("kates", "--service-account", help="The ServiceAccount to create and bind."),
) -> None:
    """Print the ServiceAccount, roles and bindings that `kates watch` with these queries needs, as YAML.

    Each query is read as kates watch reads it and its kind resolved through discovery (CRDs get their real group
    and plural). A query in one namespace is granted get, list and watch by a Role and RoleBinding in that
    namespace; an all-namespace query (ns=* or -A) or a cluster-scoped kind by a ClusterRole and
    ClusterRoleBinding named NAMESPACE:SERVICEACCOUNT. --lease adds get, update and watch on that Lease and
    create on leases (create cannot be limited to one name). --writes grants the API verbs each kates write
    command sends (update and patch also get the object, delete also lists and watches it to wait until it is
    gone), in the watch's namespace (every namespace with -A). Apply the output with `kates create -f -`.
    """
    from ..core.accumulator import namespaces_of
    from .queries import QUERY_FORM, parse_query
    from .yamlout import dump

    state: State = ctx.obj
    if not queries:
        raise UsageError("at least one -q/--query is required", hint=f"expected {QUERY_FORM}")
    _check_name(service_account, "--service-account")
    if lease is not None:
        _check_name(lease, "--lease")
    if lease_namespace is not None:
        if lease is None:
            raise UsageError("--lease-namespace needs --lease")
        _check_name(lease_namespace, "--lease-namespace")
    parsed_writes = [parse_writes(w) for w in writes or ()]
    client = state.client()
    home = state.namespace or client.namespace
    default = home
    if state.namespace_explicit and len(set(state.namespaces)) > 1:
        default = ",".join(sorted(set(state.namespaces)))  # -n a,b: as `kates watch -n a,b`, queries read both
    parsed = [parse_query(q, None if all_namespaces else default) for q in queries]
    plan = Plan(service_account, home)
    for query in parsed:
        several: list[str | None] = list(namespaces_of(query) or [])
        for ns in several or [None]:  # ns=a,b reads in a and in b
            plan.read(client.resolve(query.kind), ns)
    if lease is not None:
        plan.lease(lease, lease_namespace or home)
    for kind, verbs in parsed_writes:
        ref = client.resolve(kind)
        if any(WRITE_VERBS[v][0] for v in verbs) and "status" not in ref.subresources:
            raise UsageError(f'invalid --writes "{kind}": {ref.group_resource} has no status subresource')
        plan.write(ref, verbs, None if all_namespaces else home)
    state.env.stdout.write("---\n".join(dump(doc) for doc in plan.documents()))
