"""An endpoint value upstream still lists but the service refuses: dropped through spec/overrides.yaml.

Batch creation stopped accepting `/v1/videos` on 2026-09-24 (the official SDK's 3.63 documentation says so) while the
upstream document still lists it. `dropped_values` leaves it out of `BatchEndpoint`, so neither the generated enum nor
the overlay's `EndpointParam` nor the command line offers it; a batch that reports it still reads, as a plain string.
Once upstream drops the value too, the entry drops nothing: a note, and the same fragment.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest
import yaml
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

from spec_update.config import Config, Overrides, load_config, parse_overrides  # noqa: E402
from spec_update.derive import derive  # noqa: E402
from spec_update.yaml_io import SpecError, load_openapi  # noqa: E402

SPEC = ROOT / "spec"
EXTRACT = SPEC / "upstream" / "openai-batch-files-extract.yaml"
VIDEOS = "/v1/videos"
NOTE = f'spec/overrides.yaml: dropped_values: BatchEndpoint: this document does not list "{VIDEOS}"'

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def base() -> Mapping[str, Any]:
    root, _ = load_openapi(EXTRACT)
    return root


@pytest.fixture(scope="module")
def fragment() -> Doc:
    data: Doc = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    return data


def _endpoints(doc: Mapping[str, Any]) -> list[Any]:
    """The list upstream keeps POST /batches' endpoint values in, to edit in place, wherever upstream keeps it."""

    def deref(node: Any) -> Any:
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            node = doc["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
        return node

    def values(node: Any) -> list[Any] | None:
        node = deref(node)
        if not isinstance(node, Mapping):
            return None
        if isinstance(node.get("enum"), list):
            found: list[Any] = node["enum"]
            return found
        lists = [v for key in ("allOf", "anyOf", "oneOf") for v in map(values, node.get(key) or []) if v is not None]
        return lists[0] if len(lists) == 1 else None

    body = deref(doc["paths"]["/batches"]["post"]["requestBody"]["content"]["application/json"]["schema"])
    owners = [body, *map(deref, body.get("allOf", []))]
    found = values(next(o["properties"]["endpoint"] for o in owners if "endpoint" in o.get("properties", {})))
    assert found is not None, "upstream's endpoint is no enum"
    return found


def test_the_spec_drops_videos_with_its_reason() -> None:
    entry = load_config(SPEC).overrides.section("dropped_values")["BatchEndpoint"]
    assert entry.value == [VIDEOS]
    assert "2026-09-24" in entry.reason and "3.63" in entry.reason


def test_no_endpoint_list_of_the_client_offers_videos(fragment: Doc) -> None:
    from openai_batches import BatchEndpoint
    from openai_batches._types import EndpointParam
    from openai_batches.cli import KNOWN_ENDPOINTS

    assert VIDEOS not in fragment["components"]["schemas"]["BatchEndpoint"]["enum"]
    generated = [member.value for member in BatchEndpoint]
    # The overlay's Literal names endpoints for type checkers: never one the spec does not offer. A value upstream
    # adds may be missing from it until someone adds it (BatchEndpoint has it at once), so a subset, not equality.
    literal = get_args(EndpointParam)
    assert len(set(literal)) == len(literal) and set(literal) <= set(generated), set(literal) - set(generated)
    assert VIDEOS not in generated and VIDEOS not in KNOWN_ENDPOINTS
    assert "VIDEOS" not in BatchEndpoint.__members__


def test_a_batch_that_reports_videos_still_reads() -> None:
    from openai_batches import Batch, BatchClient, BatchEndpoint

    body = {
        "id": "batch_1",
        "object": "batch",
        "endpoint": VIDEOS,
        "input_file_id": "file-1",
        "completion_window": "24h",
        "status": "completed",
        "created_at": 1711471533,
    }
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    with httpx.Client(transport=transport) as http_client:
        client = BatchClient(api_key="k", base_url="https://api.example.test/v1", http_client=http_client)
        batch = client.batches.retrieve("batch_1")
    assert isinstance(batch, Batch)
    assert batch.endpoint == VIDEOS and not isinstance(batch.endpoint, BatchEndpoint)
    assert json.loads(batch.to_json())["endpoint"] == VIDEOS


def test_once_upstream_drops_the_value_the_entry_is_a_note_and_the_fragment_is_the_same(
    base: Mapping[str, Any],
) -> None:
    config = load_config(SPEC)
    listing = copy.deepcopy(dict(base))
    if VIDEOS not in _endpoints(listing):
        _endpoints(listing).append(VIDEOS)
    now = derive(listing, config)
    assert not any(note.startswith(NOTE) for note in now.notes)
    later = copy.deepcopy(listing)
    _endpoints(later).remove(VIDEOS)
    after = derive(later, config)
    assert after.fragment == now.fragment
    assert any(note.startswith(NOTE) and "drops nothing" in note for note in after.notes), after.notes


def test_a_value_upstream_adds_is_kept_beside_the_dropped_one(base: Mapping[str, Any]) -> None:
    grown = copy.deepcopy(dict(base))
    _endpoints(grown).append("/v1/audio/speech")
    schemas = derive(grown, load_config(SPEC)).fragment["components"]["schemas"]
    assert schemas["BatchEndpoint"]["enum"][-1] == "/v1/audio/speech"
    assert schemas["BatchEndpoint"]["x-enum-varnames"][-1] == "AUDIO_SPEECH"
    assert VIDEOS not in schemas["BatchEndpoint"]["enum"]
    validate(derive(grown, load_config(SPEC)).fragment)


def test_the_dropped_value_stays_out_wherever_upstream_keeps_the_enum(base: Mapping[str, Any]) -> None:
    moved = copy.deepcopy(dict(base))
    create = moved["components"]["schemas"]["CreateBatchRequest"]["properties"]
    moved["components"]["schemas"]["Endpoints"] = {"type": "string", "enum": list(_endpoints(moved))}
    create["endpoint"] = {"$ref": "#/components/schemas/Endpoints"}
    schemas = derive(moved, load_config(SPEC)).fragment["components"]["schemas"]
    assert "Endpoints" not in schemas
    assert VIDEOS not in schemas["BatchEndpoint"]["enum"]


def test_dropping_every_value_keeps_upstreams_and_says_so(base: Mapping[str, Any]) -> None:
    config = load_config(SPEC)
    everything = {"values": list(_endpoints(base)), "reason": "a reason long enough"}
    dropped = parse_overrides({"dropped_values": {"BatchEndpoint": everything}}, "overrides.yaml").entries
    others = tuple(e for e in config.overrides.entries if e.section != "dropped_values")
    result = derive(base, Config(config.operations, Overrides(others + dropped), config.descriptions))
    assert result.fragment["components"]["schemas"]["BatchEndpoint"]["enum"] == _endpoints(base)
    assert any("would leave no value; the enum keeps upstream's values" in note for note in result.notes)


@pytest.mark.parametrize("values", [[], "/v1/videos", [{"a": 1}], None])
def test_a_dropped_values_entry_must_list_values(values: object) -> None:
    with pytest.raises(SpecError, match="`values` must list the enum values to leave out"):
        parse_overrides({"dropped_values": {"BatchEndpoint": {"values": values, "reason": "why"}}}, "overrides.yaml")
