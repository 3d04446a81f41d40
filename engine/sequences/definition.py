"""Sequence definitions: the JSON people write (DESIGN §7), validated so every problem is named.

    {"name": "onboarding",
     "trigger": {"type": "tag_added", "tag": "new"},
     "steps": [
       {"id": "welcome", "type": "message", "template": "welcome_offer", "language": "en"},
       {"id": "wait", "type": "delay", "hours": 24},
       {"id": "check", "type": "condition", "if": {"has_tag": "purchased"}, "yes": "thanks", "no": "nudge"},
       {"id": "thanks", "type": "message", "template": "thank_you", "next": null},
       {"id": "nudge", "type": "message", "template": "last_chance"}]}

Steps run in list order; ``next`` names another step, ``"next": null`` ends
the sequence, and a missing ``next`` means the following step (or the end).
A condition goes to ``yes`` or ``no`` instead. Validation refuses: a branch
to a missing step, a cycle, a condition on a message step that does not come
before it, a delay that is not positive or is longer than 365 days, an
unknown or unapproved template, and unknown fields (so typos never pass).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.errors import Invalid
from engine.whatsapp.parameters import compile_parameters
from storage.models import Template

MAX_DELAY = timedelta(days=365)
STATUSES = ("delivered", "read", "failed", "replied")
STEP_ID = r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Trigger(_Strict):
    type: Literal["tag_added", "contact_created", "manual"]
    tag: str | None = Field(None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _tag(self) -> Trigger:
        if self.type == "tag_added" and not self.tag:
            raise ValueError('a tag_added trigger names its tag: {"type": "tag_added", "tag": "new"}')
        if self.type != "tag_added" and self.tag:
            raise ValueError(f"a {self.type} trigger takes no tag")
        return self


class _Step(_Strict):
    id: str = Field(pattern=STEP_ID)
    next: str | None = None

    @property
    def ends_here(self) -> bool:
        """True when ``"next": null`` was written (the sequence ends after this step)."""
        return "next" in self.model_fields_set and self.next is None


class MessageStep(_Step):
    type: Literal["message"]
    template: str = Field(min_length=1, max_length=512)
    language: str | None = Field(None, min_length=2, max_length=16)
    params: list[str] | dict[str, str] | None = None


class DelayStep(_Step):
    type: Literal["delay"]
    minutes: float | None = None
    hours: float | None = None
    days: float | None = None

    @model_validator(mode="after")
    def _one_unit(self) -> DelayStep:
        given = [u for u in ("minutes", "hours", "days") if getattr(self, u) is not None]
        if len(given) != 1:
            raise ValueError("a delay takes exactly one of minutes, hours or days")
        # Compared in seconds first: a huge number of days is refused here, never overflows a timedelta.
        seconds = (self.minutes or 0) * 60 + (self.hours or 0) * 3600 + (self.days or 0) * 86400
        if seconds > MAX_DELAY.total_seconds():
            raise ValueError("a delay can be at most 365 days")
        if seconds <= 0 or self.duration <= timedelta(0):
            raise ValueError("a delay must be longer than zero")
        return self

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.minutes or 0, hours=self.hours or 0, days=self.days or 0)


class HasTag(_Strict):
    has_tag: str = Field(min_length=1, max_length=64)


class MessageStatus(_Strict):
    message: str = Field(pattern=STEP_ID)
    status: Literal["delivered", "read", "failed", "replied"]


class ConditionStep(_Step):
    type: Literal["condition"]
    if_: HasTag | MessageStatus = Field(alias="if")
    yes: str | None
    no: str | None


Step = Annotated[MessageStep | DelayStep | ConditionStep, Field(discriminator="type")]


class Definition(_Strict):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-. ]*$")
    trigger: Trigger
    steps: list[Step] = Field(min_length=1, max_length=100)

    def step(self, step_id: str) -> MessageStep | DelayStep | ConditionStep:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def following(self, step_id: str) -> str | None:
        """Where a message or delay step goes next (None: the sequence ends)."""
        index = next(i for i, s in enumerate(self.steps) if s.id == step_id)
        step = self.steps[index]
        if step.ends_here:
            return None
        if step.next is not None:
            return step.next
        return self.steps[index + 1].id if index + 1 < len(self.steps) else None

    def exits(self, step_id: str) -> list[str | None]:
        step = self.step(step_id)
        if isinstance(step, ConditionStep):
            return [step.yes, step.no]
        return [self.following(step_id)]

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


def read_definition(data: Any) -> Definition:
    """Parse and check the document's shape. Raises Invalid naming the field at fault."""
    try:
        definition = Definition.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _where(data, first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = f"unknown field {first['loc'][-1]!r}"
        elif first["type"] == "missing":
            message = f"{first['loc'][-1]} is required"
        elif first["type"] == "union_tag_invalid":
            message = "type must be message, delay or condition"
        raise Invalid(f"{where}: {message}.", field=where) from exc
    check_flow(definition)
    return definition


def _where(data: Any, loc: tuple[Any, ...]) -> str:
    """``steps[2] (check).if`` rather than pydantic's ``steps.2.condition.if``."""
    parts: list[str] = []
    node: Any = data
    keys = list(loc)
    while keys:
        key = keys.pop(0)
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            node = node[key]
            step_id = node.get("id") if isinstance(node, dict) else None
            parts.append(f"[{key}]" + (f" ({step_id})" if step_id else ""))
            if keys and isinstance(node, dict) and keys[0] == node.get("type"):
                keys.pop(0)  # the discriminated union's variant name
            continue
        parts.append(("." if parts else "") + str(key))
        node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts) or "definition"


