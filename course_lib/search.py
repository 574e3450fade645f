"""Random hyperparameter search in log space, the babysitting recipe's last step.

A learning rate or a regularization strength acts multiplicatively, so a search draws
its exponent uniformly: 10 ** u with u uniform in a range of exponents, never the value
itself (which would put 90% of the draws in the top decade).
"""

import numpy as np


def sample_log_uniform(rng, num_trials, log_ranges):
    """`num_trials` settings drawn log-uniformly.

    Inputs:
    - rng: a numpy Generator (the draws come from it, in order).
    - num_trials: how many settings (a whole number >= 1).
    - log_ranges: {name: (low, high)}, the range of each hyperparameter's base-10 exponent.

    Returns a list of `num_trials` dicts {name: 10 ** u}, u uniform in [low, high).
    """
    if not isinstance(num_trials, (int, np.integer)) or num_trials < 1:
        raise ValueError(f"num_trials must be a whole number of at least 1, got {num_trials!r}")
    for name, (low, high) in log_ranges.items():
        if not low < high:
            raise ValueError(f"log_ranges[{name!r}] must be (low, high) with low < high, got {(low, high)}")
    exponents = {name: rng.uniform(low, high, size=num_trials) for name, (low, high) in log_ranges.items()}
    return [{name: float(10 ** values[i]) for name, values in exponents.items()} for i in range(num_trials)]
