"""Python target: the installable package named by the plan's `codegen` section, in
generated/python/ (e.g. `shopfast_analytics` for a plan named ShopFast).

Typed, keyword-only emitter methods (one per event, named like the event) grouped per layer, so a
layer's tracker has only the events the plan allows from that layer at type-check time; pydantic
models from datamodel-code-generator for runtime validation; the Meta Pixel/CAPI mapping when the
plan has a Meta destination. The tracker fills only the envelope roles the plan declares, under
the plan's field names (`event_view.Roles`). Every .py file is formatted with black here, so the output is what `black --check` accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from compiler.naming import pascal_case, python_identifier
from compiler.plan.model import Plan, Property
from compiler.targets import event_view as ev
from compiler.targets.meta_view import meta_view
from compiler.targets.pydantic_models import properties_class, render_models
from compiler.templating import DEFAULT_SOURCE, environment, generated_note

NAME = "python"
OUTPUT_DIR = "python"
DESCRIPTION = "Python package (named in the plan's codegen): typed emitters on posthog-python"

_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


@dataclass(frozen=True)
class PyArgument:
    ident: str
    wire: str
    annotation: str
    required: bool
    top: bool


@dataclass(frozen=True)
class PyEvent:
    name: str
    method: str
    mixin: str
    model: str
    description: str
    version: str
    arguments: tuple[PyArgument, ...]  # spelled out; the optional envelope comes as **envelope
    envelope_args: str  # the TypedDict of the optional envelope fields this event takes
    required_wire: tuple[str, ...]


@dataclass(frozen=True)
class PyEnvelopeArgs:
    """A TypedDict of optional envelope fields, for events that spell none of them out or
    some (user_id after login): `**envelope: Unpack[EnvelopeArgs]`."""

    name: str
    fields: tuple[PyArgument, ...]


@dataclass(frozen=True)
class PyLayer:
    name: str
    class_name: str
    mixins: tuple[str, ...]
    events: tuple[str, ...]


def literal(values: tuple[object, ...]) -> str:
    return "Literal[" + ", ".join(repr(v) for v in values) + "]"


def py_type(prop: Property) -> str:
    """The annotation for a value of `prop`, without None."""
    if prop.enum is not None:
        return literal(prop.enum)
    if prop.type == "array":
        item = literal(prop.items_enum) if prop.items_enum else _SCALARS.get(prop.items_type or "")
        return f"list[{item or 'object'}]"
    return _SCALARS[prop.type]


def _argument(arg: ev.Argument) -> PyArgument:
    annotation = py_type(arg.prop)
    if arg.nullable or not arg.required:
        annotation += " | None"
    return PyArgument(python_identifier(arg.wire), arg.wire, annotation, arg.required, arg.top)


def envelope_args_name(explicit: tuple[str, ...]) -> str:
    return "EnvelopeArgs" + (
        "Without" + "".join(pascal_case(n) for n in explicit) if explicit else ""
    )


def py_envelope_args(plan: Plan, views: tuple[ev.EventView, ...]) -> tuple[PyEnvelopeArgs, ...]:
    variants = {v.explicit_envelope(plan) for v in views}
    return tuple(
        PyEnvelopeArgs(
            envelope_args_name(names),
            tuple(_argument(a) for a in ev.shared_envelope(plan, names)),
        )
        for names in sorted(variants | {()})
    )


def py_event(plan: Plan, view: ev.EventView) -> PyEvent:
    return PyEvent(
        name=view.name,
        method=python_identifier(view.name),
        mixin=pascal_case(view.name) + "Emitter",
        model=properties_class(view),
        description=view.event.description,
        version=view.event.version,
        arguments=tuple(_argument(a) for a in view.explicit),
        envelope_args=envelope_args_name(view.explicit_envelope(plan)),
        required_wire=tuple(sorted(a.wire for a in view.required)),
    )


def py_layers(plan: Plan) -> tuple[PyLayer, ...]:
    return tuple(
        PyLayer(
            name=layer,
            class_name=pascal_case(layer) + "Tracker",
            mixins=tuple(pascal_case(e) + "Emitter" for e in events),
            events=events,
        )
        for layer, events in ev.layer_events(plan).items()
    )


def format_python(source: str) -> str:
    # Imported here, like datamodel-codegen: only builds pay for it, not `trackplan lint`.
    import black
    from black.mode import TargetVersion

    mode = black.Mode(line_length=100, target_versions={TargetVersion.PY311})
    return black.format_str(source, mode=mode)


def environment_annotation(roles: ev.Roles) -> str:
    """The type of the tracker's environment: the role's enum, else any string."""
    return literal(roles.environments) if roles.environments else "str"


def render(plan: Plan, *, source: str = DEFAULT_SOURCE) -> dict[PurePosixPath, str]:
    """The package's files; `source` is the plan directory the headers name."""
    views = ev.event_views(plan)
    roles = ev.roles(plan)
    generated = generated_note(source)
    package = plan.codegen.python_package
    context = {
        "generated": generated,
        "plan": plan,
        "package": package,
        "distribution": plan.codegen.python_distribution,
        "events": [py_event(plan, v) for v in views],
        "envelope_args": py_envelope_args(plan, views),
        "top_fields": sorted(f.name for f in plan.envelope if f.placement == "top"),
        "layers": py_layers(plan),
        "example_layer": ev.server_layer(plan),
        "layer_literal": literal(ev.layer_values(plan)),
        "roles": roles,
        "environment_type": environment_annotation(roles),
        "default_environment": plan.codegen.default_environment,
        "identity": plan.identity,
        "posthog_names": {
            f.name: f.posthog_name for f in plan.envelope if f.posthog_name is not None
        },
        "capture_arguments": roles.capture_arguments,
        "meta": meta_view(plan) if plan.meta is not None else None,
    }
    env = environment()
    root = PurePosixPath(OUTPUT_DIR)
    pkg = root / package
    out = {
        root / "pyproject.toml": env.get_template("python/pyproject.toml.j2").render(context),
        root / "README.md": env.get_template("python/README.md.j2").render(context),
        pkg / "py.typed": "",
    }
    modules = ["__init__", "_runtime", "envelope", "events", "trackers"]
    modules += ["meta"] if plan.meta is not None else []
    for module in modules:
        text = env.get_template(f"python/{module}.py.j2").render(context)
        out[pkg / f"{module}.py"] = format_python(text)
    models = f'"""Pydantic models of every event. {generated}"""\n\n' + render_models(plan, views)
    out[pkg / "models.py"] = format_python(models)
    return out
