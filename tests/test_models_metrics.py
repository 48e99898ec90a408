"""`metrics.rank_auc`, the bootstrap's ROC AUC, against scikit-learn's `roc_auc_score`."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

from compiler.models.metrics import rank_auc


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.sampled_from([0.0, 0.1, 0.1, 0.5, 0.9, 1.0]) | st.floats(0, 1)),
        min_size=2,
        max_size=60,
    ).filter(lambda rows: 0 < sum(y for y, _ in rows) < len(rows))
)
def test_rank_auc_is_sklearns_roc_auc(rows: list[tuple[bool, float]]) -> None:
    """Ties (repeated scores, within and across the classes) count half, as in sklearn."""
    y = np.array([float(label) for label, _ in rows])
    p = np.array([score for _, score in rows])
    assert abs(rank_auc(y, p) - roc_auc_score(y, p)) < 1e-12


def test_rank_auc_by_hand() -> None:
    # Positives score 0.8 and 0.4, negatives 0.4 and 0.1: of the 4 pairs, 3 ordered and 1 tie.
    y = np.array([1.0, 1.0, 0.0, 0.0])
    p = np.array([0.8, 0.4, 0.4, 0.1])
    assert rank_auc(y, p) == 3.5 / 4
