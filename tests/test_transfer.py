"""course_lib.transfer: class subsets, few-shot draws, copied layers."""

import numpy as np
import pytest

from course_lib.data import load_dataset
from course_lib.models import FullyConnectedNet
from course_lib.transfer import class_subset, copy_params, few_shot


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_class_subset_keeps_only_the_classes_and_relabels_them_in_order(digits):
    subset = class_subset(digits, [7, 2])
    for split in ("train", "val", "test"):
        original = digits[f"y_{split}"]
        assert len(subset[f"y_{split}"]) == np.sum((original == 7) | (original == 2))
        assert set(subset[f"y_{split}"]) == {0, 1}
        keep = np.isin(original, [7, 2])
        np.testing.assert_array_equal(subset[f"X_{split}"], digits[f"X_{split}"][keep])
        np.testing.assert_array_equal(subset[f"y_{split}"], np.where(original[keep] == 7, 0, 1))
    assert subset["class_names"] == ["7", "2"]
    assert subset["X_train"] is not digits["X_train"] and len(digits["y_train"]) == 1257, "the input is unchanged"


def test_class_subset_rejects_bad_classes(digits):
    with pytest.raises(ValueError, match="distinct"):
        class_subset(digits, [1, 1])
    with pytest.raises(ValueError, match="integer labels"):
        class_subset(digits, [])
    with pytest.raises(ValueError, match="no example of the classes"):
        class_subset(digits, [42])
    with pytest.raises(ValueError, match="must contain 'X_val'"):
        class_subset({"X_train": digits["X_train"], "y_train": digits["y_train"]}, [0])


def test_few_shot_draws_per_class_examples_of_every_class_reproducibly(digits):
    small = few_shot(digits, per_class=3, seed=0)
    assert np.array_equal(np.bincount(small["y_train"]), [3] * 10)
    again = few_shot(digits, per_class=3, seed=0)
    np.testing.assert_array_equal(small["X_train"], again["X_train"])
    other = few_shot(digits, per_class=3, seed=1)
    assert not np.array_equal(small["X_train"], other["X_train"]), "another seed draws other examples"
    assert small["X_val"] is digits["X_val"], "validation and test splits are carried over"
    rows = {digits["X_train"][i].tobytes(): digits["y_train"][i] for i in range(len(digits["y_train"]))}
    assert all(rows[x.tobytes()] == label for x, label in zip(small["X_train"], small["y_train"])), (
        "every kept image keeps its own label"
    )


def test_few_shot_rejects_more_examples_than_a_class_has(digits):
    with pytest.raises(ValueError, match="per_class must be at most"):
        few_shot(digits, per_class=1000, seed=0)
    with pytest.raises(ValueError, match="per_class"):
        few_shot(digits, per_class=0, seed=0)


def test_copy_params_copies_the_named_parameters_only():
    source = FullyConnectedNet([20, 10], num_classes=5, seed=0)
    target = FullyConnectedNet([20, 10], num_classes=3, seed=1)
    before = {name: p.copy() for name, p in target.params.items()}
    copy_params(source, target, ["W1", "b1"])
    np.testing.assert_array_equal(target.params["W1"], source.params["W1"])
    assert target.params["W1"] is not source.params["W1"], "a copy, not a shared array"
    for name in ("W2", "b2", "W3", "b3"):
        np.testing.assert_array_equal(target.params[name], before[name])


def test_copy_params_rejects_missing_names_and_shape_mismatches():
    source = FullyConnectedNet([20], num_classes=5, seed=0)
    target = FullyConnectedNet([30], num_classes=5, seed=0)
    with pytest.raises(ValueError, match=r"shape \(64, 20\) in the source model but \(64, 30\)"):
        copy_params(source, target, ["W1"])
    with pytest.raises(ValueError, match="source model has no parameter 'W7'"):
        copy_params(source, target, ["W7"])
    with pytest.raises(ValueError, match="names must be a list"):
        copy_params(source, target, "W1")
