"""course_lib.losses: the lecture's numbers, gradient checks, extreme logits, bad input."""

import numpy as np
import pytest

from course_lib import losses
from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.losses import softmax, softmax_loss, svm_loss

# The lecture's three training examples (cat, car, frog) scored by a linear classifier;
# row i is an image, column j the score of class j, and image i belongs to class i.
LECTURE_SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
LECTURE_LABELS = np.array([0, 1, 2])


def test_softmax_of_the_lecture_example():
    np.testing.assert_allclose(softmax(LECTURE_SCORES[0]), [0.13, 0.87, 0.00], atol=0.005)
    loss, _ = softmax_loss(LECTURE_SCORES[:1], LECTURE_LABELS[:1])
    assert loss == pytest.approx(2.04, abs=0.005)


def test_svm_loss_of_the_lecture_example():
    loss, _ = svm_loss(LECTURE_SCORES, LECTURE_LABELS)
    assert loss == pytest.approx((2.9 + 0.0 + 12.9) / 3)  # 5.27 in the lecture


def test_softmax_rows_are_distributions_and_shift_invariant():
    scores = np.random.default_rng(0).standard_normal((5, 4))
    probs = softmax(scores)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(softmax(scores + 100.0), probs, rtol=1e-12)


def test_losses_at_chance_level():
    rng = np.random.default_rng(1)
    scores = 1e-3 * rng.standard_normal((500, 10))
    y = rng.integers(10, size=500)
    assert softmax_loss(scores, y)[0] == pytest.approx(np.log(10), abs=0.01)
    assert svm_loss(scores, y)[0] == pytest.approx(10 - 1, abs=0.01)  # every margin is about 1


@pytest.mark.parametrize("loss_function", [softmax_loss, svm_loss])
def test_gradient_matches_numerical(loss_function):
    rng = np.random.default_rng(2)
    scores = rng.standard_normal((6, 5))
    y = rng.integers(5, size=6)
    margins = scores - scores[np.arange(6), y][:, None] + 1
    assert np.abs(margins).min() > 1e-3, "scores must stay away from the hinge's kink"
    _loss, dscores = loss_function(scores, y)
    numerical = numerical_gradient(lambda s: loss_function(s, y)[0], scores)
    assert rel_error(dscores, numerical) < 1e-7


def test_logits_of_1000_stay_finite_without_warnings():
    scores = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 1000.0]])
    y = np.array([2, 0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        probs = softmax(scores)
        results = [softmax_loss(scores, y), svm_loss(scores, y)]
    np.testing.assert_allclose(probs, [[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
    softmax_value, _ = results[0]
    assert softmax_value == pytest.approx((2000.0 + 2000.0 + np.log(2)) / 2)
    for loss, dscores in results:
        assert np.isfinite(loss) and np.isfinite(dscores).all()


@pytest.mark.parametrize("loss_function", [softmax_loss, svm_loss])
def test_float32_keeps_dtype(loss_function):
    scores = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    loss, dscores = loss_function(scores, np.array([0, 1, 2, 0]))
    assert loss.dtype == np.float32 and dscores.dtype == np.float32
    assert softmax(scores).dtype == np.float32


@pytest.mark.parametrize("loss_function", [softmax_loss, svm_loss])
@pytest.mark.parametrize(
    ("scores", "y", "message"),
    [
        (np.ones(3), np.array([0]), r"scores must have shape \(N, C\)"),
        (np.ones((2, 3)), np.array([0, 1, 2]), r"y must have shape \(2,\)"),
        (np.ones((2, 3)), np.array([0.0, 1.0]), "y must hold integer class labels"),
        (np.ones((2, 3)), np.array([0, 3]), r"y must hold labels in \[0, 3\)"),
    ],
    ids=["scores rank", "y length", "y dtype", "y range"],
)
def test_bad_input_raises_a_value_error_naming_the_argument(loss_function, scores, y, message):
    with pytest.raises(ValueError, match=message):
        loss_function(scores, y)


def test_softmax_rejects_three_dimensional_scores():
    with pytest.raises(ValueError, match=r"scores must have shape \(N, C\) or \(C,\)"):
        softmax(np.ones((2, 3, 4)))


def test_l2_penalty_and_its_gradient():
    rng = np.random.default_rng(0)
    weights = {"W1": rng.standard_normal((4, 3)), "W2": rng.standard_normal(5)}
    penalty, grads = losses.l2_penalty(weights, 0.3)
    assert penalty == pytest.approx(0.15 * sum(np.sum(W**2) for W in weights.values()))
    assert grads.keys() == weights.keys()
    for name, W in weights.items():
        numeric = numerical_gradient(lambda _: losses.l2_penalty(weights, 0.3)[0], W)
        assert rel_error(grads[name], numeric) < 1e-8
    assert losses.l2_penalty(weights, 0.0)[0] == 0
    with pytest.raises(ValueError, match="reg must be a non-negative number"):
        losses.l2_penalty(weights, -1.0)
