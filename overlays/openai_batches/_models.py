"""Building the generated attrs models from response bodies, checked and fast: the one way a body becomes a model.

The generated `from_dict` methods are slow (nested closures and a try/except per field cost more than decoding the
JSON itself) and they trust the body: a missing key raises KeyError, a nested object of the wrong shape is kept as
the raw value. This module reads the same models' attrs fields and type hints once per class (a *plan*), and compiles
from each plan a function that fills the model with plain lookups and checks the shapes the client relies on as it
goes, naming the field of the first problem. A field or enum value added to the spec is picked up after
`make generate` with no change here. Removable if the generator's parsers become as fast and as strict.

With msgspec (the `speed` extra) a body can skip the dicts: `decoder` decodes it into a *shape*, a msgspec Struct
made from the same plan, and the same emitter writes the copy into the model with the same checks. A body a shape
does not fit exactly goes to `build` on the decoded JSON, which gives the value or the error. One plan, one emitter,
one set of checks: the two ways in cannot drift apart.

Asked for an overlay class (`openai_batches.types.Batch`), the builder plans from its generated base and builds the
overlay classes throughout, nested objects included; asked for a generated class, it builds generated classes.
"""

from __future__ import annotations

import enum
import functools
import itertools
import json
import operator
import threading
import types
import typing
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

import attrs

from . import _generated, _json
from ._generated import Unset

T = TypeVar("T")

# How a field's JSON value becomes its attribute value.
_SCALAR, _BOOL, _OPEN_ENUM, _CLOSED_ENUM, _MODEL, _MODEL_LIST = range(6)


class WireModel:
    """What every public model adds to its generated base (it comes first in the bases, so its methods win).

    `to_dict()` is the generated one: the fields as the API sends them (enums as their values, null for a field
    without a value, unknown fields included), so a model logged or stored as JSON reads like the API's own answer.
    """

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        base = generated_class(cls)
        current = _OVERLAYS.get(base)
        # The first public class of a model is its class; a named one (a class statement) also replaces one that
        # `overlay_class` made on the spot before the named one was defined.
        if current is None or (current.__module__ == __name__ and cls.__module__ != __name__):
            _OVERLAYS[base] = cls

    def __repr__(self) -> str:
        # attrs' own repr ends every model with `additional_properties={}`, a detail of the generated code; unknown
        # fields appear only when the server sent some.
        parts = [
            f"{a.name}={getattr(self, a.name)!r}"
            for a in attrs.fields(generated_class(type(self)))
            if a.repr and a.name != "additional_properties"
        ]
        extra = getattr(self, "additional_properties", None)
        if extra:
            parts.append(f"additional_properties={extra!r}")
        return f"{type(self).__qualname__}({', '.join(parts)})"

    def to_json(self, *, indent: int | None = 2) -> str:
        """The wire form (`to_dict()`) as JSON text; `indent=None` for one line.

        Args:
            indent: Spaces per JSON indentation level; None for one line.

        Returns:
            The JSON text.
        """
        return json.dumps(typing.cast(Any, self).to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls: type[W], src_dict: typing.Mapping[str, Any]) -> W:
        """The model for a body shaped as the API sends it, with public classes throughout; ValueError names the
        first field that does not fit.

        Args:
            src_dict: The body, as parsed JSON.

        Returns:
            The model.

        Raises:
            ValueError: A field does not fit its type; the error names it.
        """
        return build(cls, dict(src_dict))


W = TypeVar("W", bound=WireModel)

# Generated class -> its public subclass.
_OVERLAYS: dict[type, type] = {}


def overlay_class(model: type[T]) -> type[T]:
    """The public subclass of a generated model; one made on the spot for a model the overlay does not name yet.

    The named ones (`openai_batches.types`) are registered as that module defines them, and the builder only asks
    for a public class while building one, which exists only once `types` is loaded (or is made here, for a model
    `types` does not name): so the named class is always found first, without this module importing `types`.
    """
    found = _OVERLAYS.get(model)
    if found is None:
        # A model added to the spec later: aliases for the names the generator suffixed ("object_" -> "object").
        aliases = {
            name[:-1]: property(operator.attrgetter(name))
            for name in attrs.fields_dict(typing.cast(Any, model))
            if name.endswith("_") and not hasattr(model, name[:-1])
        }
        namespace = {"__slots__": (), "__module__": __name__, "__qualname__": model.__name__, **aliases}
        found = type(model.__name__, (WireModel, model), namespace)
    return typing.cast(type[T], found)


