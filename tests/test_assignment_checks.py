"""course_lib.assignment_checks, the checks every graded cell runs in the student's kernel, and course_lib.search.

Student code is defined as a notebook defines it: executed in a namespace named __main__,
its source registered in linecache (as IPython does) so the checks can read it.
"""

import linecache
import uuid

import numpy as np
import pytest

from course_lib import losses, search
from course_lib.assignment_checks import (
    holds_array,
    locals_at_return,
    own_code,
    reference_helpers,
    uses_name,
    vectorized,
)


def notebook(source, namespace=None):
    """Run `source` as a notebook cell; returns the notebook's namespace."""
    namespace = {"__name__": "__main__"} if namespace is None else namespace
    filename = f"<cell {uuid.uuid4().hex}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace


OWN = """
import numpy as np

def softmax(scores):
    shifted = scores - scores.max(axis=1, keepdims=True)
    return np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
"""


def test_own_code_accepts_a_function_written_in_the_notebook():
    own_code(notebook(OWN)["softmax"])


@pytest.mark.parametrize(
    ("source", "what"),
    [
        ("from course_lib.losses import softmax", r"it is course_lib\.losses\.softmax, imported from course_lib"),
        ("import course_lib.losses as L\ndef softmax(s):\n    return L.softmax(s)", r"it uses course_lib's L"),
        ("from course_lib.losses import softmax as ref\ndef softmax(s):\n    return ref(s)", r"course_lib's ref"),
        (
            "def softmax(s):\n    from course_lib import losses\n    return losses.softmax(s)",
            r"it imports from course_lib",
        ),
        ("from course_lib import losses\ndef softmax(s, f=losses.softmax):\n    return f(s)", r"it keeps softmax from"),
        (
            "from course_lib import losses\ndef softmax(s):\n    return (lambda v: losses.softmax(v))(s)",
            r"course_lib's losses",
        ),
        ("from numpy import exp as softmax", r"it is a ufunc, not a function defined in this notebook"),
    ],
)
def test_own_code_names_what_was_borrowed(source, what):
    function = notebook(source)["softmax"]
    with pytest.raises(AssertionError, match=r"\w+ must be your own code, written in this notebook: .*" + what):
        own_code(function)


def test_own_code_allows_what_the_assignment_gives():
    namespace = notebook("from course_lib.losses import softmax_loss\ndef net(s, y):\n    return softmax_loss(s, y)")
    own_code(namespace["net"], allowed=("softmax_loss",))
    with pytest.raises(AssertionError, match="course_lib's softmax_loss"):
        own_code(namespace["net"])


@pytest.mark.parametrize(
    ("body", "found"),
    [
        ("    return np.array([r / r.sum() for r in s])", r"a list comprehension \(line 2\)"),
        ("    out = []\n    for r in s:\n        out.append(r)\n    return out", r"a for loop \(line 3\)"),
        ("    i = 0\n    while i < 3:\n        i += 1\n    return s", r"a while loop \(line 3\)"),
        ("    return np.apply_along_axis(np.sum, 1, s)", r"a loop in disguise \(apply_along_axis\) \(line 2\)"),
        ("    return list(map(sum, s))", r"a loop in disguise \(map\)"),
    ],
)
def test_vectorized_names_each_loop_and_its_line(body, found):
    function = notebook(f"import numpy as np\ndef f(s):\n{body}")["f"]
    with pytest.raises(AssertionError, match=r"f must be vectorized, but it has " + found):
        vectorized(function)


def test_vectorized_accepts_whole_array_code():
    vectorized(notebook(OWN)["softmax"])


def test_reference_helpers_swap_the_names_only_while_the_block_runs():
    namespace = notebook(
        "def softmax(s):\n    return s * 0\n"
        "def loss(s):\n    return helper(s)\n"
        "def helper(s):\n    return softmax(s).sum()\n"
    )
    scores = np.array([[1.0, 2.0]])
    assert namespace["loss"](scores) == 0
    with reference_helpers(namespace["loss"], softmax=losses.softmax):
        # the student's own helper now calls the reference: replacement is by name, transitively
        assert np.isclose(namespace["loss"](scores), 1.0)
    assert namespace["loss"](scores) == 0
    with pytest.raises(ZeroDivisionError), reference_helpers(namespace["loss"], undefined_before=len):
        assert namespace["undefined_before"] is len
        raise ZeroDivisionError
    assert "undefined_before" not in namespace, "a name that was not there is removed again, even after an error"


def test_locals_at_return_sees_the_intermediate_arrays():
    function = notebook("import numpy as np\ndef f(x):\n    doubled = 2 * x\n    return doubled + 1")["f"]
    result, steps = locals_at_return(function, np.arange(3.0))
    assert np.array_equal(result, [1.0, 3.0, 5.0])
    assert holds_array(steps.values(), [[0.0, 2.0, 4.0]]), "shapes are compared after squeezing"
    assert not holds_array(steps.values(), [0.0, 2.0, 5.0])


def test_uses_name_looks_inside_nested_functions():
    function = notebook("def f(x):\n    return (lambda v: g(v))(x)\ndef g(v):\n    return v")["f"]
    assert uses_name(function, "g") and not uses_name(function, "h")


def test_sample_log_uniform_draws_exponents_uniformly_within_range():
    settings = search.sample_log_uniform(np.random.default_rng(0), 4000, {"lr": (-3, 0), "reg": (-6, -1)})
    exponents = np.log10([s["lr"] for s in settings])
    assert len(settings) == 4000 and exponents.min() >= -3 and exponents.max() < 0
    assert abs(exponents.mean() + 1.5) < 0.05 and abs(np.mean(exponents > -1) - 1 / 3) < 0.03
    again = search.sample_log_uniform(np.random.default_rng(0), 4000, {"lr": (-3, 0), "reg": (-6, -1)})
    assert again == settings, "the same generator state gives the same settings"


@pytest.mark.parametrize(("num_trials", "ranges"), [(0, {"lr": (-3, 0)}), (2.5, {"lr": (-3, 0)}), (3, {"lr": (0, -3)})])
def test_sample_log_uniform_rejects_bad_input(num_trials, ranges):
    with pytest.raises(ValueError, match=r"num_trials|log_ranges"):
        search.sample_log_uniform(np.random.default_rng(0), num_trials, ranges)
