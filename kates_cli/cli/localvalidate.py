"""`kates create/update/update-status --validate=local`: every -f object checked against its CRD's schema by the
Validator (core/validation.py), and nothing sent.

Each object's kind is resolved as a write would resolve it (an unknown kind fails before anything is checked), and
a CRD in the same input serves as the schema of the kinds it defines, so a CRD and its instances can be checked
together before either exists. The check is strict: fields the schema does not declare fail, as the server fails
them under --validate=strict. One line per object: `<kind>/<name> valid (checked locally, nothing sent)`, or
`error: validating <where>: <Kind> "<name>" is invalid: <path>: <why>`; any invalid object exits 8 (INVALID), as
the server's rejection would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ApiError, PartialFailure, UsageError
from . import render
from .manifests import crd_refs
from .state import State

if TYPE_CHECKING:
    from .write import _Step


def run(state: State, plan: list[_Step], output: str | None, dry_run: bool) -> None:
    """Check every planned object locally (`write.plan_steps`: kinds resolved, namespaces filled in); report each;
    raise PartialFailure if any is invalid."""
    from ..core.validation import Validator

    if dry_run:
        raise UsageError("--validate=local sends nothing: it cannot be combined with --dry-run=server")
    validator = Validator(state.client(), crds=[s.m.obj for s in plan if crd_refs(s.m.obj)], strict=True)
    out, err = state.env.stdout, state.env.stderr
    valid: list[dict[str, Any]] = []
    failures: list[ApiError] = []
    for step in plan:
        try:
            validator.validate(step.obj)
        except ApiError as exc:  # the object is invalid, or its CRD could not be read (e.g. Forbidden)
            failures.append(exc)
            err.write(f"error: validating {step.m.where}: {exc.message}\n")
            continue
        valid.append(step.obj)
        meta = step.obj.get("metadata") or {}
        name = meta.get("name") or meta.get("generateName") or ""
        if output is None:
            out.write(f"{step.ref.kind_group}/{name} valid (checked locally, nothing sent)\n")
        elif output == "name":
            out.write(f"{step.ref.kind_group}/{name}\n")
        out.flush()
    if output in ("json", "yaml", "kyaml") and valid:
        doc = valid[0] if len(valid) == 1 and len(plan) == 1 else render.as_list(valid)
        out.write(render.document(output, doc))
    if failures:
        raise PartialFailure(f"{len(failures)} of {len(plan)} objects failed", {f.exit_code for f in failures})
