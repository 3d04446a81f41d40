"""Filling a template's parameters from a contact and a per-broadcast mapping."""

from __future__ import annotations

from typing import Any

import pytest

from engine.templates import parameters_of
from engine.whatsapp.client import CloudApiClient
from engine.whatsapp.errors import MappingMismatch, MissingParameter, UnsupportedParameter
from engine.whatsapp.messages import TemplateMessage
from engine.whatsapp.parameters import compile_parameters
from engine.whatsapp.samples import SAMPLE_TEMPLATES
from tests.fakes.cloud_api import FakeCloudApi
from tests.helpers import build_components

FIRST_NAME = [{"component": "body", "name": "first_name"}]
ORDER = [{"component": "body", "name": str(n)} for n in (1, 2, 3)]


def body_values(components: list[dict[str, Any]]) -> list[str]:
    [body] = [c for c in components if c["type"] == "body"]
    return [p["text"] for p in body["parameters"]]


def test_a_named_first_name_is_the_first_word_of_the_contacts_name() -> None:
    components = build_components(FIRST_NAME, "NAMED", "Asha Kumari Rao", {})

    assert components == [
        {
            "type": "body",
            "parameters": [{"type": "text", "text": "Asha", "parameter_name": "first_name"}],
        }
    ]


def test_a_contact_attribute_beats_the_derived_first_name() -> None:
    components = build_components(FIRST_NAME, "NAMED", "Asha Rao", {"first_name": "Ash"})

    assert body_values(components) == ["Ash"]


def test_named_parameters_come_from_the_mapping_else_from_attributes() -> None:
    parameters = [
        {"component": "header", "name": "store"},
        {"component": "body", "name": "name"},
        {"component": "body", "name": "city"},
        {"component": "body", "name": "discount"},
    ]
    mapping = {"discount": "20%", "city": "{town}"}

    components = build_components(
        parameters, "NAMED", "Asha Rao", {"store": "Pune Central", "town": "Pune"}, mapping
    )

    assert components == [
        {
            "type": "header",
            "parameters": [{"type": "text", "text": "Pune Central", "parameter_name": "store"}],
        },
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Asha Rao", "parameter_name": "name"},
                {"type": "text", "text": "Pune", "parameter_name": "city"},
                {"type": "text", "text": "20%", "parameter_name": "discount"},
            ],
        },
    ]


def test_a_repeated_placeholder_is_one_parameter() -> None:
    parameters = [{"component": "body", "name": "first_name"}] * 2

    assert body_values(build_components(parameters, "NAMED", "Asha", {})) == ["Asha"]


def test_a_positional_template_without_mapping_gets_the_name_as_its_one_parameter() -> None:
    components = build_components([{"component": "body", "name": "1"}], "POSITIONAL", "Asha Rao")

    assert components == [{"type": "body", "parameters": [{"type": "text", "text": "Asha Rao"}]}]


def test_a_positional_mapping_fills_body_then_url_buttons_in_number_order() -> None:
    parameters: list[dict[str, Any]] = [
        {"component": "body", "name": "2"},
        {"component": "body", "name": "1"},
        {"component": "body", "name": "3"},
        {"component": "button", "index": 0, "name": "1"},
    ]
    mapping = ["{name}", "{order_id}", "on its way", "{order_id}"]

    components = build_components(parameters, "POSITIONAL", "Asha", {"order_id": "HX-1"}, mapping)

    assert components == [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Asha"},
                {"type": "text", "text": "HX-1"},
                {"type": "text", "text": "on its way"},
            ],
        },
        {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": "HX-1"}],
        },
    ]


def test_newlines_tabs_and_long_space_runs_are_collapsed_as_meta_requires() -> None:
    components = build_components(FIRST_NAME, "NAMED", "x", {"first_name": "Asha\n\tRao     Jr"})

    assert body_values(components) == ["Asha Rao Jr"]


@pytest.mark.parametrize(
    ("attributes", "name"),
    [({}, ""), ({"first_name": ""}, "   "), ({"first_name": None}, "")],
)
def test_a_contact_without_a_value_is_skipped_with_the_parameter_named(
    attributes: dict[str, Any], name: str
) -> None:
    with pytest.raises(MissingParameter) as caught:
        build_components(FIRST_NAME, "NAMED", name, attributes)

    assert caught.value.name == "first_name"
    assert caught.value.reason == "missing_parameter"


def test_a_missing_mapped_attribute_names_the_attribute_in_the_hint() -> None:
    plan = compile_parameters(ORDER, "POSITIONAL", ["{name}", "{order_id}", "shipped"])

    with pytest.raises(MissingParameter) as caught:
        plan.fill("Asha", {"city": "Pune"})

    assert caught.value.name == "2"
    assert "order_id" in caught.value.render()


@pytest.mark.parametrize(
    ("parameters", "parameter_format", "mapping", "says"),
    [
        (ORDER, "POSITIONAL", None, "needs 3 values"),
        (ORDER, "POSITIONAL", ["{name}", "x"], "the mapping gives 2"),
        (ORDER, "POSITIONAL", ["{name}", "x", "y", "z"], "the mapping gives 4"),
        (ORDER, "POSITIONAL", {"1": "{name}"}, "list of values"),
        (FIRST_NAME, "NAMED", ["{name}"], "named parameters"),
        (FIRST_NAME, "NAMED", {"frist_name": "{name}"}, "Did you mean {{first_name}}"),
        (FIRST_NAME, "NAMED", {"first_name": "   "}, "empty value"),
    ],
)
def test_a_mapping_that_can_never_fit_is_refused_up_front(
    parameters: list[dict[str, Any]], parameter_format: str, mapping: Any, says: str
) -> None:
    with pytest.raises(MappingMismatch) as caught:
        compile_parameters(parameters, parameter_format, mapping)

    assert says in caught.value.render()


def test_a_media_header_is_reported_as_unsupported() -> None:
    components: list[dict[str, Any]] = [
        {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["h"]}},
        {"type": "BODY", "text": "Hi {{1}}"},
    ]

    with pytest.raises(UnsupportedParameter) as caught:
        compile_parameters(parameters_of(components), "POSITIONAL")

    assert "image" in caught.value.render()


def test_the_format_is_guessed_from_the_names_when_unknown() -> None:
    assert compile_parameters(FIRST_NAME, None).named
    assert not compile_parameters([{"component": "body", "name": "1"}], None).named


MAPPINGS: dict[str, Any] = {
    "order_update": ["{name}", "{order_id}", "on its way", "{order_id}"],
    "login_code": ["{code}", "{code}"],
}


@pytest.mark.parametrize("template", SAMPLE_TEMPLATES, ids=lambda t: t["name"])
async def test_components_for_each_sample_template_are_accepted_by_the_cloud_api(
    cloud_api: FakeCloudApi, cloud_client: CloudApiClient, template: dict[str, Any]
) -> None:
    components = build_components(
        parameters_of(template["components"]),
        template["parameter_format"],
        "Asha Rao",
        {"order_id": "HX-1042", "code": "482913"},
        MAPPINGS.get(template["name"]),
    )

    wamid = await cloud_client.send_template(
        TemplateMessage("+919812345678", template["name"], template["language"], components)
    )

    assert wamid == cloud_api.accepted[0].wamid
