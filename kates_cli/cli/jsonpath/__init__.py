"""kubectl's output templates: `-o jsonpath`, `-o jsonpath-as-json`, `-o custom-columns[-file]` and `--sort-by`.

Written from kubectl's documentation and from observing kubectl 1.37 against a live API server; it reproduces
kubectl's dialect (client-go's JSONPath), not RFC 9535. Values are JSON-decoded Python data: dict, list, str, int,
float, bool and None, seen the way kubectl sees an unstructured object (an int outside int64 is a float64).

Invariants:
- A template is parsed once, in `JSONPath.__init__`; a syntax error is a `UsageError` naming the template, raised
  before any object is fetched. Custom columns' paths are the exception: parsed when printing, after the header, as
  kubectl parses them (cli/customcolumns.py reads specs and files; this package makes each cell). Evaluation never
  mutates the parsed template or the data, so one `JSONPath` renders any number of objects identically (kubectl's
  engine is stateful; this one is not).
- Missing keys yield nothing, as under kubectl's default `--allow-missing-template-keys=true`; every other
  evaluation error (index out of bounds, filtering a non-list, comparing incompatible types, `{end}` outside a
  range, an unknown identifier) is a `UsageError` carrying kubectl's message.
- Text output follows kubectl byte for byte: the results of one `{}` expression are joined by one space; strings
  print raw; null prints `null`; ints in decimal; floats as Go's `%v` (`1e+06`, `1e-05`); maps and lists as Go's
  compact `json.Marshal` (keys sorted, `<>&` escaped, floats as Go's encoder prints them). `-o jsonpath-as-json`
  prints one 4-space-indented JSON array per result group, as kubectl does.
- Where kubectl's output is random (Go map iteration order in `*` and `..` over maps), keys are visited in sorted
  order; everything else is deterministic and matches kubectl, checked against kubectl's own printer on thousands
  of generated cases (tests/unit/test_jsonpath_go.py). The one other difference: where kubectl panics (an index,
  slice, filter or `{range}` applied directly to the nothing a `{range}` over no values runs its body on), kates
  treats that nothing as a null and goes on.
- A template is Go's string of bytes: bytes that are not UTF-8 (argv's, which Python holds surrogate-escaped, and
  a literal's `\xff` or `\377`) stay those bytes, so they print as they are (the CLI's stdout writes surrogate
  escapes back as bytes), compare bytewise, quote as `\xff` in messages and are U+FFFD where Go decodes runes (a
  raw byte in a literal that has escapes, `%#U` in a syntax error, JSON output). The bytes of a string that `*` or
  `..` walk into are Go's `uint8`, the template's integer literals Go's `int` (error messages name them).
- `sort_objects` (and `sort_key`, which delegates to it) reproduce kubectl's `--sort-by` exactly, including Go's
  unstable pdqsort and kubectl's comparator: objects missing the field first (Go's insertion sort leaves them in
  reverse order), ints and floats numerically, two quantity strings (`100m`, `1Gi`) by value, other strings
  bytewise; a type kubectl cannot sort is a `UsageError`.
- Custom-column cells are Go's `fmt.Sprint` of each value (maps as `map[k:v]`, lists as `[a b]`), joined by `,`,
  `<none>` when the first expression finds nothing, with ESC and CR escaped as kubectl's terminal escaper does.
- Nothing recurses on the data or on nested `{range}`s: printing (`json.Marshal`, `fmt.Sprint`), `..` and ranges
  (Go's recursive FindResults) run on explicit stacks, so an object nested thousands of levels deep, or a template
  with thousands of nested ranges, prints like any other (a RecursionError would be an internal error).
- This module imports only the standard library, `kates_cli.errors` and `kates_cli.core.gojson` (Go's float text,
  one implementation for -o json and for this package; it imports nothing of kates).
"""

from __future__ import annotations

from .gosort import sort_key, sort_objects
from .template import JSONPath, column_cell, relaxed_path

__all__ = [
    "JSONPath",
    "column_cell",
    "relaxed_path",
    "sort_key",
    "sort_objects",
]
