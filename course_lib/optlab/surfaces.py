"""Two-dimensional loss surfaces for watching optimizers move.

Each surface is a function f(x, y) with its analytic gradient, a plotting window,
a start point that shows something interesting, and a reference point w* (the
global minimum, or the saddle point itself for the saddle) to measure progress by.

- "quadratic": 0.5 * (x^2 + kappa * y^2), an ill-conditioned bowl whose
  condition number kappa is the ratio of its two curvatures.
- "rosenbrock": (1 - x)^2 + 100 (y - x^2)^2, a curved narrow valley.
- "saddle": x^2 - y^2, a saddle point at the origin, unbounded below.
- "beale": Beale's function, flat plateaus and steep walls, minimum at (3, 0.5).
- "rastrigin": 20 + sum(t^2 - 10 cos(2 pi t)), a bowl covered in local minima.
- "two_well": (x^2 - 1)^2 + 0.3 x + y^2, a shallow well on the right and a
  deeper one on the left, separated by a ridge that momentum can cross.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from course_lib.checks import check_choice, check_positive


@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface.

    - name: the surface's key in SURFACE_NAMES.
    - title: a formula for plot titles (plain Unicode text, so that both
      matplotlib and the explorers' browser-drawn figure show it).
    - loss: f(x, y) -> value; x and y are floats or arrays of one shape.
    - grad: (x, y) -> (df/dx, df/dy) with the shapes of x and y.
    - xlim, ylim: the plotting window, (low, high) each.
    - start: the default start point (x0, y0).
    - learning_rate: the explorer's preset learning rate for this surface.
    - reference: the point w* that distances are measured to.
    - num_steps: the explorer's preset number of steps. With learning_rate it
      is chosen so that the default rules show, from `start`, what the surface
      is there to teach (who converges, who crawls, who escapes or gets stuck).
    - reference_is_minimum: True when w* is the global minimum (False for
      the saddle, whose w* is the saddle point: reaching it means stuck).
    - log_levels: whether contour levels are spaced logarithmically (for
      surfaces whose values span many orders of magnitude).
    - hessian_eigenvalues: the curvatures (1, kappa) of the quadratic, where
      the convergence theory applies; None elsewhere.
    """

    name: str
    title: str
    loss: Callable
    grad: Callable
    xlim: tuple
    ylim: tuple
    start: tuple
    learning_rate: float
    reference: tuple
    num_steps: int = 200
    reference_is_minimum: bool = True
    log_levels: bool = False
    hessian_eigenvalues: tuple = None

    def contains(self, x, y, margin=0.0):
        """Return whether (x, y) lies inside the plotting window.

        margin widens the window on every side by that many window sizes.
        """
        width, height = self.xlim[1] - self.xlim[0], self.ylim[1] - self.ylim[0]
        return (
            self.xlim[0] - margin * width <= x <= self.xlim[1] + margin * width
            and self.ylim[0] - margin * height <= y <= self.ylim[1] + margin * height
        )


def _quadratic(kappa):
    return Surface(
        name="quadratic",
        title=f"0.5 (x² + {kappa:.3g} y²)",
        loss=lambda x, y: 0.5 * (x * x + kappa * y * y),
        grad=lambda x, y: (x, kappa * y),
        xlim=(-3.0, 3.0),
        ylim=(-2.0, 2.0),
        start=(-2.5, 1.5),
        learning_rate=0.1,
        num_steps=200,
        reference=(0.0, 0.0),
        log_levels=True,
        hessian_eigenvalues=(1.0, float(kappa)),
    )


def _rosenbrock():
    return Surface(
        name="rosenbrock",
        title="Rosenbrock (1 − x)² + 100 (y − x²)²",
        loss=lambda x, y: (1 - x) ** 2 + 100 * (y - x * x) ** 2,
        grad=lambda x, y: (-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)),
        xlim=(-2.0, 2.0),
        ylim=(-1.0, 3.0),
        start=(-1.5, 2.0),
        # both momentum methods follow the curved valley to within 0.02 of the minimum while SGD
        # crawls along it (a larger step throws Nesterov off the steep wall at this start)
        learning_rate=1e-3,
        num_steps=1000,
        reference=(1.0, 1.0),
        log_levels=True,
    )


