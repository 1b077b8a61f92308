"""The overlay's fast model builder gives exactly what the generated `from_dict` gives, for every valid body."""

from __future__ import annotations

import enum
import inspect
import json
from typing import Any, ClassVar

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai_batches import UNSET, Unset
from openai_batches import types as public
from openai_batches._models import InvalidShape, WireModel, _fills_slots, build, overlay_class
from openai_batches_generated import models

TIMESTAMPS = [
    "in_progress_at",
    "expires_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
]
STATUSES = ["validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled"]

text = st.text(max_size=12)
ints = st.integers(min_value=-(2**40), max_value=2**40)
open_enum = st.sampled_from(STATUSES) | text


def _optional(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | value


counts = st.fixed_dictionaries({"total": ints, "completed": ints, "failed": ints})
usage = st.fixed_dictionaries(
    {
        "input_tokens": ints,
        "input_tokens_details": st.fixed_dictionaries({"cached_tokens": ints}),
        "output_tokens": ints,
        "output_tokens_details": st.fixed_dictionaries({"reasoning_tokens": ints}),
        "total_tokens": ints,
    }
)
errors = st.fixed_dictionaries(
    {},
    optional={
        "object": _optional(text),
        "data": _optional(
            st.lists(
                st.fixed_dictionaries(
                    {}, optional={"code": _optional(text), "message": _optional(text), "line": _optional(ints)}
                ),
                max_size=3,
            )
        ),
    },
)
extra_fields = st.dictionaries(st.text(min_size=1, max_size=8).map(lambda k: f"x_{k}"), ints | text, max_size=2)

batch = st.builds(
    lambda required, optional, extra: {**required, **optional, **extra},
    st.fixed_dictionaries(
        {
            "id": text,
            "object": st.just("batch") | text,
            "endpoint": st.sampled_from(["/v1/chat/completions", "/v1/embeddings"]) | text,
            "input_file_id": text,
            "completion_window": st.just("24h") | text,
            "status": open_enum,
            "created_at": ints,
        }
    ),
    st.fixed_dictionaries(
        {},
        optional={
            "model": _optional(text),
            "errors": _optional(errors),
            "output_file_id": _optional(text),
            "error_file_id": _optional(text),
            "request_counts": _optional(counts),
            "usage": _optional(usage),
            "metadata": _optional(st.dictionaries(text, text, max_size=3)),
            **{name: _optional(ints) for name in TIMESTAMPS},
        },
    ),
    extra_fields,
)
page = st.fixed_dictionaries(
    {"object": st.just("list"), "data": st.lists(batch, max_size=4), "has_more": st.booleans()},
    optional={"first_id": _optional(text), "last_id": _optional(text)},
)
file_object = st.fixed_dictionaries(
    {
        "id": text,
        "object": st.just("file") | text,
        "bytes": ints,
        "created_at": ints,
        "filename": text,
        "purpose": st.sampled_from(["batch", "batch_output"]) | text,
        "status": st.sampled_from(["processed", "error"]) | text,
    },
    optional={"expires_at": _optional(ints), "status_details": _optional(text)},
)


def _filled(body: dict[str, Any], model: Any) -> dict[str, Any]:
    """The body with null for each field of `model` it leaves out that the generated parser requires."""
    required = [a.name.removesuffix("_") for a in attrs.fields(model) if a.init and a.default is attrs.NOTHING]
    return {**dict.fromkeys(required), **body}


def _sent_batch(body: dict[str, Any]) -> dict[str, Any]:
    """The body as the generated parser needs it: null where the builder reads a left-out field as None."""
    sent = _filled(body, models.Batch)
    if isinstance(sent["errors"], dict):
        sent["errors"] = _filled(sent["errors"], models.BatchErrors)
        if isinstance(sent["errors"]["data"], list):
            sent["errors"]["data"] = [_filled(e, models.BatchError) for e in sent["errors"]["data"]]
    return sent


@settings(max_examples=300, deadline=None)
@given(body=batch)
def test_batches_match_the_generated_parser(body: dict[str, Any]) -> None:
    # The spec lists every optional response field as required and nullable, so the generated parser wants each
    # one; the builder reads a field the body leaves out as null, which the generated parser is given outright.
    fast = build(models.Batch, body)
    assert fast == models.Batch.from_dict(_sent_batch(body))
    assert fast.to_dict() == models.Batch.from_dict(_sent_batch(body)).to_dict()


@settings(max_examples=100, deadline=None)
@given(body=page)
def test_pages_match_the_generated_parser(body: dict[str, Any]) -> None:
    sent = {**_filled(body, models.ListBatchesResponse), "data": [_sent_batch(b) for b in body["data"]]}
    assert build(models.ListBatchesResponse, body) == models.ListBatchesResponse.from_dict(sent)


@settings(max_examples=100, deadline=None)
@given(body=file_object)
def test_files_match_the_generated_parser(body: dict[str, Any]) -> None:
    fast = build(models.FileObject, body)
    sent = _filled(body, models.FileObject)
    assert fast == models.FileObject.from_dict(sent)
    assert fast.to_dict() == sent


def test_json_keys_the_builder_derives_are_the_generators_own() -> None:
    # The builder derives JSON keys from attribute names (`object_` reads "object"); to_dict holds the generator's
    # own mapping as string literals, so every derived key must appear there.
    checked = 0
    for name in dir(models):
        model = getattr(models, name)
        # Request bodies (`*Params`) are only ever sent, never built from JSON by the overlay.
        if not (isinstance(model, type) and attrs.has(model)) or name.endswith("Params"):
            continue
        source = inspect.getsource(model.to_dict)
        for field in attrs.fields(model):
            if field.init:
                key = field.name[:-1] if field.name.endswith("_") else field.name
                assert f'"{key}"' in source, (name, field.name)
                checked += 1
    assert checked > 60


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"object": "list", "data": {}, "has_more": False}, "data"),
        ({"object": "list", "data": [], "has_more": None}, "has_more"),
        ({"object": "list", "data": [{"id": "b"}], "has_more": False}, "data[0].object"),
        ({"object": "list", "data": [], "has_more": "no"}, "has_more"),
    ],
)
def test_shape_problems_name_the_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidShape) as caught:
        build(models.ListBatchesResponse, body)
    assert caught.value.field == field


