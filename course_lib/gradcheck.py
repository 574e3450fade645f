"""Gradient checking: compare analytic gradients against numerical ones.

The numerical gradient is the centered difference (f(x + h) - f(x - h)) / 2h,
taken one coordinate at a time by perturbing the input array *in place*, so any
function that reads that array (a closure, a model's parameter dict) sees the
change. Every perturbed coordinate is restored bit for bit afterwards.

`check_gradients` turns the comparison into the lecture's verdict:

    relative error > 1e-2            wrong: the gradient is probably incorrect
    1e-4 < relative error <= 1e-2    uncomfortable
    1e-7 <= relative error <= 1e-4   fine only if the objective has kinks
    relative error < 1e-7            good

and reports whether a kink (a ReLU or max "winner" changing) was crossed
between x - h and x + h, the usual reason a correct gradient checks badly.
Use float64: in float32 the rounding error of f swamps a step of h = 1e-5.
"""

from dataclasses import dataclass

import numpy as np

from course_lib.checks import check_array, check_count, check_dout

#: Upper bounds of the lecture's verdicts, from best to worst; above the last: "wrong".
VERDICTS = ((1e-7, "good"), (1e-4, "fine if kinks"), (1e-2, "uncomfortable"))

#: A row is acceptable (`GradientCheckReport.ok`) below this relative error.
ACCEPTABLE = 1e-4


def _check_perturbable(name, x):
    """Raise ValueError unless `x` is a floating numpy array we can perturb in place."""
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        kind = type(x).__name__ if not isinstance(x, np.ndarray) else f"array of dtype {x.dtype}"
        raise ValueError(f"{name} must be a floating-point numpy array (it is perturbed in place), got {kind}")
    return x


def _probe(f, arg, x, ix, h):
    """Evaluate f(arg) with x[ix] moved up and down by h; restore x[ix] exactly.

    Returns (f_plus, f_minus, step_up, step_down): the steps are the ones the
    array's dtype actually represented, so the differences stay honest in float32.
    """
    old = x[ix].copy()
    x[ix] = old + h
    step_up = float(x[ix]) - float(old)
    f_plus = f(arg)
    x[ix] = old - h
    step_down = float(old) - float(x[ix])
    f_minus = f(arg)
    x[ix] = old
    if step_up + step_down == 0:
        raise ValueError(
            f"h={h!r} is below the resolution of x's {x.dtype} at x{list(ix)}={float(old)!r}: "
            "x + h == x, so no difference can be taken; use a larger h"
        )
    return f_plus, f_minus, step_up, step_down


def numerical_gradient(f, x, h=1e-5):
    """Centered-difference gradient of a scalar function at x.

    Inputs:
    - f: callable taking x and returning a scalar.
    - x: floating numpy array of any shape; perturbed in place and restored.
    - h: step size.

    Returns an array of x's shape and dtype with df/dx.
    """
    _check_perturbable("x", x)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        f_plus, f_minus, up, down = _probe(f, x, x, ix, h)
        grad[ix] = (float(f_plus) - float(f_minus)) / (up + down)
    return grad


def numerical_gradient_array(f, x, dout, h=1e-5):
    """Centered-difference vector-Jacobian product of an array-valued function.

    Inputs:
    - f: callable taking x and returning an array of dout's shape.
    - x: floating numpy array of any shape; perturbed in place and restored.
    - dout: upstream gradient, same shape as f(x).
    - h: step size.

    Returns an array of x's shape and dtype holding sum(dout * df/dx).
    """
    _check_perturbable("x", x)
    dout = check_dout(dout, np.shape(f(x))).astype(np.float64)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        f_plus, f_minus, up, down = _probe(f, x, x, ix, h)
        change = np.asarray(f_plus, dtype=np.float64) - np.asarray(f_minus, dtype=np.float64)
        grad[ix] = np.sum(change * dout) / (up + down)
    return grad


