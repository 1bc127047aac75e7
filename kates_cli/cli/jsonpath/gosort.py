"""kubectl's --sort-by: its comparator, quantity parsing and Go's unstable pdqsort, reproduced.

`sort_list` is kubectl get's sort of a List it prints (SortObjects), `sort_table` its sort of a listed Table's rows
(SortingPrinter); tests/unit/test_printers_go.py checks both against kubectl's own Go code."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Iterable
from decimal import ROUND_UP, Context, Decimal, InvalidOperation
from typing import Any

from kates_cli.errors import UsageError

from ...core.records import record
from .evaluate import _basic_kind
from .gofmt import _INT64_MAX, _INVALID, _Error, _go_quote, _go_type
from .parser import _INT
from .template import JSONPath, relaxed_path

_QUANTITY_CONTEXT = Context(prec=4000, Emax=10**15, Emin=-(10**15))
_BINARY_SI = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_SI = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_NANO = Decimal("1e-9")


@functools.lru_cache(maxsize=4096)
def _quantity(s: str) -> Decimal | None:
    """The value of a Kubernetes resource quantity (`100m`, `1.5Gi`, `1e3`), or None if `s` is not one."""
    if not s:
        return None
    pos, end = 0, len(s)
    negative = s[0] == "-"
    if s[0] in "+-":
        pos = 1
    while pos < end and s[pos] == "0":
        pos += 1
    number_start = pos
    while pos < end and s[pos] in "0123456789":
        pos += 1
    number = s[number_start:pos] or "0"
    fraction = ""
    if pos < end and s[pos] == ".":
        pos += 1
        fraction_start = pos
        while pos < end and s[pos] in "0123456789":
            pos += 1
        fraction = s[fraction_start:pos]
    suffix_start = pos
    while pos < end and s[pos] in "eEinumkKMGTP":
        pos += 1
    if pos < end:
        if s[pos] in "+-":
            pos += 1
        while pos < end and s[pos] in "0123456789":
            pos += 1
        if pos < end:
            return None
    suffix = s[suffix_start:]
    binary = suffix in _BINARY_SI
    if binary:
        scale = Decimal(2 ** _BINARY_SI[suffix])
    elif suffix in _DECIMAL_SI:
        scale = Decimal(10) ** _DECIMAL_SI[suffix]
    elif len(suffix) > 1 and suffix[0] in "eE" and _INT.fullmatch(suffix[1:]) and abs(int(suffix[1:])) < 2**31:
        scale = Decimal(1).scaleb(int(suffix[1:]), _QUANTITY_CONTEXT)
    else:
        return None
    try:
        value = _QUANTITY_CONTEXT.multiply(Decimal(f"{number}.{fraction}0"), scale)
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -9:
            value = value.quantize(_NANO, rounding=ROUND_UP, context=_QUANTITY_CONTEXT)
    except InvalidOperation:
        return None
    if binary and value > _INT64_MAX:
        value = Decimal(_INT64_MAX)
    return -value if negative else value


_OBJECT_TYPE = "*unstructured.Unstructured"  # the %T kubectl's RuntimeSort names; its TableSorter names its rows'
_TABLE_TYPE = "[][][]reflect.Value"


def _sort_less(a: Any, b: Any, template: str, where: str = _OBJECT_TYPE) -> bool:
    """kubectl's isLess over two present sort values (JSON null sorts first)."""
    if a is None or b is None:
        return a is None and b is not None
    if isinstance(a, str):
        if isinstance(b, str):
            qa = _quantity(a)
            qb = _quantity(b) if qa is not None else None
            if qa is not None and qb is not None:
                return qa < qb
            return a < b
        err = "unsortable interface: interface"
    elif isinstance(a, int | float) and not isinstance(a, bool):
        if isinstance(b, int | float) and not isinstance(b, bool) and _basic_kind(a) == _basic_kind(b):
            return bool(a < b)
        err = "unsortable interface: interface"
    else:
        err = f"unsortable type: {_go_type(a)}"
    raise UsageError(f"Field {template} in {where} is an unsortable type: interface, err: {err}")


