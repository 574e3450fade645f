"""The grader's own check that a student wrote the functions an assignment asks for.

The test cells call `course_lib.assignment_checks.own_code` inside the student's kernel,
where the student's code runs first and can hide a borrowed function from it (behind a
dict, a class attribute, a star import or an import done at call time). This check does
not run the student's code: it reads the source of the student's cells (every code cell
nbgrader does not restore from the gradebook) and finds each way they reach course_lib's
version of a function the assignment asks them to write:

* ``from course_lib.x import name`` (under any alias) of an asked name;
* ``from course_lib.x import *`` of a module that has an asked name;
* ``import course_lib.x [as m]`` or ``from course_lib import x`` followed by ``m.name``
  or ``getattr(m, ...)`` in the student's cells (also through a module the notebook's own
  setup cell imported);
* an import done at run time (``__import__``, ``importlib``, ``exec``/``eval`` of text,
  ``sys.modules``), which no reading of the source can follow: it counts against the
  asked functions of the cell that does it (all of them when that cell defines none).

`FlagReferenceImports` (course_lib.grading.preprocessors) fails the tests of each flagged
function, after the notebook ran and before nbgrader scores it.
"""

import ast
import importlib
import re
from dataclasses import dataclass

LIBRARY = "course_lib"
# calls that import, or run text as code, at run time: builtins, and functions of importlib
DYNAMIC_BUILTINS = {"__import__", "exec", "eval", "compile", "import_module", "reload"}
DYNAMIC_IMPORTLIB = {"import_module", "reload", "__import__"}
CHECKER = "own_code"


@dataclass(frozen=True)
class Borrowing:
    """One way the student's cells reach course_lib's version of an asked function.

    function: the asked function it concerns; cell: the grade id (or "cell N") of the cell;
    line: the line in that cell; code: that line of the student's source.
    """

    function: str
    cell: str
    line: int
    code: str

    def message(self):
        return (
            f"{self.function} must be your own code: the grader found course_lib's version used in {self.cell}, "
            f"line {self.line}: `{self.code}` (write {self.function} yourself)"
        )


def python_source(cell_source):
    """A cell's source as plain Python (IPython magics and ! commands turned into calls), or None."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(cell_source)
    except (SyntaxError, ValueError):
        return None


def parse(cell_source):
    """The AST of a cell, or None when it is not valid Python (such a cell fails when it runs)."""
    source = python_source(cell_source)
    if source is None:
        return None
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def defined_functions(cell_source):
    """Names of the functions and classes a cell defines at its top level."""
    tree = parse(cell_source)
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return [node.name for node in tree.body if isinstance(node, kinds)] if tree else []


def _is_library(module):
    return module == LIBRARY or (module or "").startswith(LIBRARY + ".")


def library_aliases(cell_sources):
    """Names that the cells bind to a course_lib module (``import course_lib.x as m``, ``from course_lib import x``)."""
    aliases = set()
    for source in cell_sources:
        tree = parse(source)
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if _is_library(alias.name):
                        aliases.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom) and node.module == LIBRARY:
                aliases.update(alias.asname or alias.name for alias in node.names if alias.name != "*")
    return aliases


def public_names(module):
    """The names ``from module import *`` binds (module: a course_lib module); empty when there is no such module."""
    try:
        imported = importlib.import_module(module)
    except ImportError:
        return set()  # the student's cell fails when it runs
    return set(getattr(imported, "__all__", None) or (n for n in vars(imported) if not n.startswith("_")))


def _root_name(node):
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _called_name(node):
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _dynamic(call):
    """Whether a call may reach course_lib at run time: exec, __import__, importlib.import_module... of text
    that is not a plain string without "course_lib" (``__import__("numpy")`` is fine)."""
    if isinstance(call.func, ast.Name):
        dynamic = call.func.id in DYNAMIC_BUILTINS
    else:
        dynamic = (
            isinstance(call.func, ast.Attribute)
            and call.func.attr in DYNAMIC_IMPORTLIB
            and _root_name(call.func) in ("importlib", "builtins")
        )
    arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
    plain = all(isinstance(a, ast.Constant) and LIBRARY not in str(a.value) for a in arguments)
    return dynamic and not plain


def _findings(tree, asked, aliases, own_defs):
    """(function, line) for each use of course_lib's version of an asked function in one cell's AST."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _is_library(node.module):
            for alias in node.names:
                if alias.name == "*":
                    found.extend((name, node.lineno) for name in sorted(asked & public_names(node.module)))
                elif alias.name in asked:
                    found.append((alias.name, node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[-1] in asked and _is_library(alias.name):
                    found.append((alias.name.split(".")[-1], node.lineno))
        elif isinstance(node, ast.Attribute) and node.attr in asked and _root_name(node) in aliases:
            found.append((node.attr, node.lineno))
        elif isinstance(node, ast.Attribute) and node.attr == "modules" and _root_name(node) == "sys":
            found.extend((name, node.lineno) for name in sorted(own_defs or asked))
        elif isinstance(node, ast.Call):
            called = _called_name(node)
            if called == "getattr" and node.args and _root_name(node.args[0]) in aliases:
                found.extend((name, node.lineno) for name in sorted(asked))
            elif _dynamic(node):
                found.extend((name, node.lineno) for name in sorted(own_defs or asked))
    return found


def borrowings(student_cells, asked, given_cells=()):
    """Every Borrowing in the student's cells, in cell and line order.

    student_cells: [(cell label, source)] of the cells the student wrote or could edit.
    asked: names of the functions the assignment asks the student to write.
    given_cells: sources of the assignment's own (locked) cells, whose course_lib imports
        a student's cell may use.
    """
    asked = set(asked)
    aliases = library_aliases([source for _, source in student_cells] + list(given_cells)) - asked
    found = []
    for label, source in student_cells:
        tree = parse(source)
        if tree is None:
            continue
        own_defs = set(defined_functions(source)) & asked
        lines = (python_source(source) or "").split("\n")
        seen = set()
        for function, line in _findings(tree, asked, aliases, own_defs):
            if (function, line) not in seen:
                seen.add((function, line))
                found.append(Borrowing(function, label, line, lines[line - 1].strip()))
    return found


def tested_functions(test_source, asked):
    """The asked functions a test cell tests: those it hands to own_code, else every asked name it mentions."""
    tree = parse(test_source)
    if tree is None:
        return {name for name in asked if re.search(rf"\b{re.escape(name)}\b", test_source)}
    checked = {
        arg.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _called_name(node) == CHECKER
        for arg in node.args
        if isinstance(arg, ast.Name)
    }
    if checked:
        return checked & set(asked)
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} & set(asked)
