"""Input validation shared by every course_lib module.

One home for the error messages, so a student who passes the wrong thing always
reads the same kind of sentence: which argument, what was expected, what came.
"""

import numpy as np


def check_array(name, value, ndim=None, shape=None, dims=None):
    """Return `value` as a numpy array after checking its rank and shape.

    Inputs:
    - name: the argument's name, used in the error message.
    - value: what the caller passed.
    - ndim: required number of dimensions, or None for any.
    - shape: required shape as a tuple; an entry of None matches any size.
    - dims: a human-readable description of the expected shape, such as
      "(N, D)"; defaults to `shape` printed with "*" for free entries.

    Returns the array (no copy when `value` already is one).
    Raises ValueError naming `name`, the expected shape and the shape received.
    """
    array = np.asarray(value)
    if shape is not None:
        ndim = len(shape)
    if dims is None:
        if shape is not None:
            dims = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        elif ndim is not None:
            dims = f"{ndim}-dimensional"
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must have shape {dims}, got shape {array.shape}")
    if shape is not None:
        for expected, actual in zip(shape, array.shape):
            if expected is not None and expected != actual:
                raise ValueError(f"{name} must have shape {dims}, got shape {array.shape}")
    return array


def check_dout(dout, shape):
    """Return the upstream gradient `dout` as an array after checking it has the forward output's `shape`.

    Every backward pass checks its dout here, so a wrong upstream gradient always reads the same.
    """
    shape = tuple(shape)
    return check_array("dout", dout, shape=shape, dims=f"{shape} (the shape of the forward output)")


def check_labels(name, y, num_samples, num_classes=None):
    """Return integer class labels `y` of shape (num_samples,) after checking them.

    Raises ValueError when y has the wrong shape, is not integer-valued, or
    (when num_classes is given) holds labels outside [0, num_classes).
    """
    labels = check_array(name, y, shape=(num_samples,), dims=f"({num_samples},)")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class labels, got dtype {labels.dtype}")
    if num_classes is not None and labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"{name} must hold labels in [0, {num_classes}), got values from {labels.min()} to {labels.max()}"
        )
    return labels


def check_choice(name, value, choices):
    """Return `value` if it is one of `choices`, else raise ValueError listing them."""
    if value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {valid}; got {value!r}")
    return value


def check_positive(name, value, allow_zero=False):
    """Return `value` if it is a positive (or non-negative) finite number."""
    number = float(value)
    if not np.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        expected = "a non-negative number" if allow_zero else "a positive number"
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return value


def check_count(name, value, allow_zero=False, allow_none=False):
    """Return `value` as an int if it is a whole number >= 1 (or >= 0 with allow_zero).

    A float with no fractional part (3.0) is accepted; 2.5, True, "3" and nan are refused,
    so a size is never truncated silently. With allow_none, None (an optional count left
    out) is returned as it is.
    """
    if value is None and allow_none:
        return None
    whole = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        whole = True
    if not whole or value < (0 if allow_zero else 1):
        expected = "a whole number >= 0" if allow_zero else "a whole number >= 1"
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def check_probability(name, value, allow_zero=False):
    """Return `value` if it lies in (0, 1] (or [0, 1] with allow_zero)."""
    number = float(value)
    low_ok = number >= 0 if allow_zero else number > 0
    if not (low_ok and number <= 1):
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        raise ValueError(f"{name} must be a probability in {interval}, got {value!r}")
    return value