class _GoSort:
    """Go's sort.Sort (pattern-defeating quicksort, insertion sort up to 12 elements) over a list, so that ties and
    kubectl's inconsistent comparator for missing fields land exactly where kubectl puts them."""

    def __init__(self, data: list[Any], less: Callable[[Any, Any], bool]) -> None:
        self.d = data
        self.lt = less
        self.swaps = 0

    def less(self, i: int, j: int) -> bool:
        return self.lt(self.d[i], self.d[j])

    def swap(self, i: int, j: int) -> None:
        self.d[i], self.d[j] = self.d[j], self.d[i]

    def sort(self) -> None:
        n = len(self.d)
        if n > 1:
            self.pdqsort(0, n, n.bit_length())

    def insertion_sort(self, a: int, b: int) -> None:
        for i in range(a + 1, b):
            j = i
            while j > a and self.less(j, j - 1):
                self.swap(j, j - 1)
                j -= 1

    def sift_down(self, lo: int, hi: int, first: int) -> None:
        root = lo
        while True:
            child = 2 * root + 1
            if child >= hi:
                return
            if child + 1 < hi and self.less(first + child, first + child + 1):
                child += 1
            if not self.less(first + root, first + child):
                return
            self.swap(first + root, first + child)
            root = child

    def heap_sort(self, a: int, b: int) -> None:
        hi = b - a
        for i in range((hi - 1) // 2, -1, -1):
            self.sift_down(i, hi, a)
        for i in range(hi - 1, -1, -1):
            self.swap(a, a + i)
            self.sift_down(0, i, a)

    def pdqsort(self, a: int, b: int, limit: int) -> None:
        was_balanced = was_partitioned = True
        while True:
            length = b - a
            if length <= 12:
                self.insertion_sort(a, b)
                return
            if limit == 0:
                self.heap_sort(a, b)
                return
            if not was_balanced:
                self.break_patterns(a, b)
                limit -= 1
            pivot, hint = self.choose_pivot(a, b)
            if hint == "decreasing":
                self.reverse_range(a, b)
                pivot = (b - 1) - (pivot - a)
                hint = "increasing"
            if was_balanced and was_partitioned and hint == "increasing" and self.partial_insertion_sort(a, b):
                return
            if a > 0 and not self.less(a - 1, pivot):
                a = self.partition_equal(a, b, pivot)
                continue
            mid, was_partitioned = self.partition(a, b, pivot)
            left, right = mid - a, b - mid
            threshold = length // 8
            if left < right:
                was_balanced = left >= threshold
                self.pdqsort(a, mid, limit)
                a = mid + 1
            else:
                was_balanced = right >= threshold
                self.pdqsort(mid + 1, b, limit)
                b = mid

    def partition(self, a: int, b: int, pivot: int) -> tuple[int, bool]:
        self.swap(a, pivot)
        i, j = a + 1, b - 1
        while i <= j and self.less(i, a):
            i += 1
        while i <= j and not self.less(j, a):
            j -= 1
        if i > j:
            self.swap(j, a)
            return j, True
        self.swap(i, j)
        i, j = i + 1, j - 1
        while True:
            while i <= j and self.less(i, a):
                i += 1
            while i <= j and not self.less(j, a):
                j -= 1
            if i > j:
                break
            self.swap(i, j)
            i, j = i + 1, j - 1
        self.swap(j, a)
        return j, False

    def partition_equal(self, a: int, b: int, pivot: int) -> int:
        self.swap(a, pivot)
        i, j = a + 1, b - 1
        while True:
            while i <= j and not self.less(a, i):
                i += 1
            while i <= j and self.less(a, j):
                j -= 1
            if i > j:
                return i
            self.swap(i, j)
            i, j = i + 1, j - 1

    def partial_insertion_sort(self, a: int, b: int) -> bool:
        i = a + 1
        for _ in range(5):
            while i < b and not self.less(i, i - 1):
                i += 1
            if i == b:
                return True
            if b - a < 50:
                return False
            self.swap(i, i - 1)
            if i - a >= 2:
                for j in range(i - 1, 0, -1):
                    if not self.less(j, j - 1):
                        break
                    self.swap(j, j - 1)
            if b - i >= 2:
                for j in range(i + 1, b):
                    if not self.less(j, j - 1):
                        break
                    self.swap(j, j - 1)
        return False

    def break_patterns(self, a: int, b: int) -> None:
        length = b - a
        if length < 8:
            return
        state = length
        modulus = 1 << length.bit_length()
        mask = 2**64 - 1
        for idx in range(a + (length // 4) * 2 - 1, a + (length // 4) * 2 + 2):
            state ^= (state << 13) & mask
            state ^= state >> 7
            state ^= (state << 17) & mask
            other = state & (modulus - 1)
            if other >= length:
                other -= length
            self.swap(idx, a + other)

    def choose_pivot(self, a: int, b: int) -> tuple[int, str]:
        length = b - a
        self.swaps = 0
        i, j, k = a + length // 4, a + length // 4 * 2, a + length // 4 * 3
        if length >= 8:
            if length >= 50:
                i = self.median(i - 1, i, i + 1)
                j = self.median(j - 1, j, j + 1)
                k = self.median(k - 1, k, k + 1)
            j = self.median(i, j, k)
        if self.swaps == 0:
            return j, "increasing"
        if self.swaps == 12:
            return j, "decreasing"
        return j, "unknown"

    def order2(self, a: int, b: int) -> tuple[int, int]:
        if self.less(b, a):
            self.swaps += 1
            return b, a
        return a, b

    def median(self, a: int, b: int, c: int) -> int:
        a, b = self.order2(a, b)
        b, c = self.order2(b, c)
        a, b = self.order2(a, b)
        return b

    def reverse_range(self, a: int, b: int) -> None:
        i, j = a, b - 1
        while i < j:
            self.swap(i, j)
            i, j = i + 1, j - 1


@record
class _Entry:
    obj: Any
    found: bool
    value: Any
    rank: int = 0


def _sort_path(path: str) -> JSONPath | None:
    field_ = relaxed_path(path)
    return JSONPath._compile(field_) if field_ else None


def _entry(jp: JSONPath, obj: Any) -> _Entry:
    try:
        groups = jp._groups(obj)
    except _Error as e:
        raise UsageError(e.message, hint=f"while sorting by {jp.template}") from None
    if not groups or not groups[0][1]:
        return _Entry(obj, False, None)
    value = groups[0][1][0]
    return _Entry(obj, True, None if value is _INVALID else value)


def _not_found(template: str) -> UsageError:
    return UsageError(f"couldn't find any field with path {_go_quote(template)} in the list of objects")


def _go_sort_entries(
    entries: list[_Entry],
    template: str,
    where: str = _OBJECT_TYPE,
    check: bool = False,
    evaluate: Callable[[_Entry], None] | None = None,
) -> None:
    """Go's sort.Sort of the entries under kubectl's comparator. `check`: fail, as kubectl does before sorting,
    when no entry has the field (even a single one). `evaluate`: fill in an entry's value when kubectl first
    looks at it (so that an evaluation error and an unsortable pair surface in kubectl's order)."""
    if evaluate is not None:
        for entry in entries:  # kubectl's found-check walks the list up to the first object that has the field
            evaluate(entry)
            if entry.found:
                break
    if check and entries and not any(e.found for e in entries):
        raise _not_found(template)
    if len(entries) < 2:
        return
    if not any(e.found for e in entries):
        raise _not_found(template)

    def less(x: _Entry, y: _Entry) -> bool:
        if evaluate is not None:
            evaluate(x)
            evaluate(y)
        if not x.found:
            return True  # kubectl's comparator: a missing field sorts first, even before another missing one
        if not y.found:
            return False
        return _sort_less(x.value, y.value, template, where)

    _GoSort(entries, less).sort()


def sort_list(objs: Iterable[Any], path: str) -> list[Any]:
    """kubectl's `--sort-by=PATH` over a List it prints (-o json, yaml, name, jsonpath, custom-columns; get.go's
    SortingPrinter and SortObjects): `PATH` must be a relaxed path, and it is an error when no object has the field,
    even when the list holds a single object (an empty list is left alone). An object the path fails on is an error
    when kubectl first evaluates it (kubectl then exits with a Go dump of the object; kates names the error)."""
    items = list(objs)
    if not items:
        return items
    jp = JSONPath._compile(relaxed_path(path))
    done: set[int] = set()

    def evaluate(entry: _Entry) -> None:
        if id(entry) not in done:
            found = _entry(jp, entry.obj)
            entry.found, entry.value = found.found, found.value
            done.add(id(entry))

    entries = [_Entry(obj, False, None) for obj in items]
    _go_sort_entries(entries, jp.template, check=True, evaluate=evaluate)
    return [e.obj for e in entries]


def sort_table(objs: Iterable[Any], path: str) -> list[int]:
    """The order kubectl gives the rows of a listed server-side Table whose rows carry `objs` (their positions), as
    its SortingPrinter sorts them: a Table of one row (or none) is left alone, unchecked; otherwise a path that is
    not a relaxed one is used as the template it is (`{.a}{.b}` sorts by `.a`), every row is evaluated first, and it
    is an error when no row has the field."""
    items = list(objs)
    if len(items) < 2:
        return list(range(len(items)))
    try:
        template = relaxed_path(path)
    except UsageError:
        template = path
    try:
        jp = JSONPath._compile(template)
    except UsageError as e:
        raise UsageError(f"sorting error: {e.message}") from None
    entries = []
    for i, obj in enumerate(items):
        try:
            groups = jp._groups(obj)
        except _Error as e:
            raise UsageError(
                f"Failed to get values for [][]reflect.Value(nil) using {template} "
                f"(&errors.errorString{{s:{_go_quote(e.message)}}})"
            ) from None
        found = bool(groups and groups[0][1])
        value = groups[0][1][0] if found else None
        entries.append(_Entry(i, found, None if value is _INVALID else value))
    _go_sort_entries(entries, template, _TABLE_TYPE)
    return [e.obj for e in entries]


def sort_objects(objs: Iterable[Any], path: str) -> list[Any]:
    """kubectl's `--sort-by=PATH` over a list of objects, reproducing its order exactly (Go's unstable sort)."""
    items = list(objs)
    jp = _sort_path(path)
    if jp is None or len(items) < 2:
        return items
    entries = [_entry(jp, obj) for obj in items]
    _go_sort_entries(entries, jp.template)
    return [e.obj for e in entries]


class _Batch:
    """The keys made for one `sorted()` call: ranked together, by kubectl's sort, on the first comparison."""

    def __init__(self, jp: JSONPath) -> None:
        self.jp = jp
        self.entries: list[_Entry] = []
        self.ranked = False

    def rank(self) -> None:
        if not self.ranked:
            order = list(self.entries)
            _go_sort_entries(order, self.jp.template)
            for i, entry in enumerate(order):
                entry.rank = i
            self.ranked = True


class _SortKey:
    __slots__ = ("batch", "entry")

    def __init__(self, batch: _Batch, entry: _Entry) -> None:
        self.batch = batch
        self.entry = entry

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, _SortKey):
            return NotImplemented
        if other.batch is self.batch:
            self.batch.rank()
            return self.entry.rank < other.entry.rank
        if not self.entry.found or not other.entry.found:
            return not self.entry.found and other.entry.found
        return _sort_less(self.entry.value, other.entry.value, self.batch.jp.template)


class _SortKeyFunction:
    def __init__(self, jp: JSONPath) -> None:
        self.jp = jp
        self._batch: Callable[[], _Batch | None] = lambda: None

    def __call__(self, obj: Any) -> _SortKey:
        batch = self._batch()
        if batch is None or batch.ranked:
            batch = _Batch(self.jp)
            self._batch = weakref.ref(batch)
        entry = _entry(self.jp, obj)
        batch.entries.append(entry)
        return _SortKey(batch, entry)


def sort_key(path: str) -> Callable[[Any], Any]:
    """A key function for `sorted(objs, key=sort_key(path))` that orders objects exactly as kubectl's
    `--sort-by=PATH` (a relaxed path: `.a.b`, `a.b`, `{.a.b}`). The keys made for one `sorted()` call are ranked
    together by kubectl's own algorithm (see `sort_objects`), so ties and missing fields land where kubectl puts them.
    An empty path keeps the input order (kubectl does not sort)."""
    jp = _sort_path(path)
    if jp is None:
        return lambda obj: 0
    return _SortKeyFunction(jp)