def _saddle():
    return Surface(
        name="saddle",
        title="saddle x² − y²",
        loss=lambda x, y: x * x - y * y,
        grad=lambda x, y: (2 * x, -2 * y),
        xlim=(-2.0, 2.0),
        ylim=(-2.0, 2.0),
        start=(-1.8, 0.01),
        learning_rate=0.05,
        num_steps=200,
        reference=(0.0, 0.0),
        reference_is_minimum=False,
    )


def _beale_terms(x, y):
    return 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3


def _beale_grad(x, y):
    a, b, c = _beale_terms(x, y)
    dx = 2 * a * (y - 1) + 2 * b * (y**2 - 1) + 2 * c * (y**3 - 1)
    dy = 2 * a * x + 4 * b * x * y + 6 * c * x * y**2
    return dx, dy


def _beale():
    return Surface(
        name="beale",
        title="Beale's function",
        loss=lambda x, y: sum(term**2 for term in _beale_terms(x, y)),
        grad=_beale_grad,
        xlim=(-4.5, 4.5),
        ylim=(-4.5, 4.5),
        start=(-1.0, 2.0),
        # the momentum methods cross the plateau into the minimum's valley; SGD and Adam stall
        learning_rate=5e-3,
        num_steps=700,
        reference=(3.0, 0.5),
        log_levels=True,
    )


def _rastrigin():
    two_pi = 2 * np.pi
    return Surface(
        name="rastrigin",
        title="Rastrigin 20 + Σ (t² − 10 cos 2πt)",
        loss=lambda x, y: 20 + x * x - 10 * np.cos(two_pi * x) + y * y - 10 * np.cos(two_pi * y),
        grad=lambda x, y: (
            2 * x + 10 * two_pi * np.sin(two_pi * x),
            2 * y + 10 * two_pi * np.sin(two_pi * y),
        ),
        xlim=(-3.0, 3.0),
        ylim=(-3.0, 3.0),
        start=(2.3, 2.6),
        learning_rate=2e-3,
        num_steps=200,
        reference=(0.0, 0.0),
    )


# The deeper well's x solves 4 x (x^2 - 1) + 0.3 = 0 near x = -1.
_TWO_WELL_MIN_X = float(np.real(min(r for r in np.roots([4.0, 0.0, -4.0, 0.3]) if np.isreal(r))))


def _two_well():
    return Surface(
        name="two_well",
        title="two wells (x² − 1)² + 0.3 x + y²",
        loss=lambda x, y: (x * x - 1) ** 2 + 0.3 * x + y * y,
        grad=lambda x, y: (4 * x * (x * x - 1) + 0.3, 2 * y),
        xlim=(-2.0, 2.0),
        ylim=(-1.5, 1.5),
        start=(1.8, 1.2),
        # enough steps for momentum to cross the ridge and settle in the deeper well
        learning_rate=0.02,
        num_steps=400,
        reference=(_TWO_WELL_MIN_X, 0.0),
    )


_BUILDERS = {
    "quadratic": _quadratic,
    "rosenbrock": _rosenbrock,
    "saddle": _saddle,
    "beale": _beale,
    "rastrigin": _rastrigin,
    "two_well": _two_well,
}
SURFACE_NAMES = tuple(_BUILDERS)


def get_surface(name, condition_number=10.0):
    """Return the Surface called `name`.

    Inputs:
    - name: one of SURFACE_NAMES.
    - condition_number: kappa of the "quadratic" surface (positive float);
      ignored by the others.

    Raises ValueError for an unknown name (listing the valid ones) or a
    non-positive condition number.
    """
    check_choice("surface", name, SURFACE_NAMES)
    if name == "quadratic":
        check_positive("condition_number", condition_number)
        return _quadratic(float(condition_number))
    return _BUILDERS[name]()
