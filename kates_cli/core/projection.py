"""Projections: a query's jq filter (`Query.jq`, `-q '... jq=FILTER'`), what the snapshot holds of each object.

shell-operator's jqFilter, for a whole multi-kind snapshot: the hook gets the filter's results instead of the whole
objects, and runs only when those results change.

Invariants:
- The `jq` package (bindings to libjq) is imported only when a filter is compiled: a watch without `jq=` never
  loads it.
- A filter is compiled once per text (`compile_filter`, cached); one that does not compile is a UsageError whose
  message is libjq's first line, so the CLI refuses it before any request.
- `Projection.results(raw)` runs the filter on one object's JSON bytes and returns every result, in the filter's
  order (none: the object is dropped from the snapshot). A failure (a jq `error`, a type error, an object libjq
  cannot take, more than MAX_RESULTS results) is a `FilterFailed` carrying libjq's message, never another
  exception; the accumulator turns it into a `ProjectionError` naming the query and the object. (A filter that
  loops without yielding, such as `last(repeat(1))`, is not bounded: libjq offers no interruption.)
- Pure: no I/O, no state but the compiled program.
"""

from __future__ import annotations

import functools
import itertools

from ..errors import KatesError, UsageError

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B2)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["FilterFailed", "Projection", "ProjectionError", "compile_filter"]

MAX_RESULTS = 100_000  # per object: a filter that yields without end (repeat, range(infinite)) fails, not kates
TOLERANT = (
    "the watch ends rather than run the hook without that object; to drop such objects instead, make the filter "
    "tolerant: (...)? or try (...) catch empty"
)


class ProjectionError(KatesError):
    """A query's jq filter failed on an object: the watch ends with it rather than deliver a snapshot without it."""


class FilterFailed(Exception):
    """libjq's error for one object (its message, one line)."""


def _first_line(text: str) -> str:
    line = (text.strip().splitlines() or [""])[0]
    return line.removeprefix("jq: error: ").strip().rstrip(":") or "libjq gave no reason"


class Projection:
    """One compiled jq filter."""

    def __init__(self, text: str, program: Any):
        self.text = text
        self._program = program

    def results(self, raw: bytes) -> list[Any]:
        """Every result of the filter on the object whose JSON bytes are `raw` (plain JSON values)."""
        try:
            results = list(itertools.islice(self._program.input_text(raw.decode()), MAX_RESULTS + 1))
        except Exception as exc:  # libjq's errors are ValueErrors; a result too deep to convert a RecursionError
            raise FilterFailed(_first_line(str(exc)) if isinstance(exc, ValueError) else repr(exc)) from None
        if len(results) > MAX_RESULTS:
            raise FilterFailed(f"it yields more than {MAX_RESULTS} results (a filter that never ends, as repeat?)")
        return results


@functools.lru_cache(maxsize=64)
def compile_filter(text: str) -> Projection:
    """The compiled filter; a UsageError (libjq's first line) when it does not compile."""
    import jq

    try:
        program = jq.compile(text)
    except ValueError as exc:
        raise UsageError(f"the jq filter does not compile: {_first_line(str(exc))}") from None
    return Projection(text, program)
