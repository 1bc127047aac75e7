"""Records: dataclasses whose methods are made without compiling anything.

`dataclasses.dataclass` writes the source of a class's `__init__`, `__repr__`, `__eq__` (and, frozen, `__hash__`,
`__setattr__` and `__delattr__`) and compiles each with `exec`: about 1.1 ms a class on this interpreter, 17 ms of
a `kates watch`'s start (17 classes) and 8 ms of a `kates get`'s, more than any module but orjson's. `record` lets
`dataclasses.dataclass` collect the fields (so the class is a dataclass in every way that is looked up) and gives
it methods that are closures over those fields.

Invariants:
- `record` takes the options kates uses: `init`, `repr`, `eq` and `frozen` (defaults as dataclass's). Any other
  option, and what those options cannot describe (`__post_init__`, InitVar, keyword-only fields, field(hash=...),
  a non-frozen class with its own `__setattr__`, a descriptor as a field's default, a field without a default after
  one with), is refused when the class is made (TypeError), never ignored.
- The class is a real dataclass: `dataclasses.fields`, `replace`, `asdict`, `is_dataclass`, `__match_args__` and
  orjson see the fields, defaults and factories dataclass collected, and `__dataclass_params__` holds the options
  given (so a dataclass made from a record is checked, frozen or not, as one made from a dataclass).
- Its instances behave as those of `dataclasses.dataclass` with the same options: `__init__` takes the init fields
  in order, by position or keyword, fills defaults and default factories (and sets init=False fields from theirs),
  and raises TypeError for a missing, unexpected or repeated argument; instance attributes are set in field order;
  `__repr__` is `Name(a=1, b='x')` over the repr=True fields (`...` for a record inside itself); `__eq__` compares
  the compare=True fields of two instances of exactly the same class, else NotImplemented; with eq and frozen the
  hash is that of the compared fields' tuple, with eq and not frozen instances are unhashable, with eq=False
  equality and hash are object's. Frozen: assigning or deleting a field (any attribute, on the class itself)
  raises dataclasses.FrozenInstanceError. A method the class defines itself is kept, as dataclass keeps it (a
  `__hash__` too, unless it is the None that defining `__eq__` leaves; a frozen class may not define `__setattr__`
  or `__delattr__`: TypeError, as dataclass says).
- A record without a docstring gets its name as one (dataclass would compute its signature with inspect).
  `inspect.signature` of the class is dataclass's, `(group: 'str', names: 'tuple' = ()) -> None`: built when asked
  for (a descriptor, `__signature__`): making a record builds none.
- For the type checker `record` is `dataclasses.dataclass`: constructor calls are checked as any dataclass's.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B0)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["record"]

_MISSING = dataclasses.MISSING
_REQUIRED, _FACTORY = object(), object()  # marks of a field the call must give, or whose factory fills it


def _record(
    cls: type | None = None,
    /,
    *,
    init: bool = True,
    repr: bool = True,
    eq: bool = True,
    frozen: bool = False,
    **unsupported: Any,
) -> Any:
    """`@record`, or `@record(frozen=True, ...)`: the class, made a dataclass as the module says."""
    if unsupported:
        raise TypeError(f"record() does not take {', '.join(sorted(unsupported))}: use dataclasses.dataclass")

    def wrap(cls: type) -> type:
        return _make(cls, init, repr, eq, frozen)

    return wrap if cls is None else wrap(cls)


def _make(cls: type, init: bool, show: bool, eq: bool, frozen: bool) -> type:
    own = set(cls.__dict__)
    if frozen and own & {"__setattr__", "__delattr__"}:
        name = sorted(own & {"__setattr__", "__delattr__"})[0]
        raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
    if not cls.__doc__:
        cls.__doc__ = cls.__name__
    # fields only, no method compiled; under a dataclass base, its frozen check as dataclass makes it (frozen then
    # compiles two methods, which ours replace: no kates record has such a base)
    based = any(dataclasses.is_dataclass(base) for base in cls.__mro__[1:])
    cls = dataclasses.dataclass(cls, init=False, repr=False, eq=False, frozen=frozen and based)
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    params.init, params.repr, params.eq, params.frozen = init, show, eq, frozen  # what a subclass checks
    fields = dataclasses.fields(cls)
    _refuse_unsupported(cls, fields, init, frozen)
    methods: dict[str, Any] = {}
    if init:
        methods["__init__"] = _initializer(cls, fields)
    if show:
        methods["__repr__"] = _representer(tuple(f.name for f in fields if f.repr))
    if eq:
        compared = tuple(f.name for f in fields if f.compare)
        values = _values(compared)
        methods["__eq__"] = _equality(values)
        # dataclass's rule: a __hash__ of the class's own is kept, unless it is the None that defining __eq__ sets
        explicit = "__hash__" in own and not (cls.__dict__["__hash__"] is None and "__eq__" in own)
        if not explicit:
            methods["__hash__"] = _hasher(values) if frozen else None
            own.discard("__hash__")
    if frozen:
        methods.update(_freezer(cls, frozenset(f.name for f in fields)))
    for name, method in methods.items():
        if name in own:
            continue  # the class's own, as dataclass keeps it
        if method is not None:
            method.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, method)
    if init and "__init__" not in own:
        cls.__signature__ = _Signature(methods["__init__"], fields)  # type: ignore[attr-defined]
    return cls


class _Signature:
    """A record class's `__signature__`: the signature dataclass's `__init__` would have, made when inspect asks
    for it (inspect is loaded by then: dataclasses imports it; the Signature objects are not made for every record).
    None (inspect then looks as it would) on an instance, and on a subclass with an `__init__` of its own."""

    def __init__(self, init: Callable[..., None], fields: tuple[dataclasses.Field[Any], ...]):
        self.init = init
        self.fields = fields  # the record's own: a subclass that keeps its __init__ may add fields it does not take

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is not None or getattr(owner, "__init__", None) is not self.init:
            return None
        import inspect

        factory = getattr(dataclasses, "_HAS_DEFAULT_FACTORY", inspect.Parameter.empty)  # its repr: <factory>
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        parameters = [
            inspect.Parameter(
                f.name,
                kind,
                default=f.default if f.default is not _MISSING else factory,
                annotation=f.type,
            )
            if f.default is not _MISSING or f.default_factory is not _MISSING
            else inspect.Parameter(f.name, kind, annotation=f.type)
            for f in self.fields
            if f.init
        ]
        return inspect.Signature(parameters, return_annotation=None)


def _refuse_unsupported(cls: type, fields: tuple[dataclasses.Field[Any], ...], init: bool, frozen: bool) -> None:
    """TypeError for what dataclass does and `record` does not, rather than a class that differs."""
    why = None
    initvar = getattr(dataclasses, "_FIELD_INITVAR", None)
    if hasattr(cls, "__post_init__"):
        why = "__post_init__"
    elif any(getattr(f, "_field_type", None) is initvar for f in cls.__dataclass_fields__.values()):  # type: ignore[attr-defined]
        why = "InitVar fields"
    elif any(getattr(f, "kw_only", False) is True for f in fields):
        why = "keyword-only fields"
    elif any(f.hash is not None for f in fields):
        why = "field(hash=...)"
    elif not frozen and _own_setattr(cls):
        why = "a __setattr__ of its own (dataclass's __init__ goes through it)"
    elif any(hasattr(type(cls.__dict__.get(f.name)), "__set__") for f in fields):
        why = "a descriptor as a field's default"
    if why:
        raise TypeError(f"record() does not support {why} ({cls.__qualname__}): use dataclasses.dataclass")
    if init:
        defaulted = None
        for f in fields:
            if not f.init:
                continue
            if f.default is not _MISSING or f.default_factory is not _MISSING:
                defaulted = f.name
            elif defaulted is not None:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")


def _own_setattr(cls: type) -> bool:
    """Whether `cls` or a base other than object defines `__setattr__`."""
    return any("__setattr__" in vars(base) for base in cls.__mro__[:-1])


def _initializer(cls: type, fields: tuple[dataclasses.Field[Any], ...]) -> Callable[..., None]:
    names = tuple(f.name for f in fields if f.init)
    position = {name: i for i, name in enumerate(names)}
    defaults = {f.name: f.default for f in fields if f.init and f.default is not _MISSING}
    factories = {f.name: f.default_factory for f in fields if f.init and f.default_factory is not _MISSING}
    # an init=False field: from its default factory (a plain default stays a class attribute, as dataclass leaves it)
    fixed = {f.name: f.default_factory for f in fields if not f.init and f.default_factory is not _MISSING}
    order = tuple(f.name for f in fields if f.init or f.name in fixed)  # the attributes set, in field order
    count = len(names)
    title = cls.__qualname__
    required = sum(1 for n in names if n not in defaults and n not in factories)  # the first ones
    takes = f"{count + 1}" if required == count else f"from {required + 1} to {count + 1}"  # with self

    # each init field's value before the call fills it: its default, or a mark (required, or from its factory);
    # updating a copy with the call's arguments keeps field order (the keys are there already)
    base: dict[str, Any] = {n: defaults.get(n, _FACTORY if n in factories else _REQUIRED) for n in names}
    marked = tuple(n for n in names if base[n] is _FACTORY or base[n] is _REQUIRED)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        given = len(args)
        if given == count and not kwargs and not fixed:  # every field by position
            self.__dict__.update(zip(names, args, strict=True))
            return
        if kwargs and (not kwargs.keys() <= base.keys() or given):
            for key in kwargs:  # in the interpreter's order: keywords, then the count, then what is missing
                at = position.get(key)
                if at is None:
                    raise TypeError(f"{title}.__init__() got an unexpected keyword argument '{key}'")
                if at < given:
                    raise TypeError(f"{title}.__init__() got multiple values for argument '{key}'")
        if given > count:
            raise TypeError(f"{title}.__init__() takes {takes} positional arguments but {given + 1} were given")
        values = base.copy()
        values.update(zip(names, args, strict=False))  # args may be fewer than names
        values.update(kwargs)
        missing = []
        for name in marked:
            value = values[name]
            if value is _FACTORY:
                values[name] = factories[name]()
            elif value is _REQUIRED:
                missing.append(name)
        if missing:
            plural = "s" if len(missing) > 1 else ""
            raise TypeError(
                f"{title}.__init__() missing {len(missing)} required positional argument{plural}: {_listed(missing)}"
            )
        if fixed:
            values = {name: values[name] if name in values else fixed[name]() for name in order}
        self.__dict__.update(values)

    return __init__


def _listed(names: list[str]) -> str:
    """'a', 'a' and 'b', 'a', 'b', and 'c': as the interpreter lists missing arguments."""
    quoted = [repr(n) for n in names]
    if len(quoted) < 3:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def _representer(shown: tuple[str, ...]) -> Callable[[Any], str]:
    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{self.__class__.__qualname__}({inner})"

    return __repr__


def _values(compared: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of an instance's compared fields (dataclass compares and hashes exactly that tuple)."""

    def values(self: Any) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in compared])

    return values


def _equality(values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


def _hasher(values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(values(self))

    return __hash__


def _freezer(cls: type, names: frozenset[str]) -> dict[str, Callable[..., None]]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        object.__setattr__(self, name, value)  # a record's base is object (or a record without its own)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        object.__delattr__(self, name)

    return {"__setattr__": __setattr__, "__delattr__": __delattr__}


if TYPE_CHECKING:
    from dataclasses import dataclass as record
else:
    record = _record