def rel_error(a, b):
    """Largest elementwise relative error max |a - b| / max(1e-8, |a| + |b|).

    Inputs: a and b, arrays (or scalars) of the same shape.
    Returns a Python float; 0.0 when a and b are both empty.
    """
    a = np.asarray(a, dtype=np.float64)
    b = check_array("b", np.asarray(b, dtype=np.float64), shape=a.shape)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def _coordinates(shape, num_checks, rng):
    """All coordinates of `shape` (num_checks=None) or num_checks distinct random ones."""
    size = int(np.prod(shape))
    if num_checks is None:
        flat = np.arange(size)
    else:
        flat = rng.choice(size, size=min(check_count("num_checks", num_checks), size), replace=False)
    return [np.unravel_index(i, shape) for i in flat]


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=None, verbose=False):
    """Compare an analytic gradient with the numerical one at random coordinates.

    Inputs:
    - f: callable taking x and returning a scalar.
    - x: floating numpy array of any shape; perturbed in place and restored.
    - analytic_grad: array of x's shape, the gradient to check.
    - num_checks: how many distinct coordinates to check (at most x.size).
    - h: step size.
    - seed: seed of the coordinate choice (None: fresh randomness).
    - verbose: print one line per coordinate.

    Returns a float64 array of shape (min(num_checks, x.size),): the relative
    error at each checked coordinate.
    """
    _check_perturbable("x", x)
    analytic_grad = check_array("analytic_grad", analytic_grad, shape=x.shape)
    errors = []
    for ix in _coordinates(x.shape, num_checks, np.random.default_rng(seed)):
        f_plus, f_minus, up, down = _probe(f, x, x, ix, h)
        numeric = (float(f_plus) - float(f_minus)) / (up + down)
        errors.append(rel_error(numeric, analytic_grad[ix]))
        if verbose:
            analytic = float(analytic_grad[ix])
            where = tuple(int(i) for i in ix)  # (3, 1), not (np.int64(3), np.int64(1))
            print(f"{where}: numerical {numeric:.6e} analytic {analytic:.6e} relative error {errors[-1]:.2e}")
    return np.array(errors, dtype=np.float64)


def verdict(error):
    """The lecture's reading of a relative error: good, fine if kinks, uncomfortable or wrong (also for NaN)."""
    for bound, label in VERDICTS:
        if error < bound:
            return label
    return "wrong"


def _same_winners(a, b):
    """True when two winner states (arrays, or tuples/lists/dicts of them) are equal."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_winners(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same_winners(p, q) for p, q in zip(a, b))
    return np.array_equal(a, b)


def _slope_jump(f0, f_plus, f_minus, up, down, kink_tol, typical_slope):
    """Heuristic kink test from the two one-sided differences around x.

    For a smooth f, (f(x+h) - f(x))/h and (f(x) - f(x-h))/h differ by about
    h * f''(x); a kink inside [x - h, x + h] makes them differ by the change of
    slope itself, which does not shrink with h. A kink is reported when the
    difference exceeds kink_tol times the larger of the slopes' magnitudes here
    and the parameter's typical slope (so a smooth minimum, where both slopes
    are near 0, is not taken for a kink), and also exceeds the rounding noise
    of f (so float32 noise is not taken for one either).
    """
    right = (float(f_plus) - f0) / up
    left = (f0 - float(f_minus)) / down
    eps = np.finfo(np.result_type(np.asarray(f_plus).dtype, np.float32)).eps
    noise = 100 * eps * max(abs(f0), np.finfo(np.float64).tiny) / min(up, down)
    scale = max(abs(right) + abs(left), typical_slope)
    return abs(right - left) > max(kink_tol * scale, noise)


@dataclass(frozen=True)
class GradientCheckRow:
    """One parameter's result: the worst relative error over its checked
    coordinates, its verdict, and how many of them crossed a kink."""

    name: str
    rel_error: float
    verdict: str
    checked: int
    kinks: int

    @property
    def kink_crossed(self):
        """True when at least one checked coordinate crossed a kink."""
        return self.kinks > 0


@dataclass(frozen=True)
class GradientCheckReport:
    """The result of `check_gradients`: one row per parameter.

    `ok` is True when every relative error is below 1e-4, the lecture's limit
    for objectives with kinks; for smooth objectives ask for `worst < 1e-7`.
    Index a report by parameter name to get its row.
    """

    rows: tuple
    h: float

    @property
    def worst(self):
        """The largest relative error over all parameters."""
        return float(np.max([row.rel_error for row in self.rows], initial=0.0))

    @property
    def ok(self):
        """True when no parameter's relative error reaches 1e-4."""
        return bool(self.worst < ACCEPTABLE)

    def __getitem__(self, name):
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)

    def __str__(self):
        width = max([len("parameter")] + [len(row.name) for row in self.rows])
        lines = [f"{'parameter':<{width}}  rel. error  kinks crossed  verdict"]
        for row in self.rows:
            kinks = f"{row.kinks}/{row.checked}"
            lines.append(f"{row.name:<{width}}  {row.rel_error:10.2e}  {kinks:>13}  {row.verdict}")
        lines.append(
            "scale: < 1e-7 good; 1e-7..1e-4 fine if kinks were crossed; "
            f"1e-4..1e-2 uncomfortable; > 1e-2 wrong (h = {self.h:g})"
        )
        return "\n".join(lines)


