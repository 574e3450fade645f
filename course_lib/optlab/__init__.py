"""The optimization lab: 2-D loss surfaces and the paths update rules take on them.

Plain numpy (no widgets, no plotting), so lessons and tests import it cheaply and
the optimizer explorer draws what it computes:

- surfaces: the named loss surfaces (get_surface, SURFACE_NAMES) with gradients,
  minima, plot limits and a starting point each.
- trajectories: run_optimizer (one rule's path on a surface), learning-rate
  schedules per step, and the convergence theory of gradient descent, heavy-ball
  momentum and Nesterov on the quadratic.
"""
