"""The model file `train` writes and `score` reads: one JSON document.

One file rather than JSON beside a pickle: the metadata (plan version, definitions, library
versions, metrics) and the fitted estimators cannot drift apart or be copied half. The
estimators are a pickle inside it (base64) with its sha256. Loading checks, before unpickling:
the format, the checksum, the library versions (scikit-learn and numpy must match to the minor
version: pickles are not portable across them) and, against the plan at hand, that the model's
definitions and the plan's version are the ones it was trained on. A pickle runs code when
loaded: load only model files you made.
"""

from __future__ import annotations

import base64
import hashlib
import json
import pickle
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sklearn  # type: ignore[import-untyped]

from compiler import __version__
from compiler.plan.model import Plan

FORMAT = "trackplan-model/1"
CHECKED_LIBRARIES = ("scikit-learn", "numpy")


class ModelFileError(ValueError):
    """The model file cannot be used (unreadable, altered, other libraries, other plan)."""


def libraries() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "trackplan": __version__,
    }


@dataclass(frozen=True)
class ModelFile:
    meta: dict[str, Any]  # everything but the estimators (what `train --format json` prints)
    estimators: dict[str, Any]  # "model" and "baseline"

    @property
    def name(self) -> str:
        return str(self.meta["model"])


def dumps(meta: dict[str, Any], estimators: dict[str, Any]) -> str:
    blob = pickle.dumps(estimators, protocol=pickle.HIGHEST_PROTOCOL)
    document = {
        **meta,
        "format": FORMAT,
        "libraries": libraries(),
        "estimators": {
            "sha256": hashlib.sha256(blob).hexdigest(),
            "pickle_base64": base64.b64encode(blob).decode("ascii"),
        },
    }
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def load(path: Path) -> ModelFile:
    """Read and check a model file (not yet against a plan: see `check_plan`)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path}: cannot read the model file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ModelFileError(
            f"{path}:{exc.lineno}:{exc.colno}: not a model file (invalid JSON: {exc.msg})"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a model file (expected format {FORMAT})")
    here = libraries()
    saved = document.get("libraries", {})
    for lib in CHECKED_LIBRARIES:
        if _minor(str(saved.get(lib, "?"))) != _minor(here[lib]):
            raise ModelFileError(
                f"{path}: trained with {lib} {saved.get(lib, '?')}, this is {here[lib]}; "
                "retrain the model with `trackplan train`"
            )
    try:
        blob = base64.b64decode(document["estimators"]["pickle_base64"], validate=True)
        expected = document["estimators"]["sha256"]
    except (KeyError, TypeError, ValueError):
        raise ModelFileError(f"{path}: the model file has no readable estimators") from None
    if hashlib.sha256(blob).hexdigest() != expected:
        raise ModelFileError(f"{path}: the estimators do not match their checksum (altered?)")
    estimators = pickle.loads(blob)  # noqa: S301 - checked above; see the module docstring
    meta = {k: v for k, v in document.items() if k != "estimators"}
    return ModelFile(meta, estimators)


def check_plan(model: ModelFile, plan: Plan, path: Path) -> None:
    """The plan must be the one the model was trained on: same name, version and definitions."""
    saved = model.meta["plan"]
    spec = plan.models.models.get(model.name) if plan.models is not None else None
    if spec is None:
        raise ModelFileError(
            f"{path}: model '{model.name}' is not declared in the plan's models section"
        )
    if saved["name"] != plan.name or saved["version"] != plan.version:
        raise ModelFileError(
            f"{path}: trained on plan {saved['name']} {saved['version']}, this plan is "
            f"{plan.name} {plan.version}; retrain the model with `trackplan train`"
        )
    if saved["fingerprint"] != spec.fingerprint():
        raise ModelFileError(
            f"{path}: the plan's definitions of model '{model.name}' (features, label, snapshot) "
            "changed since it was trained; retrain it with `trackplan train`"
        )
