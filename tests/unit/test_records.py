"""core/records.py against dataclasses.dataclass itself: the same class made both ways must build, compare, hash,
print, freeze and serialise alike, for every way of calling its constructor (right or wrong)."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import field
from typing import Any

import orjson
import pytest

from kates_cli.core.records import record

Decorator = Callable[..., Any]


def frozen_shape(decorate: Decorator) -> type:
    @decorate(frozen=True)
    class Ref:
        """A frozen record with every kind of field kates uses."""

        group: str
        version: int
        names: tuple[str, ...] = ()
        items: tuple[int, ...] = field(default_factory=tuple)
        named_as: str = field(default="", compare=False)
        secret: str = field(default="s", repr=False)

        def path(self) -> str:
            return f"{self.group}/{self.version}"

    return Ref


def plain_shape(decorate: Decorator) -> type:
    @decorate
    class State:
        """A mutable record, with a field the constructor does not take."""

        count: int
        table: dict[str, int] = field(default_factory=dict)
        seen: list[int] = field(init=False, default_factory=list)
        label: str | None = None

    return State


def identity_shape(decorate: Decorator) -> type:
    @decorate(eq=False)
    class Holder:
        """Compared and hashed by identity."""

        name: str
        members: set[str] = field(default_factory=set)

    return Holder


SHAPES = [frozen_shape, plain_shape, identity_shape]
VALUES = ["a", 1, ("x",), [1], "n", "s2"]


def calls(cls: type) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Constructor calls, right and wrong: positional prefixes, then keywords (known, repeated and unknown)."""
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    out: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for n in range(len(names) + 2):
        args = tuple(VALUES[i % len(VALUES)] for i in range(n))
        out.append((args, {}))
        for key in [*names, "unknown"]:
            out.append((args, {key: "k"}))
        for a, b in itertools.combinations(names, 2):
            out.append((args, {b: "k2", a: "k1"}))
    return out


