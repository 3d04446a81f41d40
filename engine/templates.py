"""The local template registry: what can be sent, in which languages, with which parameters.

Only APPROVED templates are sendable; asking for any other says its status.
Parameter names come from the component texts: ``{{1}}`` for positional
templates, ``{{first_name}}`` for named ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, cast

import peewee

from engine import views
from engine.clock import Clock
from engine.errors import Invalid
from engine.suggest import closest
from storage.models import Template
from storage.states import TemplateStatus

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def parameters_of(components: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parameters a template needs, in order: ``[{"component", "name", "index"?}]``."""
    params: list[dict[str, Any]] = []
    for component in components or ():
        kind = str(component.get("type", "")).lower()
        if kind in ("header", "body"):
            if kind == "header" and str(component.get("format", "TEXT")).upper() != "TEXT":
                params.append({"component": "header", "name": "media", "format": component["format"]})
                continue
            for name in _PLACEHOLDER.findall(component.get("text") or ""):
                params.append({"component": kind, "name": name})
        elif kind == "buttons":
            for index, button in enumerate(component.get("buttons") or ()):
                if str(button.get("type", "")).upper() == "URL":
                    for name in _PLACEHOLDER.findall(button.get("url") or ""):
                        params.append({"component": "button", "index": index, "name": name})
    return params


def template_view(t: Template) -> views.Template:
    return {
        "id": t.id,
        "name": t.name,
        "language": t.language,
        "category": cast(views.Category, t.category),
        "status": t.status,
        "parameter_format": cast(views.ParameterFormat, t.parameter_format),
        "parameters": t.parameters,
        "components": t.components,
    }


class Templates:
    def __init__(self, database: peewee.Database, clock: Clock) -> None:
        self.db = database
        self.clock = clock

    def upsert(
        self,
        *,
        name: str,
        language: str,
        category: str,
        status: str,
        components: Sequence[dict[str, Any]] = (),
        parameter_format: str = "POSITIONAL",
        source: str = "local",
        meta_id: str | None = None,
        reason: str | None = None,
    ) -> Template:
        category = category.upper()
        if category not in CATEGORIES:
            raise Invalid(
                f"template category {category!r} is unknown.",
                field="category",
                hint=f"Use one of {', '.join(CATEGORIES)}.",
            )
        values = {
            "category": category,
            "status": status.upper(),
            "components": list(components),
            "parameters": parameters_of(components),
            "parameter_format": parameter_format.upper(),
            "source": source,
            "meta_id": meta_id,
            "reason": reason,
            "updated_at": self.clock.now(),
        }
        with self.db.atomic():
            existing = Template.get_or_none((Template.name == name) & (Template.language == language))
            if existing is None:
                return Template.create(name=name, language=language, **values)
            Template.update(**values).where(Template.id == existing.id).execute()
            return Template.get_by_id(existing.id)

    def listed(self, *, status: str | None = None) -> list[Template]:
        query = Template.select().order_by(Template.name, Template.language)
        if status:
            query = query.where(Template.status == status.upper())
        return list(query)

    def names(self) -> list[str]:
        return sorted({t.name for t in Template.select(Template.name)})

    def resolve(self, name: str, language: str | None = None) -> Template:
        """The template called ``name`` (in ``language`` when given).

        Raises Invalid with the closest name when there is no such template (or
        language), and when the template exists in several languages and none
        was named.
        """
        found = list(Template.select().where(Template.name == name))
        if not found:
            guess = closest(name, self.names())
            raise Invalid(
                f"no template called {name!r}.",
                field="template",
                hint=f"Did you mean {guess!r}?"
                if guess
                else "Run templates sync to fetch them from WhatsApp.",
            )
        if language:
            for template in found:
                if template.language == language:
                    return template
            raise Invalid(
                f"template {name!r} has no {language!r} version.",
                field="language",
                hint=f"It exists in {', '.join(sorted(t.language for t in found))}.",
            )
        if len(found) > 1:
            raise Invalid(
                f"template {name!r} exists in several languages.",
                field="language",
                hint=f"Name one of {', '.join(sorted(t.language for t in found))}.",
            )
        return found[0]

    def sendable(self, name: str, language: str | None = None) -> Template:
        """Like resolve, and raises Invalid unless the template is APPROVED."""
        template = self.resolve(name, language)
        ensure_sendable(template)
        return template


def ensure_sendable(template: Template) -> None:
    if template.status != TemplateStatus.APPROVED:
        raise Invalid(
            f"template {template.name!r} ({template.language}) is {template.status}; "
            "only APPROVED templates can be sent.",
            field="template",
            hint="Pick an approved template, or wait for Meta's review.",
        )
