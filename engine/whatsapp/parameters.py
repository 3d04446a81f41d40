"""Fill a template's parameters for one contact: the Graph ``components`` of a send.

Input is the template's parameter list as ``engine.templates.parameters_of``
gives it (``[{"component": "header"|"body"|"button", "name", "index"?}]``),
its ``parameter_format`` (NAMED or POSITIONAL), the contact's name and
attributes, and an optional per-broadcast mapping.

The rules:

- A mapping value is either a literal (``"Diwali sale"``) or, when it is
  exactly ``{word}``, a reference to the contact attribute ``word``
  (``"{city}"``). A reference to ``name`` is the contact's name and one to
  ``first_name`` is its first word, unless the contact has an attribute of
  that name, which wins.
- NAMED templates: the mapping is a dict from parameter name to value. Each
  ``{{param}}`` takes the mapping's value when given, else the contact
  attribute of the same name (``{{first_name}}`` works with no mapping at
  all). A mapping key the template does not have is refused as a typo.
  Header and body parameters carry ``parameter_name``.
- POSITIONAL templates: the mapping is a list with one value per parameter,
  in order: header ``{{1}}``, body ``{{1}}`` … ``{{n}}``, then URL buttons.
  Without a mapping the list is ``["{name}"]``: ``{{1}}`` is the contact's
  name, and a template with any further parameter needs a mapping.
- A value is text with whitespace runs collapsed to one space: Meta refuses
  parameter text holding a newline, a tab or more than 4 spaces in a row.
  An empty value counts as missing.

What is raised: ``MappingMismatch`` and ``UnsupportedParameter`` when the
mapping can never fit the template (``compile_parameters`` finds these up
front, with no contact), ``MissingParameter`` when one contact lacks a value
(skip that recipient with ``err.reason``). Header media (image, video,
document, location) is not supported and is reported as such.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.suggest import closest
from engine.whatsapp.errors import MappingMismatch, MissingParameter, UnsupportedParameter

NAMED = "NAMED"
POSITIONAL = "POSITIONAL"
ParameterMapping = Mapping[str, str] | Sequence[str] | None

_REFERENCE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DEFAULT_POSITIONAL = ("{name}",)
_COMPONENT_ORDER = {"header": 0, "body": 1, "button": 2}


@dataclass(frozen=True, slots=True)
class _Slot:
    component: str  # header | body | button
    name: str  # the template's parameter name: "1" or "first_name"
    index: int | None  # the button's index, for URL buttons
    literal: str | None  # the value, when the mapping gave a literal
    attribute: str | None  # the contact attribute to read otherwise


@dataclass(frozen=True)
class ParameterPlan:
    """A template checked against a mapping; ``fill`` builds the components per contact."""

    named: bool
    slots: tuple[_Slot, ...]

    def fill(self, name: str, attributes: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """The Graph ``components`` for this contact. Raises MissingParameter."""
        attributes = attributes or {}
        header: list[dict[str, str]] = []
        body: list[dict[str, str]] = []
        buttons: dict[int, list[dict[str, str]]] = {}
        for slot in self.slots:
            if slot.literal is not None:
                value = slot.literal
            else:
                value = _lookup(slot.attribute or slot.name, name, attributes)
                if not value:
                    raise MissingParameter(slot.name, hint=_missing_hint(slot))
            parameter = {"type": "text", "text": value}
            if slot.component == "button":
                buttons.setdefault(slot.index or 0, []).append(parameter)
                continue
            if self.named:
                parameter["parameter_name"] = slot.name
            (header if slot.component == "header" else body).append(parameter)
        components: list[dict[str, Any]] = []
        if header:
            components.append({"type": "header", "parameters": header})
        if body:
            components.append({"type": "body", "parameters": body})
        for index in sorted(buttons):
            button = {"type": "button", "sub_type": "url", "index": str(index)}
            components.append({**button, "parameters": buttons[index]})
        return components


def compile_parameters(
    parameters: Sequence[Mapping[str, Any]],
    parameter_format: str | None = None,
    mapping: ParameterMapping = None,
) -> ParameterPlan:
    """Check ``mapping`` against the template once, with no contact.

    ``parameter_format`` is NAMED or POSITIONAL (any case); None guesses from
    the names. Raises MappingMismatch when the mapping can never fit (wrong
    kind, wrong count, unknown name, empty literal) and UnsupportedParameter
    for a media header.
    """
    wanted = _unique(parameters)
    named = _is_named(wanted, parameter_format)
    if named:
        return ParameterPlan(True, _named_slots(wanted, mapping))
    return ParameterPlan(False, _positional_slots(wanted, mapping))


def _unique(parameters: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Each parameter once, header first, then body, then buttons by index.

    A placeholder repeated in a text is still one parameter to Meta. Positional
    ones go in numeric order, since ``{{2}}`` may appear before ``{{1}}``.
    """
    seen: dict[tuple[str, int | None, str], Mapping[str, Any]] = {}
    for parameter in parameters:
        component = str(parameter.get("component", "body"))
        if component == "header" and parameter.get("format"):
            raise UnsupportedParameter(
                f"the template's header is a {str(parameter['format']).lower()}; "
                "Herald does not send media headers.",
                parameter="header",
                hint="Pick a template with a text header or none.",
            )
        key = (component, parameter.get("index"), str(parameter["name"]))
        seen.setdefault(key, parameter)

    def order(key: tuple[str, int | None, str]) -> tuple[int, int, int]:
        component, index, name = key
        return (_COMPONENT_ORDER.get(component, 1), index or 0, int(name) if name.isdigit() else 0)

    return [seen[key] for key in sorted(seen, key=order)]


