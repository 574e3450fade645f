"""Which device to train on, and how to time work on it.

CUDA kernels run asynchronously: a clock read right after a launch measures
only the launch, so every timing calls synchronize() before reading the clock.
"""

import torch

from course_lib.checks import check_choice

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def pick_device(preference="auto"):
    """Return the torch.device to train on.

    Inputs:
    - preference: "auto" (CUDA when available, else CPU), "cpu" or "cuda".

    Returns a torch.device.
    Raises ValueError listing the valid names for any other preference, and
    RuntimeError when "cuda" is asked for on a machine without CUDA.
    """
    check_choice("device", preference, DEVICE_CHOICES)
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was requested but CUDA is not available here; use 'auto' or 'cpu'")
    return torch.device(preference)


def synchronize(device):
    """Wait until every queued kernel on `device` has finished (a no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
