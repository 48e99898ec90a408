"""A trained model as data (the model file's metadata, `train --format json`) and as text."""

from __future__ import annotations

from typing import Any

from compiler.models.train import TrainResult
from compiler.plan.model import Plan


def _iso(value: Any) -> str:
    return str(value.astype("datetime64[s]")).replace("T", " ") + "Z"


def meta(result: TrainResult, plan: Plan) -> dict[str, Any]:
    spec = result.spec
    return {
        "model": spec.name,
        "kind": spec.kind,
        "title": spec.title,
        "plan": {"name": plan.name, "version": plan.version, "fingerprint": spec.fingerprint()},
        "definition": spec.definition(),
        "encoder": result.encoder.to_json(),
        "split": {
            "holdout_after": _iso(result.split.cut),
            "train_until": _iso(result.split.train_end),
            "gap_days": spec.label.days,
            **result.counts,
        },
        "calibration": result.calibration_method,
        "metrics": {
            "model": result.model_metrics.to_json(),
            "baseline": result.baseline_metrics.to_json(),
        },
        "hazard": result.hazard,
        "importances": [
            {"feature": i.feature, "mean": i.mean, "std": i.std, "direction": i.direction}
            for i in result.importances
        ],
    }


_CLASSIFICATION = (
    ("roc_auc", "ROC AUC"),
    ("pr_auc", "PR AUC"),
    ("brier", "Brier"),
    ("log_loss", "log loss"),
    ("ece", "calibration error"),
)
_REGRESSION = (("mae", "MAE"), ("rmse", "RMSE"), ("r2", "R2"))


def text(data: dict[str, Any], output: str) -> list[str]:
    """The summary `train` prints: split, metrics beside the baseline, calibration, importances."""
    split, scores = data["split"], data["metrics"]
    rows = _REGRESSION if data["kind"] == "regression" else _CLASSIFICATION
    lines = [
        f"model {data['model']} ({data['kind']}): {data['title']}",
        f"  train: {split['train_rows']} snapshots until {split['train_until']} "
        f"({split['train_positives']} positive); gap {split['gap_days']} days; holdout: "
        f"{split['holdout_rows']} after {split['holdout_after']} "
        f"({split['holdout_positives']} positive)",
        f"  {'holdout':<20} {'model':>10} {'baseline':>10}",
    ]
    for key, title in rows:
        lines.append(
            f"  {title:<20} {scores['model'][key]:>10.4f} {scores['baseline'][key]:>10.4f}"
        )
    if data["kind"] != "regression":
        lines.append(
            "  ROC AUC 95% interval  "
            + "  ".join(
                f"[{scores[w]['roc_auc_low']:.3f}, {scores[w]['roc_auc_high']:.3f}]"
                for w in ("model", "baseline")
            )
        )
        lines.append(f"  calibration ({data['calibration'] or 'none'}): predicted -> observed")
        for b in scores["model"]["calibration"]:
            lines.append(f"    {b['predicted']:.3f} -> {b['observed']:.3f} ({b['count']})")
    if data.get("hazard"):
        lines.append("  hazard ratios per unit [95% interval]:")
        for c in data["hazard"]["covariates"]:
            lines.append(
                f"    {c['name']:<28} {c['hazard_ratio']:>8.4f} "
                f"[{c['hr_low']:.4f}, {c['hr_high']:.4f}]"
            )
        lines.append(f"wrote {output}")
        return lines
    if not data["importances"]:
        lines.append("  permutation importances: not computed (--no-importances)")
    else:
        lines.append("  permutation importance (direction):")
    for imp in data["importances"][:10]:
        lines.append(
            f"    {imp['feature']:<28} {imp['mean']:>8.4f} ± {imp['std']:.4f}  {imp['direction']}"
        )
    lines.append(f"wrote {output}")
    return lines
