"""Transfer learning on the course's datasets: split the classes, keep a few examples, reuse layers.

    source = class_subset(data, [0, 1, 2, 3, 4])   # the pretraining task
    target = class_subset(data, [5, 6, 7, 8, 9])   # the new task, relabelled 0..4
    small = few_shot(target, per_class=5, seed=0)  # 25 training examples
    copy_params(pretrained, model, ["W1", "b1"])   # reuse the first layer ...
    Solver(model, small, frozen=["W1", "b1"])      # ... and keep it fixed while training

`data` is a dict as course_lib.data.load_dataset or lesson_data returns it.
"""

import numpy as np

from course_lib.checks import check_count

SPLITS = ("train", "val", "test")


def class_subset(data, classes):
    """Keep only the examples of `classes` in every split, relabelled in the order given.

    Inputs:
    - data: dict with X_train (N, ...), y_train (N,), X_val, y_val, X_test and
      y_test; other keys are carried over ("class_names" reduced to `classes`).
    - classes: sequence of K distinct integer labels; classes[j] becomes label j.

    Returns a new dict of the same keys: each split keeps its examples whose
    label is in `classes` (in their original order), with int64 labels in
    [0, K); the arrays are copies.
    """
    classes = np.asarray(classes)
    if classes.ndim != 1 or classes.size == 0 or not np.issubdtype(classes.dtype, np.integer):
        raise ValueError(f"classes must be a non-empty sequence of integer labels, got {classes.tolist()!r}")
    if np.unique(classes).size != classes.size:
        raise ValueError(f"classes must be distinct, got {classes.tolist()}")
    relabel = {int(label): new for new, label in enumerate(classes)}
    subset = dict(data)
    for split in SPLITS:
        X, y = _split(data, split)
        keep = np.isin(y, classes)
        if not keep.any():
            raise ValueError(f"data['y_{split}'] holds no example of the classes {classes.tolist()}")
        subset[f"X_{split}"] = X[keep].copy()
        subset[f"y_{split}"] = np.array([relabel[int(label)] for label in y[keep]], dtype=np.int64)
    if "class_names" in data:
        subset["class_names"] = [data["class_names"][int(label)] for label in classes]
    return subset


def few_shot(data, per_class, seed=None):
    """Keep `per_class` training examples of every class: a seeded draw, in the original order.

    Inputs:
    - data: dict with X_train (N, ...) and y_train (N,) (and any other keys,
      carried over unchanged, the validation and test splits included).
    - per_class: how many training examples to keep of each class present in y_train.
    - seed: seeds the draw (None: a fresh one).

    Returns a new dict whose X_train and y_train hold per_class examples of
    each class (copies). Raises ValueError when a class has fewer examples.
    """
    per_class = check_count("per_class", per_class)
    X, y = _split(data, "train")
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        if members.size < per_class:
            raise ValueError(f"per_class must be at most {members.size}, the training examples of class {label}")
        chosen.append(rng.choice(members, size=per_class, replace=False))
    keep = np.sort(np.concatenate(chosen))
    return {**data, "X_train": X[keep].copy(), "y_train": y[keep].copy()}


def copy_params(source, target, names):
    """Copy the parameters `names` of a trained model into another one (the transferred layers).

    Inputs:
    - source, target: models with a `params` dict (FullyConnectedNet,
      ThreeLayerConvNet, ...).
    - names: parameter names, such as ["W1", "b1"]; each must exist in both
      models with the same shape.

    Returns None; target.params[name] becomes a copy of source.params[name].
    """
    if isinstance(names, str):
        raise ValueError(f"names must be a list of parameter names, such as [{names!r}], got the string {names!r}")
    for name in names:
        for which, model in (("source", source), ("target", target)):
            if name not in model.params:
                raise ValueError(f"{which} model has no parameter {name!r}; it has {sorted(model.params)}")
        if source.params[name].shape != target.params[name].shape:
            raise ValueError(
                f"parameter {name!r} has shape {source.params[name].shape} in the source model "
                f"but {target.params[name].shape} in the target model"
            )
    for name in names:
        target.params[name] = source.params[name].astype(target.params[name].dtype, copy=True)


def _split(data, split):
    """X and y of one split, after checking that data has them with matching lengths."""
    for key in (f"X_{split}", f"y_{split}"):
        if key not in data:
            raise ValueError(f"data must contain {key!r} (a dict as returned by load_dataset)")
    X, y = np.asarray(data[f"X_{split}"]), np.asarray(data[f"y_{split}"])
    if y.ndim != 1 or X.shape[:1] != y.shape:
        raise ValueError(f"data['y_{split}'] must have shape ({len(X)},), one label per image, got {y.shape}")
    return X, y
