"""Pydantic v2 models for every event, generated from the plan's JSON Schemas by
datamodel-code-generator (run in-process, so `trackplan build` stays one pure step).

One `<Event>Properties` model per event (its plan properties), extending `EnvelopeProperties`
(the envelope fields PostHog stores inside `properties`), and one `Envelope` model (the
top-level fields). Enums become
`Literal`s, nullable becomes `| None`, and constraints (pattern, minimum, lengths) are kept.
`format: email` is dropped before generation: pydantic's EmailStr needs the optional
email-validator package, and the plan's pattern-free emails are still checked as strings.
"""

from __future__ import annotations

import json
from typing import Any

from compiler.naming import pascal_case
from compiler.plan.model import Plan
from compiler.targets.event_view import EventView
from compiler.targets.jsonschema import property_schema

ROOT_CLASS = "TrackingPlanModels"
ENVELOPE_PROPERTIES = "EnvelopeProperties"
# datamodel-codegen always emits a class for the document root; ours has no content of its own.
_ROOT_BLOCK = f"class {ROOT_CLASS}(RootModel[Any]):\n    root: Any\n"
_DROPPED_FORMATS = frozenset({"email"})


def properties_class(view: EventView) -> str:
    """`<Event>Properties`. A name that starts with a digit would begin with `_`, which
    datamodel-codegen renames (pydantic keeps `_` names private), so it begins with `Event`."""
    name = pascal_case(view.name)
    return ("Event" + name[1:] if name.startswith("_") else name) + "Properties"


def _schema(prop_schema: dict[str, Any]) -> dict[str, Any]:
    cleaned = {k: v for k, v in prop_schema.items() if not k.startswith("x-") and k != "deprecated"}
    if cleaned.get("format") in _DROPPED_FORMATS:
        del cleaned["format"]
    return cleaned


def _object(fields: dict[str, dict[str, Any]], required: list[str], title: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": title,
        "properties": fields,
        "required": sorted(required),
        "additionalProperties": False,
    }


def models_schema(plan: Plan, views: tuple[EventView, ...]) -> dict[str, Any]:
    """One JSON Schema document whose $defs are the models to generate. Every event model
    extends `EnvelopeProperties` (the envelope fields PostHog keeps inside `properties`)."""
    shared = [f for f in plan.envelope if f.placement == "properties"]
    defs: dict[str, Any] = {
        ENVELOPE_PROPERTIES: _object(
            {f.name: _schema(property_schema(f.property)) for f in shared},
            [],
            "Envelope fields PostHog keeps inside `properties`; any event may carry them.",
        )
    }
    for view in views:
        own = [a for a in view.explicit if not a.top]
        event_part = _object(
            {a.wire: _schema(property_schema(a.prop, allow_null=a.nullable)) for a in own},
            [a.wire for a in own if a.required],
            f"Properties of `{view.name}` (version {view.event.version}): {view.event.description}",
        )
        description = event_part.pop("description")
        defs[properties_class(view)] = {
            "description": description,
            "allOf": [{"$ref": f"#/$defs/{ENVELOPE_PROPERTIES}"}, event_part],
        }
    # The event name is the model's own choice of class, not a value the tracker checks.
    top = [f for f in plan.envelope if f.placement == "top" and f.role != "event_name"]
    defs["Envelope"] = _object(
        {f.name: _schema(property_schema(f.property)) for f in top},
        [f.name for f in top if f.required],
        "The top-level fields every event carries.",
    )
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs}


def render_models(plan: Plan, views: tuple[EventView, ...]) -> str:
    """The models module's source, before black (the Python target formats everything once)."""
    # Imported here: datamodel-code-generator takes a second to import, and every trackplan
    # command imports the target registry.
    from datamodel_code_generator import GenerateConfig, InputFileType, PythonVersion, generate
    from datamodel_code_generator.enums import DataModelType
    from datamodel_code_generator.parser import LiteralType

    config = GenerateConfig(
        input_file_type=InputFileType.JsonSchema,
        output_model_type=DataModelType.PydanticV2BaseModel,
        target_python_version=PythonVersion.PY_311,
        disable_timestamp=True,
        enum_field_as_literal=LiteralType.All,
        use_standard_collections=True,
        use_union_operator=True,
        use_annotated=True,
        field_constraints=True,
        use_field_description=True,
        use_schema_description=True,
        extra_fields="forbid",
        formatters=[],
        class_name=ROOT_CLASS,
    )
    source = generate(json.dumps(models_schema(plan, views), sort_keys=True), config=config)
    if not isinstance(source, str):
        raise RuntimeError("datamodel-code-generator returned no source")
    return source.replace(_ROOT_BLOCK, "")