def _batch(**fields: Any) -> dict[str, Any]:
    body = {
        "id": "batch_1",
        "object": "batch",
        "endpoint": "/v1/embeddings",
        "input_file_id": "file-1",
        "completion_window": "24h",
        "status": "completed",
        "created_at": 1711471533,
    }
    return {**body, **fields}


@pytest.mark.parametrize(
    ("model", "body", "message"),
    [
        (public.Batch, _batch(id=None), "id: must not be null"),
        (public.Batch, _batch(status=None), "status: must not be null"),
        (public.Batch, _batch(status=3), "status: expected a string, got number"),
        (
            public.Batch,
            _batch(request_counts={"total": 1, "completed": None}),
            "request_counts.completed: must not be null",
        ),
        (public.ListFilesResponse, {"object": "list", "data": []}, "has_more: required field is missing"),
        # A request body read back: an optional object may be left out, but not sent as null.
        (
            public.BatchCreateParams,
            {
                "input_file_id": "f",
                "endpoint": "/v1/embeddings",
                "completion_window": "24h",
                "output_expires_after": None,
            },
            "output_expires_after: must not be null",
        ),
    ],
)
def test_from_dict_refuses_a_body_that_does_not_fit_with_a_message_naming_the_field(
    model: Any, body: object, message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        model.from_dict(body)
    assert str(caught.value) == message


def test_nullable_fields_and_open_values_are_kept() -> None:
    got = public.Batch.from_dict(_batch(status="paused", model=None, usage=None, errors={"object": None, "data": None}))
    assert (got.status, got.model, got.usage) == ("paused", None, None)
    assert got.errors is not None and got.errors.object is None and got.errors.data is None
    sent = public.BatchCreateParams.from_dict(
        {"input_file_id": "f", "endpoint": "/v1/embeddings", "completion_window": "24h", "metadata": None}
    )
    assert sent.metadata is None and sent.output_expires_after is UNSET


# --- models the generator does not write today: the builder must still build them right ---------------------------


@attrs.define
class Counted:
    """An attrs model whose __init__ does more than store its arguments, so the builder must call it."""

    count: int
    label: str | Unset | None = UNSET
    additional_properties: dict[str, Any] = attrs.field(init=False, factory=dict)
    made: ClassVar[int] = 0

    def __attrs_post_init__(self) -> None:
        type(self).made += 1


@attrs.frozen
class Frozen:
    name: str


@attrs.define
class Node:
    """A model that contains itself."""

    name: str
    child: Node | Unset | None = UNSET
    additional_properties: dict[str, Any] = attrs.field(init=False, factory=dict)


def test_a_model_with_an_init_hook_is_built_through_its_constructor() -> None:
    before = Counted.made
    built = build(Counted, {"count": 2, "x": 1})
    assert (built.count, built.label, built.additional_properties) == (2, UNSET, {"x": 1})
    assert build(Counted, {"count": 3, "label": None}).additional_properties == {}
    assert Counted.made == before + 2
    assert build(Frozen, {"name": "a", "ignored": 1}) == Frozen("a")
    with pytest.raises(InvalidShape) as caught:
        build(Counted, {"label": "x"})
    assert caught.value.field == "count"


def test_only_plain_attrs_models_are_filled_without_their_constructor() -> None:
    assert _fills_slots(models.Batch, models.Batch)
    assert _fills_slots(models.Metadata, public.Metadata)  # its own __init__ adds no state, so it is skipped
    assert not _fills_slots(Counted, Counted)
    assert not _fills_slots(Frozen, Frozen)


def test_a_model_that_contains_itself_is_built_to_any_depth() -> None:
    built = build(Node, {"name": "a", "child": {"name": "b", "child": {"name": "c", "child": None}}})
    assert built.child.child.name == "c" and built.child.child.child is None
    with pytest.raises(InvalidShape) as caught:
        build(Node, {"name": "a", "child": {"name": "b", "child": {"child": None}}})
    assert caught.value.field == "child.child.name"


class Colour(enum.Enum):
    RED = "red"


@attrs.define
class Painted:
    """A nullable open enum (a known value, any other string, or null), which no response model has today."""

    colour: Colour | str | None


def test_a_nullable_open_enum_keeps_values_and_null_and_refuses_the_rest() -> None:
    assert build(Painted, {"colour": "red"}).colour is Colour.RED
    assert build(Painted, {"colour": "blue"}).colour == "blue"
    assert build(Painted, {"colour": None}).colour is None
    with pytest.raises(InvalidShape, match=r"^colour: expected a string, got number$"):
        build(Painted, {"colour": 1})


@attrs.frozen(kw_only=True)
class Keyworded:
    """Built through its constructor (frozen), every argument keyword-only, one renamed by attrs (`_rank` -> `rank`)."""

    name: str
    _rank: int = 0


@attrs.define(on_setattr=attrs.setters.NO_OP)
class Converted:
    """Converts in __init__ only: no setattr hook gives the converter away."""

    count: int = attrs.field(converter=int)


def test_a_model_built_through_its_constructor_gets_every_argument_and_runs_its_converters() -> None:
    assert build(Keyworded, {"name": "a", "_rank": 2}) == Keyworded(name="a", rank=2)
    assert build(Keyworded, {"name": "b"}) == Keyworded(name="b")
    assert build(Converted, {"count": "3"}).count == 3


@attrs.define
class Listed:
    tags: list[str] = attrs.Factory(list)


def test_a_model_with_a_factory_default_is_refused_rather_than_given_one_shared_default() -> None:
    with pytest.raises(TypeError, match=r"^Listed\.tags has a factory default"):
        build(Listed, {})


@attrs.define
class Later:
    """A model the spec might add later, with a suffixed name whose plain form the model already has."""

    object_: str
    format_: str

    def format(self) -> str:
        return f"<{self.format_}>"

    def to_dict(self) -> dict[str, Any]:
        return {"object": self.object_, "format": self.format_}


def test_a_model_the_overlay_does_not_name_gets_aliases_that_hide_nothing() -> None:
    made = overlay_class(Later)("thing", "wide")
    assert made.object == "thing"
    assert made.format() == "<wide>"  # the model's own method, not an alias of `format_`
    assert json.loads(made.to_json()) == {"object": "thing", "format": "wide"}


def test_a_public_model_passes_class_keywords_on_to_its_other_bases() -> None:
    seen: list[tuple[str, str]] = []

    class Registered:
        def __init_subclass__(cls, label: str = "", **kwargs: Any) -> None:
            super().__init_subclass__(**kwargs)
            seen.append((cls.__name__, label))

    @attrs.define
    class Base:
        id: str

    class Public(WireModel, Base, Registered, label="mine"):
        __slots__ = ()

    assert seen == [("Public", "mine")]
    assert overlay_class(Base) is Public


@attrs.define
class Unnamed:
    """A generated-style model that `types` does not name (a model added to the spec after this release)."""

    label: str


def test_a_named_public_class_replaces_the_one_made_on_the_spot_and_then_stays() -> None:
    made = overlay_class(Unnamed)
    assert made.__module__ == "openai_batches._models" and issubclass(made, Unnamed)
    assert build(made, {"label": "a"}).label == "a"

    class Named(WireModel, Unnamed):
        __slots__ = ()

    assert overlay_class(Unnamed) is Named
    assert type(build(Named, {"label": "b"})) is Named

    class Later(WireModel, Unnamed):
        __slots__ = ()

    # The first named class is the model's class: a second one (a user's subclass, say) does not take its place.
    assert overlay_class(Unnamed) is Named