def generated_class(model: Any) -> Any:
    """The generated model behind a public one (a generated model is its own)."""
    if not issubclass(model, WireModel):
        return model
    # Public classes add no fields (docs/design.md), so no attrs decorator runs on them: the first class in the MRO that
    # attrs made is the generated one.
    return next(base for base in model.__mro__ if "__attrs_attrs__" in vars(base))


class InvalidShape(ValueError):
    """Raised inside the builder; the client turns it into APIResponseValidationError."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class _Field(NamedTuple):
    attr: str
    key: str
    required: bool
    nullable: bool
    kind: int
    target: Any


class _Plan(NamedTuple):
    fields: tuple[_Field, ...]
    keys: frozenset[str]
    extra: bool  # the model keeps unknown keys in `additional_properties`


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _union_args(hint: Any) -> tuple[Any, ...]:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return typing.get_args(hint)
    return (hint,)


def _field(attribute: attrs.Attribute[Any], hint: Any) -> _Field:
    allowed = tuple(a for a in _union_args(hint) if a is not Unset)
    nullable = type(None) in allowed
    allowed = tuple(a for a in allowed if a is not type(None))
    # The generator appends "_" to names that shadow builtins (`object` becomes `object_`, `bytes` `bytes_`).
    key = attribute.name[:-1] if attribute.name.endswith("_") else attribute.name
    # A nullable field the body leaves out reads as None: the spec lists every optional response field as required
    # and nullable (x-absent-is-null), so the models type it `X | None` and the body need not carry it.
    required = attribute.default is attrs.NOTHING and not nullable
    kind: int = _SCALAR
    target: Any = None
    models = [a for a in allowed if isinstance(a, type) and attrs.has(a)]
    enums = [a for a in allowed if isinstance(a, type) and issubclass(a, enum.Enum)]
    lists = [typing.get_args(a)[0] for a in allowed if typing.get_origin(a) is list]
    if models:
        kind, target = _MODEL, models[0]
    elif lists and isinstance(lists[0], type) and attrs.has(lists[0]):
        kind, target = _MODEL_LIST, lists[0]
    elif enums:
        kind, target = (_OPEN_ENUM if str in allowed else _CLOSED_ENUM), enums[0]
    elif allowed == (bool,):
        kind = _BOOL
    return _Field(attribute.name, key, required, nullable, kind, target)


@functools.cache
def _plan(model: Any) -> _Plan:
    # Generated modules import their nested models only for type checking; resolve the names from the package.
    hints = typing.get_type_hints(model, localns=_generated.models_namespace(model))
    fields = tuple(_field(a, hints[a.name]) for a in attrs.fields(model) if a.init)
    extra = any(a.name == "additional_properties" for a in attrs.fields(model))
    return _Plan(fields, frozenset(f.key for f in fields), extra)


def build(model: type[T], data: object, path: str = "") -> T:
    """The model for `data`, or InvalidShape naming the first field that does not fit."""
    builder: Callable[[object, str], T] = _builder(typing.cast(Any, model))
    return builder(data, path)


class Refused(Exception):
    """A body the msgspec shape of its model does not fit exactly; `build` on the decoded JSON decides what it is."""


Decode = Callable[[bytes], Any]


def decoder(model: Any) -> Decode | None:
    """A function from a body straight to `model` through msgspec (the `speed` extra), raising `Refused` for a body
    off the beaten path; None without msgspec, or for a model no shape describes (one that contains itself, one
    `build` fills through its constructor, or one with a closed enum).

    A shape is strict where `build` is lenient: an unknown field, a missing required field, a null where none is
    allowed, an enum field that holds no string, or anything else out of the ordinary is refused, and the caller
    decodes the body to JSON values and builds from those, which gives the value or the error it always gives. Both
    are compiled from the same plan by the same emitter, so they check alike; what a call returns never depends on
    msgspec, only how fast it returns (a property test compares the two on arbitrary bodies).
    """
    if _json.fast is None:
        return None
    return _decoder(model)


@functools.cache
def _builder(model: Any) -> Callable[[object, str], Any]:
    """A function specialised to `model`, compiled once: straight-line dict lookups, no per-field dispatch.

    Interpreting the field plan per object was most of the client's time on a page of batches; the compiled form
    does the same checks without the per-field dispatch. Nested objects (`usage` and its details,
    `request_counts`) are built inline; arrays of objects call the item model's own compiled builder.
    """
    emitter = _Emitter(public=issubclass(model, WireModel), shaped=False)
    emitter.lines = ["def build(data, path):"]
    _compiling.add(model)
    try:
        result = emitter.emit(model, "data", "path", "    ", frozenset())
    finally:
        _compiling.discard(model)
    emitter.lines.append(f"    return {result}")
    return emitter.compile(f"model builder for {model.__name__}", "build")


@functools.cache
def _decoder(model: Any) -> Decode | None:
    # One thread at a time: `_shaping` tells a model that contains itself from one another thread is shaping.
    with _LOCK:
        try:
            shape = _shape_of(generated_class(model))
        except _Unshaped:
            return None
        import msgspec

        emitter = _Emitter(public=issubclass(model, WireModel), shaped=True)
        emitter.names["decode"] = msgspec.json.Decoder(shape).decode
        emitter.names["Error"] = _json.REFUSED
        emitter.lines = [
            "def decode_model(content):",
            "    try:",
            "        data = decode(content)",
            "    except Error:",
            "        raise Refused from None",
        ]
        result = emitter.emit(model, "data", "path", "    ", frozenset())
        emitter.lines.append(f"    return {result}")
        return emitter.compile(f"shape decoder for {model.__name__}", "decode_model")


@functools.cache
def _item_copier(model: Any) -> Callable[[Any], Any]:
    """The copier for one item of an array of objects, its shape already decoded."""
    emitter = _Emitter(public=issubclass(model, WireModel), shaped=True)
    emitter.lines = ["def copy(data):"]
    result = emitter.emit(model, "data", "path", "    ", frozenset())
    emitter.lines.append(f"    return {result}")
    return emitter.compile(f"shape copier for {model.__name__}", "copy")


class _Unshaped(Exception):
    pass


# A field the body left out holds this in the shape: the copier puts the model's own default in its place, so a
# default can never be taken for a value the body sent.
_ABSENT: Any = object()

_SHAPES: dict[Any, Any] = {}
_shaping: set[Any] = set()
_LOCK = threading.RLock()


def _is_mapping(model: Any) -> bool:
    """A model that is all additional properties (`Metadata`): its shape is a plain dict."""
    plan = _plan(model)
    return not plan.fields and plan.extra


def _shape_of(model: Any) -> Any:
    """The msgspec Struct for a generated model, made once: every field `Any` but nested objects, which get theirs."""
    shape = _SHAPES.get(model)
    if shape is not None:
        return shape
    # A closed enum appears in request bodies only: a model with one is left to `build`, which converts it.
    if (
        model in _shaping
        or not (_fills_slots(model, model) and _fills_slots(model, overlay_class(model)))
        or any(field.kind == _CLOSED_ENUM for field in _plan(model).fields)
    ):
        raise _Unshaped(model)
    import msgspec

    _shaping.add(model)
    try:
        fields: list[tuple[str, Any, Any]] = []
        rename: dict[str, str] = {}
        for i, field in enumerate(_plan(model).fields):
            name = f"f{i}"  # by position: a JSON key need not be a Python identifier
            rename[name] = field.key
            kind: Any = Any
            if field.kind in (_MODEL, _MODEL_LIST):
                item: Any = dict[str, Any] if _is_mapping(field.target) else _shape_of(field.target)
                kind = (list[item] if field.kind == _MODEL_LIST else item) | None
            fields.append((name, kind, msgspec.NODEFAULT if field.required else _ABSENT))
        shape = msgspec.defstruct(
            f"{model.__name__}Shape",
            fields,
            kw_only=True,
            forbid_unknown_fields=True,
            rename=rename,
            # A shape lives for one decode and holds no cycles: the collector need not track it.
            gc=False,
        )
    finally:
        _shaping.discard(model)
    _SHAPES[model] = shape
    return shape


class _Emitter:
    """Writes the source of one compiled function that makes a model: from decoded JSON (a dict) or, `shaped`, from
    the msgspec shape of the body.

    One emitter for both, so the two check alike: every check is written once, and what differs is how a field is
    read (a dict lookup or a shape's attribute) and what a failed check raises (the InvalidShape naming the field,
    or `Refused`, after which `build` names it). The objects the code refers to are collected in `names`.
    """

    def __init__(self, public: bool, shaped: bool) -> None:
        self.public = public
        self.shaped = shaped
        self.lines: list[str] = []
        # Numbers the names and variables of the source; only their being distinct matters.
        self.ids = itertools.count()
        self.names: dict[str, Any] = {
            "new": object.__new__,
            "dict": dict,
            "list": list,
            "str": str,
            "bool": bool,
            "len": len,
            "enumerate": enumerate,
            "ValueError": ValueError,
            "KeyError": KeyError,
            "A": _ABSENT,
            "Refused": Refused,
            "_not_object": _not_object,
            "_missing": _missing_field,
            "_null": _null_field,
            "_not_array": _not_array,
            "_not_bool": _not_bool,
            "_not_string": _not_string,
            "_unknown": _unknown_value,
        }

    def name(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{next(self.ids)}"
        self.names[name] = value
        return name

    def compile(self, what: str, function: str) -> Callable[..., Any]:
        exec(compile("\n".join(self.lines), f"<openai_batches {what}>", "exec"), self.names)
        compiled: Callable[..., Any] = self.names[function]
        return compiled

    def fail(self, error: str) -> str:
        """The statement that reports a failed check: `error` (an InvalidShape) from a dict, `Refused` from a shape."""
        return "raise Refused" if self.shaped else f"raise {error}"

    def emit(self, model: Any, data: str, path: str, indent: str, inside: frozenset[Any]) -> str:
        """Lines that check `data` (a variable holding the JSON, or the shape) and build `model`; returns the result
        variable."""
        built_class = overlay_class(generated_class(model)) if self.public else model
        model = generated_class(model)
        plan = _plan(model)
        out = self.lines.append
        tag = f"_{next(self.ids)}"
        result = f"o{tag}"
        if self.shaped and _is_mapping(model):
            # The dict msgspec made is this model's alone: kept, not copied.
            out(f"{indent}{result} = new({self.name('C', built_class)})")
            out(f"{indent}{result}.additional_properties = {data}")
            return result
        present = f"n{tag}"
        if not self.shaped:
            # A shape is its model's structure already; JSON may hold anything.
            out(f"{indent}if {data}.__class__ is not dict:")
            out(f"{indent}    raise _not_object({path}, {data})")
            if plan.extra:
                # Counting the known keys found makes "any unknown key?" one length comparison.
                out(f"{indent}{present} = {len(plan.fields)}")
        values: dict[str, str] = {}  # attribute -> the variable holding its value
        for i, field in enumerate(plan.fields):
            v, key = f"v{tag}_{i}", repr(field.key)
            checks = self.checks(model, field, v, key, f"p{tag}_{i}", path, indent + "    ", inside)
            if self.shaped:
                out(f"{indent}{v} = {data}.f{i}")
                if field.required:
                    self.lines.extend(line[4:] for line in checks)
                else:
                    out(f"{indent}if {v} is A:")
                    out(f"{indent}    {v} = {self.name('D', _default(model, field.attr))}")
                    if checks:
                        out(f"{indent}else:")
                        self.lines.extend(checks)
            else:
                # A subscript in a try costs nothing while the key is there, which it nearly always is: the API
                # sends every field, null when it has no value.
                out(f"{indent}try:")
                out(f"{indent}    {v} = {data}[{key}]")
                out(f"{indent}except KeyError:")
                if field.required:
                    out(f"{indent}    raise _missing({path}, {key}) from None")
                else:
                    out(f"{indent}    {v} = {self.name('D', _default(model, field.attr))}")
                    if plan.extra:
                        out(f"{indent}    {present} -= 1")
                if checks:
                    out(f"{indent}else:")
                    self.lines.extend(checks)
            values[field.attr] = v
        if _fills_slots(model, built_class):
            # Made empty and filled here: the same slots __init__ would set, without its call and keyword defaults.
            out(f"{indent}{result} = new({self.name('C', built_class)})")
            for attr, v in values.items():
                out(f"{indent}{result}.{attr} = {v}")
            unknown = "{}"
        else:
            # By keyword, as __init__ names them (`_x` takes `x`), so keyword-only fields are passed right too.
            names = {a.name: a.alias for a in attrs.fields(model)}
            passed = ", ".join(f"{names[attr]}={v}" for attr, v in values.items())
            out(f"{indent}{result} = {self.name('C', built_class)}({passed})")
            unknown = None
        if plan.extra:
            if self.shaped:
                # A shape refuses unknown fields, so a shaped body had none.
                out(f"{indent}{result}.additional_properties = {{}}")
            else:
                known = self.name("K", plan.keys)
                out(f"{indent}if len({data}) != {present}:")
                out(
                    f"{indent}    {result}.additional_properties = "
                    f"{{k: x for k, x in {data}.items() if k not in {known}}}"
                )
                if unknown is not None:
                    out(f"{indent}else:")
                    out(f"{indent}    {result}.additional_properties = {unknown}")
        return result

    def checks(
        self, model: Any, field: _Field, v: str, key: str, nested: str, path: str, indent: str, inside: frozenset[Any]
    ) -> list[str]:
        """The lines that check and convert a field's value once read (none for a plain scalar that may be null)."""
        lines: list[str] = []
        out = lines.append
        null_refused = not field.nullable and (field.required or field.kind != _SCALAR)
        if field.kind == _SCALAR:
            # Scalars are kept as they came: a string in an int field is the server's problem, not a crash.
            if null_refused:
                out(f"{indent}if {v} is None:")
                out(f"{indent}    {self.fail(f'_null({path}, {key})')}")
            return lines
        if field.kind == _OPEN_ENUM:
            # Any string is kept (a value added to the API later), but nothing else: `status` steers the client.
            out(f"{indent}if {v}.__class__ is str:")
            out(f"{indent}    {v} = {self.name('E', field.target._value2member_map_.get)}({v}, {v})")
            if null_refused:
                out(f"{indent}elif {v} is None:")
                out(f"{indent}    {self.fail(f'_null({path}, {key})')}")
                out(f"{indent}else:")
            else:
                out(f"{indent}elif {v} is not None:")
            out(f"{indent}    {self.fail(f'_not_string({path}, {key}, {v})')}")
            return lines
        if null_refused:
            out(f"{indent}if {v} is None:")
            out(f"{indent}    {self.fail(f'_null({path}, {key})')}")
        else:
            out(f"{indent}if {v} is not None:")
            indent += "    "
        if self.shaped and field.kind in (_MODEL, _MODEL_LIST):
            # The shape made sure of the structure: a nested object is its shape (a dict for a mapping model), an
            # array a list of them (models that contain themselves have no shape).
            if field.kind == _MODEL_LIST:
                target: Any = overlay_class(field.target) if self.public else field.target
                out(f"{indent}{v} = [{self.name('B', _item_copier(target))}(x) for x in {v}]")
            else:
                self.lines, outer = lines, self.lines
                try:
                    built = self.emit(field.target, v, path, indent, inside | {model})
                finally:
                    self.lines = outer
                out(f"{indent}{v} = {built}")
        elif field.kind == _MODEL and field.target not in inside and field.target is not model:
            out(f"{indent}{nested} = ({path}, {key})")
            self.lines, outer = lines, self.lines
            try:
                built = self.emit(field.target, v, nested, indent, inside | {model})
            finally:
                self.lines = outer
            out(f"{indent}{v} = {built}")
        elif field.kind in (_MODEL, _MODEL_LIST):
            target = overlay_class(field.target) if self.public else field.target
            builder = self.name("B", _nested_builder(target))
            if field.kind == _MODEL:
                out(f"{indent}{v} = {builder}({v}, ({path}, {key}))")
            else:
                out(f"{indent}if {v}.__class__ is not list:")
                out(f"{indent}    raise _not_array({path}, {key}, {v})")
                out(f"{indent}{nested} = ({path}, {key})")
                out(f"{indent}{v} = [{builder}(x, ({nested}, j)) for j, x in enumerate({v})]")
        elif field.kind == _BOOL:
            # Booleans steer the client (`has_more` ends a walk), so "yes" or 1 is refused.
            out(f"{indent}if {v}.__class__ is not bool:")
            out(f"{indent}    {self.fail(f'_not_bool({path}, {key}, {v})')}")
        else:
            closed = self.name("T", field.target)
            out(f"{indent}try:")
            out(f"{indent}    {v} = {closed}({v})")
            out(f"{indent}except ValueError:")
            out(f"{indent}    raise _unknown({path}, {key}, {v}) from None")
        return lines