def check_gradients(f, params, analytic_grads, h=1e-5, num_checks=None, seed=0, winners=None, kink_tol=1e-3):
    """Check analytic gradients numerically and report on the lecture's scale.

    Works for one function of one array and for a model with a parameter dict:

        check_gradients(lambda x: np.sum(x ** 3), x, 3 * x ** 2)
        check_gradients(lambda _: model.loss(X, y)[0], model.params, grads)

    Inputs:
    - f: callable taking `params` (the very object passed in, perturbed in
      place) and returning a scalar. It must be deterministic: fix dropout seeds.
    - params: a floating numpy array, or a dict name -> floating numpy array.
    - analytic_grads: an array of the same shape as params, or a dict holding at
      least the same names with arrays of the same shapes.
    - h: step size of the centered difference.
    - num_checks: None to check every coordinate; an int to check that many
      random coordinates per parameter (chosen with `seed`).
    - seed: seed of the coordinate choice.
    - winners: optional callable taking `params` and returning the discrete
      choices f made (ReLU masks, max-pool argmaxes: an array or a tuple, list
      or dict of arrays). When given, a kink is reported exactly when those
      choices differ between x + h and x - h. Without it, a kink is inferred
      when the one-sided slopes (f(x+h)-f(x))/h and (f(x)-f(x-h))/h differ by
      more than kink_tol times the slope's size (the larger of this
      coordinate's |slopes| and the parameter's mean |analytic gradient|).
      A smooth f makes them differ by about h * |f''|, so with h = 1e-5 and
      kink_tol = 1e-3 it is flagged only where |f''| exceeds 100 times that
      slope size: rare, but possible; pass `winners` for an exact answer.
    - kink_tol: relative threshold of the slope-jump heuristic.

    Returns a GradientCheckReport (print it for a table; `.ok`, `.worst`,
    `report[name].kink_crossed`).
    """
    single = not isinstance(params, dict)
    named_params = {"x": params} if single else params
    named_grads = {"x": analytic_grads} if single else analytic_grads
    if not single and not isinstance(analytic_grads, dict):
        raise ValueError("analytic_grads must be a dict name -> array when params is a dict")
    missing = [name for name in named_params if name not in named_grads]
    if missing:
        raise ValueError(f"analytic_grads lacks gradients for {', '.join(missing)}")
    rng = np.random.default_rng(seed)
    f0 = float(f(params))
    rows = []
    for name, x in named_params.items():
        label = "params" if single else f"params[{name!r}]"
        _check_perturbable(label, x)
        grad_label = "analytic_grads" if single else f"analytic_grads[{name!r}]"
        grad = check_array(grad_label, named_grads[name], shape=x.shape)
        typical_slope = 2 * float(np.mean(np.abs(grad))) if grad.size else 0.0
        errors, kinks = [], 0
        for ix in _coordinates(x.shape, num_checks, rng):
            if winners is None:
                f_plus, f_minus, up, down = _probe(f, params, x, ix, h)
                kinks += _slope_jump(f0, f_plus, f_minus, up, down, kink_tol, typical_slope)
            else:
                (f_plus, win_plus), (f_minus, win_minus), up, down = _probe(
                    lambda p: (f(p), winners(p)), params, x, ix, h
                )
                kinks += not _same_winners(win_plus, win_minus)
            numeric = (float(f_plus) - float(f_minus)) / (up + down)
            errors.append(rel_error(numeric, grad[ix]))
        worst = float(np.max(errors, initial=0.0))
        rows.append(GradientCheckRow(name, worst, verdict(worst), len(errors), int(kinks)))
    return GradientCheckReport(tuple(rows), h)