def check_flow(definition: Definition) -> None:
    """Branches point at real steps, nothing loops, conditions look back. Raises Invalid."""
    ids = [s.id for s in definition.steps]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise Invalid(
            f"step id {duplicated[0]!r} is used twice.", field="steps", hint="Give every step its own id."
        )
    position = {step_id: i for i, step_id in enumerate(ids)}
    for step in definition.steps:
        targets = [("next", step.next)]
        if isinstance(step, ConditionStep):
            targets = [("yes", step.yes), ("no", step.no)]
            test = step.if_
            if isinstance(test, MessageStatus):
                referred = position.get(test.message)
                if referred is None:
                    raise Invalid(
                        f"step {step.id!r} asks about step {test.message!r}, which does not exist.",
                        field=f"steps.{step.id}.if",
                    )
                if not isinstance(definition.steps[referred], MessageStep):
                    raise Invalid(
                        f"step {step.id!r} asks about step {test.message!r}, which is not a message step.",
                        field=f"steps.{step.id}.if",
                    )
                if referred >= position[step.id]:
                    raise Invalid(
                        f"step {step.id!r} asks about step {test.message!r}, which comes later.",
                        field=f"steps.{step.id}.if",
                        hint="A condition can only look at a message sent before it.",
                    )
        for label, target in targets:
            if target is not None and target not in position:
                raise Invalid(
                    f"step {step.id!r} goes to {target!r} ({label}), which does not exist.",
                    field=f"steps.{step.id}.{label}",
                    hint=f"Steps are: {', '.join(ids)}.",
                )
    _refuse_cycles(definition)


def _refuse_cycles(definition: Definition) -> None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(step_id: str, path: list[str]) -> None:
        state[step_id] = 1
        for target in definition.exits(step_id):
            if target is None:
                continue
            if state.get(target) == 1:
                loop = " → ".join([*path[path.index(target) :], target])
                raise Invalid(f"the steps loop: {loop}.", field="steps", hint="A sequence must always end.")
            if state.get(target) is None:
                visit(target, [*path, target])
        state[step_id] = 2

    for step in definition.steps:
        if step.id not in state:
            visit(step.id, [step.id])


def check_templates(definition: Definition, sendable: Callable[[str, str | None], Template]) -> None:
    """Every message step's template exists, is APPROVED (``sendable`` raises Invalid), and
    its parameters can be filled from the step's ``params``."""
    for step in definition.steps:
        if isinstance(step, MessageStep):
            try:
                template = sendable(step.template, step.language)
                compile_parameters(template.parameters, template.parameter_format, step.params)
            except Invalid as exc:
                raise Invalid(
                    f"step {step.id!r}: {exc.message}", field=f"steps.{step.id}.template", hint=exc.hint
                ) from exc