def _fills_slots(model: Any, built_class: Any) -> bool:
    """Whether the builder may make `built_class` empty and assign its fields itself, skipping `__init__`.

    True for what the generator writes today: attrs classes whose `__init__` only stores its arguments (no validators,
    converters, setattr hooks or init hooks) and whose one field outside `__init__` is `additional_properties`. The
    public subclasses add no state (docs/design.md), so their own `__init__` (Metadata's takes a mapping) is skipped as
    well. Anything else is built through its constructor.
    """
    fields = attrs.fields(model)
    return (
        built_class.__new__ is object.__new__
        and built_class.__setattr__ is object.__setattr__
        and not any(a.validator is not None or a.converter is not None for a in fields)
        and all(a.init or a.name == "additional_properties" for a in fields)
        and not any(hasattr(model, hook) for hook in ("__attrs_pre_init__", "__attrs_post_init__"))
    )


_compiling: set[Any] = set()


def _nested_builder(model: Any) -> Callable[[object, str], Any]:
    # A model that contains itself (directly or not) would recurse while compiling: defer to the cache at call time.
    if model in _compiling:
        return lambda data, path: _builder(model)(data, path)
    return _builder(model)


def _default(model: Any, attr: str) -> Any:
    """The value of a field the body leaves out: its attrs default, or None for a nullable field without one."""
    default = attrs.fields_dict(model)[attr].default
    if default is attrs.NOTHING:
        return None
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        raise TypeError(f"{model.__name__}.{attr} has a factory default, which the builder does not expect")
    return default