def outcome(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        return cls(*args, **kwargs)
    except TypeError as exc:
        return TypeError, str(exc).split("()", 1)[-1]  # the message after the function's name


def dumped(obj: object) -> object:
    try:
        return orjson.dumps(obj)
    except orjson.JSONEncodeError as exc:
        return str(exc)


def hash_of(obj: object) -> object:
    try:
        return hash(obj)
    except TypeError:
        return "unhashable"


@pytest.mark.parametrize("shape", SHAPES)
def test_a_record_is_built_as_a_dataclass_would_be(shape: Callable[[Decorator], type]) -> None:
    made, ref = shape(record), shape(dataclasses.dataclass)
    assert dataclasses.is_dataclass(made)
    assert [(f.name, f.default, f.default_factory, f.compare, f.repr, f.init) for f in dataclasses.fields(made)] == [
        (f.name, f.default, f.default_factory, f.compare, f.repr, f.init) for f in dataclasses.fields(ref)
    ]
    assert made.__match_args__ == ref.__match_args__  # type: ignore[attr-defined]
    import inspect

    assert str(inspect.signature(made)) == str(inspect.signature(ref))  # e.g. (count: 'int', ...) -> None
    checked = 0
    for args, kwargs in calls(ref):
        got, want = outcome(made, args, kwargs), outcome(ref, args, kwargs)
        if isinstance(want, tuple):
            assert got == want, (args, kwargs)
            continue
        checked += 1
        assert repr(got) == repr(want)
        assert vars(got) == vars(want) and list(vars(got)) == list(vars(want))  # the same attributes, in order
        assert dataclasses.asdict(got) == dataclasses.asdict(want)
        assert dumped(got) == dumped(want)
        twin = outcome(made, args, kwargs)
        assert (got == twin) == (want == outcome(ref, args, kwargs))
        assert got != want  # another class: never equal, as two dataclasses of different classes
        if ref.__hash__ is None:
            assert made.__hash__ is None
            with pytest.raises(TypeError):
                hash(got)
        else:
            assert (hash_of(got) == hash_of(twin)) == (hash_of(want) == hash_of(outcome(ref, args, kwargs)))
            assert (hash_of(got) == "unhashable") == (hash_of(want) == "unhashable")
        replaced = dataclasses.replace(got, **{dataclasses.fields(made)[0].name: "r"})
        assert type(replaced) is made and repr(replaced) == repr(
            dataclasses.replace(want, **{dataclasses.fields(ref)[0].name: "r"})
        )
    assert checked >= 4  # some calls succeeded, not only errors compared


def test_fields_compare_and_hash_as_in_a_dataclass() -> None:
    made, ref = frozen_shape(record), frozen_shape(dataclasses.dataclass)
    for cls in (made, ref):
        a, b = cls("g", 1, named_as="x"), cls("g", 1, named_as="y")
        assert a == b and hash(a) == hash(b) and a.path() == "g/1"  # named_as is not compared
        assert cls("g", 1) != cls("g", 2) and cls("g", 1, items=(1,)) != cls("g", 1)
        assert "secret" not in repr(a) and "named_as='x'" in repr(a)
    held = identity_shape(record)
    one, two = held("n"), held("n")
    assert one != two and one == one and hash(one) != hash(two)
    mutable = plain_shape(record)
    m = mutable(1)
    m.count = 2
    m.seen.append(3)
    assert m == mutable(2) or m.seen == [3]
    assert mutable(2) == mutable(2) and mutable(1).seen is not mutable(1).seen  # a fresh factory value each


def test_a_frozen_record_refuses_assignment_and_deletion() -> None:
    made = frozen_shape(record)
    ref = made("g", 1)
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'group'"):
        ref.group = "h"
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'other'"):
        ref.other = 1
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'group'"):
        del ref.group
    assert ref.group == "g"


def test_what_a_class_defines_is_kept_and_what_record_cannot_do_is_refused() -> None:
    @record(frozen=True)
    class Shown:
        """Its own repr."""

        a: int

        def __repr__(self) -> str:
            return "mine"

    assert repr(Shown(1)) == "mine" and Shown(1) == Shown(1)

    with pytest.raises(TypeError, match="Cannot overwrite attribute __setattr__"):

        @record(frozen=True)
        class Settable:
            a: int

            def __setattr__(self, name: str, value: Any) -> None:
                pass

    with pytest.raises(TypeError, match="does not take order"):
        record(order=True)  # type: ignore[call-overload]

    @record
    class Undocumented:
        a: int = 0

    assert Undocumented.__doc__ == "Undocumented" and Undocumented() == Undocumented(0)


def test_a_record_inside_itself_prints_without_recursing() -> None:
    made = plain_shape(record)
    loop = made(1)
    loop.table = {"self": loop}  # type: ignore[dict-item]
    assert "..." in repr(loop)


def test_kates_records_are_made_without_exec() -> None:
    """Every dataclass kates makes on a watch's path is a record: no `exec`, whatever the interpreter's dataclass."""
    import kates_cli.cli.state
    import kates_cli.core.accumulator
    import kates_cli.core.config
    import kates_cli.core.deltas
    import kates_cli.core.mapping

    for cls in (
        kates_cli.core.config.ConnectionSettings,
        kates_cli.core.mapping.ResourceRef,
        kates_cli.core.accumulator.Query,
        kates_cli.core.deltas.Delta,
        kates_cli.cli.state.State,
    ):
        assert cls.__init__.__code__.co_filename.endswith("records.py"), cls  # type: ignore[misc]


def test_dataclasses_made_from_records_are_checked_as_from_dataclasses() -> None:
    from kates_cli.core.accumulator import Query

    @dataclasses.dataclass(frozen=True)
    class Named(Query):
        extra: int = 0

    q = Named("a", "cm", extra=1)
    assert (
        q == Named("a", "cm", extra=1) and repr(q).endswith("extra=1)") and hash(q) == hash(Named("a", "cm", extra=1))
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.name = "b"  # type: ignore[misc]
    with pytest.raises(TypeError, match="cannot inherit non-frozen dataclass from a frozen one"):

        @dataclasses.dataclass
        class Loose(Query):
            extra: int = 0

    for decorate in (record, dataclasses.dataclass):  # the same answers, made either way

        @decorate(frozen=True)
        class Base:
            a: int

        @record(frozen=True)
        class Child(Base):
            b: int = 2

        assert Child(1) == Child(1, 2) and repr(Child(1)).endswith("Child(a=1, b=2)")
        assert dataclasses.fields(Child)[0].name == "a" and Child.__dataclass_params__.frozen  # type: ignore[attr-defined]
        with pytest.raises(TypeError, match="cannot inherit non-frozen dataclass from a frozen one"):

            @record
            class Thawed(Base):
                b: int = 2


def test_a_frozen_record_with_its_own_eq_is_hashed_as_a_dataclass_would_be() -> None:
    for decorate in (record, dataclasses.dataclass):

        @decorate(frozen=True)
        class Own:
            a: int

            def __eq__(self, other: object) -> bool:
                return isinstance(other, Own) and self.a % 2 == other.a % 2

        assert Own(1) == Own(3) and hash(Own(1)) == hash((1,))


@pytest.mark.parametrize(
    ("why", "body"),
    [
        ("__post_init__", "a: int\n    def __post_init__(self): pass"),
        ("InitVar", "a: dataclasses.InitVar[int]"),
        ("keyword-only", "a: int = field(kw_only=True)"),
        ("keyword-only", "_: dataclasses.KW_ONLY\n    a: int"),
        ("hash", "a: int = field(default=0, hash=False)"),
        ("__setattr__", "a: int\n    def __setattr__(self, k, v): object.__setattr__(self, k, v)"),
        ("descriptor", "a: int = property(lambda self: 1)"),
        ("non-default argument 'b' follows default argument", "a: int = 0\n    b: int"),
    ],
)
def test_what_a_record_cannot_do_is_refused_when_the_class_is_made(why: str, body: str) -> None:
    source = f"@record\nclass C:\n    {body}\n"
    with pytest.raises(TypeError, match=why):
        # compiled without this module's `from __future__ import annotations`: dataclass sees InitVar as itself
        code = compile(source, "<record>", "exec", dont_inherit=True)
        exec(code, {"record": record, "dataclasses": dataclasses, "field": field})


def test_a_records_signature_is_dataclasss_in_subclasses_too() -> None:
    """A subclass with its own __init__, one that keeps the record's __init__ but adds fields (init=False), a record
    made from a record, and an instance: inspect says what it says of the same classes made with dataclass."""
    import inspect

    def shapes(decorate: Decorator) -> list[Any]:
        @decorate
        class A:
            """A base."""

            x: int

        @decorate(init=False)
        class KeepsInit(A):
            """Fields its __init__ does not take."""

            extra: int = 9

        @decorate
        class More(A):
            """Fields its own __init__ takes."""

            y: str = "a"

        class Own(A):
            def __init__(self, a: int) -> None:
                super().__init__(a)

        return [A, KeepsInit, More, Own]

    for made, ref in zip(shapes(record), shapes(dataclasses.dataclass), strict=True):
        assert str(inspect.signature(made)) == str(inspect.signature(ref)), made
    assert str(inspect.signature(shapes(record)[1])) == "(x: 'int') -> None"
    ref = frozen_shape(record)
    assert ref("g", 1).__signature__ is None