def _is_named(parameters: Sequence[Mapping[str, Any]], parameter_format: str | None) -> bool:
    if parameter_format:
        return parameter_format.upper() == NAMED
    return any(not str(p["name"]).isdigit() for p in parameters)


def _named_slots(parameters: Sequence[Mapping[str, Any]], mapping: ParameterMapping) -> tuple[_Slot, ...]:
    if mapping is not None and not isinstance(mapping, Mapping):
        raise MappingMismatch(
            "this template has named parameters, so its mapping names them.",
            hint='Write it like {"first_name": "{name}", "city": "Pune"}.',
        )
    given = dict(mapping or {})
    names = [str(p["name"]) for p in parameters]
    for key in given:
        if key not in names:
            guess = closest(key, names)
            raise MappingMismatch(
                f"the template has no parameter {{{{{key}}}}}.",
                parameter=key,
                hint=f"Did you mean {{{{{guess}}}}}?" if guess else _known(names),
            )
    slots = []
    for parameter in parameters:
        name = str(parameter["name"])
        literal, attribute = _source(given[name], name) if name in given else (None, name)
        slots.append(_slot(parameter, literal, attribute))
    return tuple(slots)


def _positional_slots(
    parameters: Sequence[Mapping[str, Any]], mapping: ParameterMapping
) -> tuple[_Slot, ...]:
    if isinstance(mapping, Mapping | str):
        raise MappingMismatch(
            "this template has numbered parameters, so its mapping is a list of values.",
            hint='Write it like ["{name}", "{city}", "Diwali sale"] for {{1}}, {{2}}, {{3}}.',
        )
    values = list(mapping) if mapping is not None else list(_DEFAULT_POSITIONAL)
    if mapping is None and len(parameters) > len(values):
        raise MappingMismatch(
            f"the template needs {len(parameters)} values; without a mapping only "
            "{{1}} is filled (with the contact's name).",
            parameter=str(parameters[len(values)]["name"]),
            hint="Give a mapping with one value per parameter.",
        )
    if mapping is not None and len(values) != len(parameters):
        raise MappingMismatch(
            f"the template needs {len(parameters)} values and the mapping gives {len(values)}.",
            hint="Give one value per parameter, in order.",
        )
    return tuple(
        _slot(parameter, *_source(value, str(parameter["name"])))
        for parameter, value in zip(parameters, values, strict=False)
    )


def _source(value: Any, name: str) -> tuple[str | None, str | None]:
    """(literal, attribute) for one mapping value."""
    text = "" if value is None else str(value)
    reference = _REFERENCE.fullmatch(text.strip())
    if reference:
        return None, reference.group(1)
    literal = _clean(text)
    if not literal:
        raise MappingMismatch(
            f"the mapping gives {{{{{name}}}}} an empty value.",
            parameter=name,
            hint="Meta refuses empty parameters; give text or a {attribute}.",
        )
    return literal, None


def _slot(parameter: Mapping[str, Any], literal: str | None, attribute: str | None) -> _Slot:
    index = parameter.get("index")
    return _Slot(
        component=str(parameter.get("component", "body")),
        name=str(parameter["name"]),
        index=int(index) if index is not None else None,
        literal=literal,
        attribute=attribute,
    )


def _lookup(attribute: str, name: str, attributes: Mapping[str, Any]) -> str:
    value = attributes.get(attribute)
    if value is not None:
        text = _clean(str(value))
        if text:
            return text
    if attribute == "name":
        return _clean(name)
    if attribute == "first_name":
        words = (name or "").split()
        return words[0] if words else ""
    return ""


def _clean(text: str) -> str:
    # Meta refuses parameter text with a newline, a tab or more than 4
    # consecutive spaces (error 132018, or 100 before v23).
    return " ".join(text.split())


def _missing_hint(slot: _Slot) -> str:
    if slot.attribute in ("name", "first_name"):
        return "The contact has no name."
    if slot.attribute and slot.attribute != slot.name:
        return f"It is read from the contact attribute {slot.attribute!r}."
    return f"Set the contact attribute {slot.attribute!r} or map the parameter."


def _known(names: Sequence[str]) -> str:
    shown = ", ".join("{{" + n + "}}" for n in names) or "none"
    return f"Its parameters are: {shown}."