# Paths travel as nested tuples, (parent, key) or (parent, index), and become text only for an error message:
# building "data[17].usage" for every object of every page would cost more than the checks themselves.
LazyPath = str | tuple[Any, str | int]


def _text(path: LazyPath) -> str:
    if isinstance(path, str):
        return path
    parent, step = path
    head = _text(parent)
    if isinstance(step, int):
        return f"{head}[{step}]"
    return f"{head}.{step}" if head else step


def _not_object(path: LazyPath, value: object) -> InvalidShape:
    where = _text(path)
    return InvalidShape(where, f"{where or 'body'}: expected an object, got {json_type(value)}")


def _missing_field(path: LazyPath, key: str) -> InvalidShape:
    where = _text((path, key))
    return InvalidShape(where, f"{where}: required field is missing")


def _null_field(path: LazyPath, key: str) -> InvalidShape:
    where = _text((path, key))
    return InvalidShape(where, f"{where}: must not be null")


def _not_array(path: LazyPath, key: str, value: object) -> InvalidShape:
    where = _text((path, key))
    return InvalidShape(where, f"{where}: expected an array, got {json_type(value)}")


def _not_bool(path: LazyPath, key: str, value: object) -> InvalidShape:
    where = _text((path, key))
    return InvalidShape(where, f"{where}: expected a boolean, got {json_type(value)}")


def _not_string(path: LazyPath, key: str, value: object) -> InvalidShape:
    where = _text((path, key))
    return InvalidShape(where, f"{where}: expected a string, got {json_type(value)}")


def _unknown_value(path: LazyPath, key: str, value: object) -> InvalidShape:
    where = _text((path, key))
    return InvalidShape(where, f"{where}: unknown value {value!r}")
