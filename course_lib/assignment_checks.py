"""Checks the graded test cells of the assignments run inside the student's kernel.

One home for what every assignment asks of the student's functions:

* `own_code(*functions)`: each was written in the notebook, not taken from course_lib;
* `vectorized(*functions)`: each works on whole arrays, without Python loops;
* `reference_helpers(function, **references)`: while a test runs `function`, the helpers
  it calls are course_lib's reference implementations, so that a test of one function
  never fails because another function the student wrote is wrong;
* `locals_at_return(function, *args)` and `uses_name(function, name)`: what a function
  computed on its way and what it calls, to check how it computes (the step-by-step
  graph of a backward pass), not only what.

Each check raises AssertionError with a message that says what the student's code does.
"""

import ast
import contextlib
import inspect
import sys
import textwrap
import types

import numpy as np

LIBRARY = "course_lib"
# calls that hide a Python loop over elements behind a function
LOOPS_IN_DISGUISE = {"vectorize", "apply_along_axis", "apply_over_axes", "frompyfunc", "map"}
LOOP_NAMES = {
    ast.For: "a for loop",
    ast.AsyncFor: "a for loop",
    ast.While: "a while loop",
    ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression",
}


def _from_library(value):
    """The course_lib module `value` belongs to (a module, function or class), or None."""
    name = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None) or ""
    return name if name == LIBRARY or name.startswith(LIBRARY + ".") else None


def _code_objects(code):
    """`code` and every code object nested in it (inner functions, lambdas, comprehensions)."""
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _code_objects(constant)


def _source(function):
    """The function's source, dedented, or None when Python cannot find it."""
    try:
        return textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return None


def _borrowings(function, allowed):
    """Why `function` is not the student's own code: a list of phrases (empty when it is)."""
    name = getattr(function, "__name__", repr(function))
    if not isinstance(function, types.FunctionType):
        origin = _from_library(function)
        where = f"it is {origin}.{name}" if origin else f"it is a {type(function).__name__}"
        return [f"{where}, not a function defined in this notebook"]
    if function.__module__ != "__main__":
        origin = _from_library(function)
        if origin:
            return [f"it is {origin}.{name}, imported from course_lib"]
        return [f"it comes from the module {function.__module__}, not from this notebook"]
    found = []
    namespace = function.__globals__
    used = {n for code in _code_objects(function.__code__) for n in code.co_names}
    for used_name in sorted(used - set(allowed)):
        if used_name in namespace and (origin := _from_library(namespace[used_name])):
            found.append(f"it uses course_lib's {used_name} ({origin})")
    captured = list(function.__defaults__ or ()) + list((function.__kwdefaults__ or {}).values())
    captured += [cell.cell_contents for cell in function.__closure__ or () if cell.cell_contents is not None]
    for value in captured:
        if origin := _from_library(value):
            found.append(f"it keeps {getattr(value, '__name__', 'an object')} from {origin}")
    source = _source(function)
    if source is not None and LIBRARY in source:
        found.append("it imports from course_lib")
    return found


def own_code(*functions, allowed=()):
    """Assert that every function was written in this notebook and uses nothing from course_lib.

    functions: the student's functions.
    allowed: names of course_lib functions the assignment itself hands to the student
        (a given loss or layer), which the functions may call.
    Raises AssertionError naming each function and what it borrowed.
    """
    problems = []
    for function in functions:
        found = _borrowings(function, allowed)
        if found:
            name = getattr(function, "__name__", repr(function))
            problems.append(f"{name} must be your own code, written in this notebook: " + "; ".join(found))
    if problems:
        raise AssertionError(". ".join(problems))


def _loops(function):
    """(what, line) for every Python loop in `function`, line counted from its `def`."""
    source = _source(function)
    if source is None:
        raise AssertionError(f"the source of {function.__name__} cannot be found: define it in a notebook cell")
    found = []
    for node in ast.walk(ast.parse(source)):
        if type(node) in LOOP_NAMES:
            found.append((LOOP_NAMES[type(node)], node.lineno))
        elif isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if called in LOOPS_IN_DISGUISE:
                found.append((f"a loop in disguise ({called})", node.lineno))
    return sorted(found, key=lambda item: item[1])


def vectorized(*functions):
    """Assert that no function contains a Python loop (for, while, comprehension, np.vectorize, map).

    Raises AssertionError naming each loop and its line, counted from the function's `def`.
    """
    problems = []
    for function in functions:
        found = _loops(function)
        if found:
            where = ", ".join(f"{what} (line {line})" for what, line in found)
            problems.append(f"{function.__name__} must be vectorized, but it has {where}")
    if problems:
        raise AssertionError("; ".join(problems) + ": use numpy operations on whole arrays instead")


@contextlib.contextmanager
def reference_helpers(function, **references):
    """While the block runs, the names in `references` mean course_lib's functions for `function`.

    function: the student's function under test; the names are replaced in its global
        namespace (the notebook's), so the helpers it calls, directly or through other
        functions of the notebook, are the reference ones.
    references: name=reference function, e.g. softmax_loss=course_lib.losses.softmax_loss.
    The notebook's own definitions are put back when the block ends, even on an error.
    """
    namespace = function.__globals__
    missing = object()
    saved = {name: namespace.get(name, missing) for name in references}
    namespace.update(references)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def uses_name(function, name):
    """Whether `function` (or a function or lambda inside it) refers to the global or attribute `name`."""
    return any(name in code.co_names for code in _code_objects(function.__code__))


def locals_at_return(function, *args, **kwargs):
    """Call `function(*args, **kwargs)`; return (its result, its local variables when it returned).

    Only the call of `function` itself is traced; what it calls runs at full speed.
    """
    code = function.__code__
    captured = {}

    def trace(frame, event, arg):
        if frame.f_code is not code:
            return None

        def local_trace(frame, event, arg):
            if event == "return":
                captured.update(frame.f_locals)
            return local_trace

        return local_trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        result = function(*args, **kwargs)
    finally:
        sys.settrace(previous)
    return result, captured


def holds_array(values, expected, rtol=1e-6, atol=1e-10):
    """Whether one of `values` is an array equal to `expected` (shapes compared after squeezing)."""
    want = np.squeeze(np.asarray(expected, dtype=float))
    return any(
        isinstance(value, np.ndarray)
        and np.squeeze(value).shape == want.shape
        and np.allclose(np.squeeze(value), want, rtol=rtol, atol=atol)
        for value in values
    )
