"""Decoding a response body straight into its model when msgspec is installed (the `speed` extra).

`_models.build` makes the generated models out of decoded JSON, dicts and lists. With msgspec a body can skip the
dicts: it is decoded into a *shape*, a msgspec Struct per model made from the same field plans (fields named as in
the JSON, values kept as they came), and a compiled copier moves the values into the model, running the checks
`build` runs. A page of 100 batches takes about two thirds of the time `json.loads` alone takes this way.

A shape is strict where the general path is lenient: a body with an unknown field, a missing required field, a null
where none is allowed, an enum field that holds no string, or anything else out of the ordinary raises `Refused`,
and the caller takes the general path (`_json.loads` and `build`), which gives the value or the error it always gave,
unknown fields kept in `additional_properties` included. So what a call returns never depends on
msgspec, only how fast it returns; a property test compares the two paths on arbitrary bodies.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from . import _json
from ._models import (
    _BOOL,
    _CLOSED_ENUM,
    _MODEL,
    _MODEL_LIST,
    _OPEN_ENUM,
    _SCALAR,
    SourceWriter,
    WireModel,
    _default,
    _Field,
    _fills_slots,
    _plan,
    generated_class,
    overlay_class,
)

Decode = Callable[[bytes], Any]


class Refused(Exception):
    """The body does not fit the model's shape exactly; the general path decides what it is."""


def decoder(model: Any) -> Decode | None:
    """A function from a body to `model` that raises `Refused` for a body off the beaten path; None without msgspec,
    or for a model no shape describes (one that contains itself, one `build` fills through its constructor, or one
    with a closed enum)."""
    if _json.fast is None:
        return None
    return _decoder(model)


@functools.cache
def _decoder(model: Any) -> Decode | None:
    # One thread at a time: `_shaping` tells a model that contains itself from one another thread is shaping.
    with _LOCK:
        return _make_decoder(model)


def _make_decoder(model: Any) -> Decode | None:
    import msgspec

    try:
        shape = _shape_of(generated_class(model))
    except _Unshaped:
        return None
    emitter = _Copier(public=issubclass(model, WireModel))
    emitter.names["decode"] = msgspec.json.Decoder(shape).decode
    emitter.names["Error"] = _json.REFUSED
    emitter.lines = [
        "def decode_model(content):",
        "    try:",
        "        s = decode(content)",
        "    except Error:",
        "        raise Refused from None",
    ]
    return emitter.finish(model, f"shape decoder for {model.__name__}", "decode_model")


@functools.cache
def _item_copier(model: Any) -> Callable[[Any], Any]:
    """The copier for one item of an array of objects, its shape already decoded."""
    emitter = _Copier(public=issubclass(model, WireModel))
    emitter.lines = ["def copy(s):"]
    return emitter.finish(model, f"shape copier for {model.__name__}", "copy")


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
    # A closed enum appears in request bodies only: a model with one is left to the general path, which converts it.
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


class _Copier(SourceWriter):
    """Writes the source of one shape decoder or copier."""

    def __init__(self, public: bool) -> None:
        super().__init__(public, {"A": _ABSENT, "Refused": Refused})

    def finish(self, model: Any, what: str, function: str) -> Callable[..., Any]:
        """The compiled function, its source ended with the copy of `model` from the shape in `s`."""
        result = self.emit(model, "s", "    ")
        self.lines.append(f"    return {result}")
        return self.compile(what, function)

    def emit(self, model: Any, source: str, indent: str) -> str:
        """Lines that copy the shape in variable `source` into `model`; returns the result variable."""
        built_class = overlay_class(generated_class(model)) if self.public else model
        model = generated_class(model)
        out = self.lines.append
        tag = f"_{next(self.ids)}"
        result = f"o{tag}"
        out(f"{indent}{result} = new({self.name('C', built_class)})")
        if _is_mapping(model):
            # The dict msgspec made is this model's alone: kept, not copied.
            out(f"{indent}{result}.additional_properties = {source}")
            return result
        plan = _plan(model)
        for i, field in enumerate(plan.fields):
            v = f"v{tag}_{i}"
            out(f"{indent}{v} = {source}.f{i}")
            if field.required:
                self.check(field, v, indent)
            else:
                out(f"{indent}if {v} is A:")
                out(f"{indent}    {v} = {self.name('D', _default(model, field.attr))}")
                checks = len(self.lines)
                out(f"{indent}else:")
                self.check(field, v, indent + "    ")
                if len(self.lines) == checks + 1:
                    self.lines.pop()  # nothing to check
            out(f"{indent}{result}.{field.attr} = {v}")
        if plan.extra:
            out(f"{indent}{result}.additional_properties = {{}}")
        return result

    def check(self, field: _Field, v: str, indent: str) -> None:
        """Lines that check and convert one value as `_models.build` does, raising Refused where it would fail."""
        out = self.lines.append
        null_refused = not field.nullable and (field.required or field.kind != _SCALAR)
        if field.kind == _SCALAR:
            if null_refused:
                out(f"{indent}if {v} is None:")
                out(f"{indent}    raise Refused")
        elif field.kind == _OPEN_ENUM:
            out(f"{indent}if {v}.__class__ is str:")
            out(f"{indent}    {v} = {self.name('E', field.target._value2member_map_.get)}({v}, {v})")
            # Anything but a string (or an allowed null) is the general path's error to name.
            out(f"{indent}{'else' if null_refused else f'elif {v} is not None'}:")
            out(f"{indent}    raise Refused")
        elif field.kind == _BOOL:
            out(f"{indent}if {v}.__class__ is not bool{'' if null_refused else f' and {v} is not None'}:")
            out(f"{indent}    raise Refused")
        else:
            # An object or an array of objects (_shape_of leaves models with closed enums to the general path). The
            # shape made sure of the structure: a nested object is its shape (a dict for a mapping model), an array
            # a list of them, anything else null.
            if field.kind == _MODEL_LIST:
                target: Any = overlay_class(field.target) if self.public else field.target
                out(f"{indent}if {v}.__class__ is list:")
                out(f"{indent}    {v} = [{self.name('B', _item_copier(target))}(x) for x in {v}]")
            else:
                shape = dict if _is_mapping(field.target) else _shape_of(field.target)
                out(f"{indent}if {v}.__class__ is {self.name('S', shape)}:")
                out(f"{indent}    {v} = {self.emit(field.target, v, indent + '    ')}")
            if null_refused:
                out(f"{indent}elif {v} is None:")
                out(f"{indent}    raise Refused")
