"""Evaluation: confusion matrix, per-class scores, mistakes, McNemar, the cache."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import ROOT

from digit_pipeline.training import evaluation as ev
from digit_pipeline.training.comparison import mcnemar
from digit_pipeline.training.evaluation import (
    confusion_matrix,
    evaluate_file,
    evaluate_proba,
    per_class_scores,
    worst_mistakes,
)


def one_hot(labels, confidence=0.9, classes=10):
    proba = np.full((len(labels), classes), (1 - confidence) / (classes - 1), np.float32)
    proba[np.arange(len(labels)), labels] = confidence
    return proba


def test_small_known_confusion_matrix():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 2, 2])
    expected = np.array([[2, 1, 0], [0, 1, 1], [0, 0, 1]])
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, 3), expected)


def test_rows_are_true_labels_and_columns_predictions():
    cm = confusion_matrix(np.array([3]), np.array([5]))
    assert cm.shape == (10, 10) and cm[3, 5] == 1 and cm.sum() == 1


@pytest.mark.parametrize(
    ("y_true", "y_pred", "match"),
    [([0, 1], [0], "one length"), ([0, 10], [0, 1], "labels 0..9"), ([-1], [0], "labels")],
    ids=["length", "too-big", "negative"],
)
def test_bad_labels_are_refused(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        confusion_matrix(np.array(y_true), np.array(y_pred))


def test_per_class_scores_by_hand():
    cm = np.array([[2, 1, 0], [0, 1, 1], [0, 0, 1]])
    scores = per_class_scores(cm)
    assert [s.support for s in scores] == [3, 2, 1]
    assert scores[0].precision == 1.0 and scores[0].recall == pytest.approx(2 / 3)
    assert scores[1].precision == pytest.approx(0.5) and scores[1].recall == pytest.approx(0.5)
    assert scores[2].precision == pytest.approx(0.5) and scores[2].recall == 1.0
    assert scores[2].f1 == pytest.approx(2 * 0.5 * 1.0 / 1.5)


def test_a_class_never_predicted_scores_zero_not_nan():
    scores = per_class_scores(np.array([[1, 0], [1, 0]]))
    assert scores[1].precision == 0.0 and scores[1].recall == 0.0 and scores[1].f1 == 0.0


def test_evaluation_figures_agree():
    y_true = np.array([7, 2, 1, 0, 4, 1])
    predicted = np.array([7, 2, 7, 0, 9, 1])
    result = evaluate_proba(y_true, one_hot(predicted))
    assert result.n == 6 and result.accuracy == pytest.approx(4 / 6)
    assert np.trace(result.confusion) == 4 and result.confusion[1, 7] == 1
    record = result.to_dict("m.keras")
    assert set(record) == {"model", "n", "accuracy", "confusion", "per_class"}
    assert len(record["per_class"]) == 10 and record["per_class"][0]["digit"] == 0


def test_worst_mistakes_most_confident_first_and_filtered():
    y_true = np.array([0, 1, 2, 3])
    proba = one_hot(np.array([0, 7, 7, 5]))
    proba[1] = one_hot([7], 0.6)[0]
    proba[3] = one_hot([5], 0.95)[0]
    found = worst_mistakes(y_true, proba)
    assert [(m.index, m.true, m.predicted) for m in found] == [(3, 3, 5), (2, 2, 7), (1, 1, 7)]
    assert found[0].confidence == pytest.approx(0.95)
    assert [m.index for m in worst_mistakes(y_true, proba, predicted=7)] == [2, 1]
    assert [m.index for m in worst_mistakes(y_true, proba, true=1, predicted=7)] == [1]
    assert len(worst_mistakes(y_true, proba, limit=1)) == 1


def test_mcnemar_exact_matches_the_binomial_by_hand():
    a = np.array([True] * 6 + [False] * 1 + [True] * 5)
    b = np.array([False] * 6 + [True] * 1 + [True] * 5)
    result = mcnemar(a, b)
    assert (result.only_a, result.only_b, result.method) == (6, 1, "exact")
    by_hand = 2 * sum(math.comb(7, k) for k in range(2)) / 2**7
    assert result.p_value == pytest.approx(by_hand)


def test_mcnemar_chi2_with_continuity_correction():
    a = np.array([True] * 40 + [False] * 20)
    b = ~a
    result = mcnemar(a, b, method="chi2")
    assert result.statistic == pytest.approx((abs(40 - 20) - 1) ** 2 / 60)
    assert result.p_value == pytest.approx(0.01421, abs=1e-4)  # chi2.sf(6.0167, 1)
    assert mcnemar(a, b).method == "chi2"


def test_mcnemar_of_identical_models_is_not_significant():
    same = np.array([True, False, True])
    assert mcnemar(same, same).p_value == 1.0
    with pytest.raises(ValueError, match="method"):
        mcnemar(same, same, method="z")


def test_evaluate_file_is_cached_by_content(mnist, monkeypatch):
    x, y = mnist
    model = ROOT / "models" / "mlp_plain.keras"
    first = evaluate_file(model, x[:50], y[:50])
    monkeypatch.setattr(ev, "evaluate", lambda *a, **k: pytest.fail("evaluated twice"))
    assert evaluate_file(model, x[:50], y[:50]) is first
    assert first.accuracy > 0.9 and not first.proba.flags.writeable
