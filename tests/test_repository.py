"""Repository rules that keep diffs clean and the course honest."""

import ast
import json
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def tracked_and_new_notebooks():
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.ipynb"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [REPO / name for name in listing if (REPO / name).exists()]


def test_there_are_notebooks_to_check():
    assert tracked_and_new_notebooks(), "no notebooks found: the check below would pass vacuously"


def test_notebooks_are_committed_without_outputs():
    offenders = []
    for path in tracked_and_new_notebooks():
        notebook = json.loads(path.read_text())
        for index, cell in enumerate(notebook["cells"]):
            if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count")):
                offenders.append(f"{path.relative_to(REPO)} cell {index}")
    assert not offenders, "clear outputs before committing: " + ", ".join(offenders)


# --- Notebook text: no control characters, LaTeX that renders -----------------------------------
# A Python string such as "\approx" holds BEL + "pprox": MathJax then shows "pprox". These checks read
# every cell of every notebook (lessons, solutions, assignments) and name the cell and what is wrong.

# Characters below U+0020 other than newline, plus DEL: never meant in a notebook cell.
CONTROL_CHARACTER = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
FENCED_CODE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"(`+).+?\1", re.DOTALL)
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
INLINE_MATH = re.compile(r"\$(.+?)\$", re.DOTALL)
ENVIRONMENT = re.compile(r"\\(begin|end)\{([^}]*)\}")
# In a non-raw Python string these are escapes (\a is BEL, \t a tab, \n a newline ...); before a letter
# inside a string that holds math they are a LaTeX command the string has eaten.
STRING_ESCAPE_BEFORE_LETTER = re.compile(r"(?<!\\)(?:\\\\)*\\[a-zA-Z]")


def control_characters(text):
    """The control characters in `text`, as readable names (tab included: it breaks `\\t...` LaTeX)."""
    return sorted({f"U+{ord(character):04X}" for character in CONTROL_CHARACTER.findall(text)})


def braces_balanced(math):
    """Whether the unescaped { and } of a LaTeX fragment pair up."""
    depth = 0
    for character in re.sub(r"\\[{}\\]", "", math):
        depth += {"{": 1, "}": -1}.get(character, 0)
        if depth < 0:
            return False
    return depth == 0


def latex_problems(markdown):
    """What is wrong with the math of one markdown cell: a list of short descriptions (empty: fine)."""
    text = INLINE_CODE.sub("", FENCED_CODE.sub("", markdown)).replace(r"\$", "")
    problems, spans = [], DISPLAY_MATH.findall(text)
    text = DISPLAY_MATH.sub(" ", text)
    if "$$" in text:
        problems.append("an unpaired $$")
    for paragraph in re.split(r"\n\s*\n", text):
        if paragraph.count("$") % 2:
            problems.append(f"an odd number of $ in the paragraph {paragraph.strip()[:60]!r}")
        spans += INLINE_MATH.findall(paragraph)
    for math in spans:
        if not braces_balanced(math):
            problems.append(f"unbalanced braces in ${math.strip()[:60]}$")
        if len(re.findall(r"\\left\b", math)) != len(re.findall(r"\\right\b", math)):
            problems.append(rf"\left without \right in ${math.strip()[:60]}$")
        opened = [name for kind, name in ENVIRONMENT.findall(math) if kind == "begin"]
        closed = [name for kind, name in ENVIRONMENT.findall(math) if kind == "end"]
        if opened != closed[::-1]:
            problems.append(f"\\begin and \\end do not match in ${math.strip()[:60]}$")
    return problems


def eaten_escapes(code):
    """Non-raw string literals of a code cell that hold $ and a backslash before a letter.

    Returns the offending literals as written. "$\\alpha$" (BEL + "lpha") and "$\\theta$" (a tab)
    are caught; r"$\\alpha$" and "$\\\\alpha$" are fine. IPython's %- and !-lines are left out
    before parsing.
    """
    source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines())
    tree = ast.parse(source)
    fstrings = [node for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)]
    inside_fstrings = {id(child) for node in fstrings for child in ast.walk(node)}
    offenders = []
    for node in ast.walk(tree):
        is_string = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if not (isinstance(node, ast.JoinedStr) or (is_string and id(node) not in inside_fstrings)):
            continue
        literal = ast.get_source_segment(source, node) or ""
        prefix = re.match(r"[a-zA-Z]*", literal).group()
        if "r" in prefix.lower() or "$" not in literal:
            continue
        if STRING_ESCAPE_BEFORE_LETTER.search(literal[len(prefix) :]):
            offenders.append(literal)
    return offenders


def notebook_text_problems(path):
    """Every control character, broken LaTeX and eaten escape in one notebook: a list of messages."""
    problems = []
    for index, cell in enumerate(json.loads(Path(path).read_text())["cells"]):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        where = f"{Path(path).relative_to(REPO) if Path(path).is_relative_to(REPO) else path} cell {index}"
        found = control_characters(source)
        if found:
            problems.append(f"{where}: control characters {', '.join(found)} (a LaTeX command eaten by a string?)")
        if cell["cell_type"] == "markdown":
            problems += [f"{where}: {problem}" for problem in latex_problems(source)]
        elif cell["cell_type"] == "code":
            problems += [f"{where}: {literal[:60]} needs an r prefix" for literal in eaten_escapes(source)]
    return problems


def test_the_text_checks_catch_what_they_are_for(tmp_path):
    broken = {
        "cells": [
            {"cell_type": "markdown", "source": ["shrinks by $\\sqrt{\\mu} \x07pprox 0.95$ per step"]},
            {"cell_type": "markdown", "source": ["a rate $\\frac{1}{2 and $x$"]},
            {"cell_type": "markdown", "source": ["$$\\left( x \\right.$$ and an unpaired $"]},
            {"cell_type": "code", "source": ["ax.set_title('$\\alpha$ and $\\theta$')"]},
            {"cell_type": "code", "source": ['ax.set_title(r"$\\alpha$"); print("$\\\\beta$")']},
        ]
    }
    path = tmp_path / "broken.ipynb"
    path.write_text(json.dumps(broken))
    problems = notebook_text_problems(path)
    assert any("cell 0: control characters U+0007" in p for p in problems), problems
    assert any("cell 1: unbalanced braces" in p for p in problems), problems
    assert any("cell 2: an odd number of $" in p for p in problems), problems
    assert any("cell 3:" in p and "needs an r prefix" in p for p in problems), problems
    assert not any("cell 4" in p for p in problems), "raw strings and escaped backslashes are fine"


def test_notebooks_hold_no_control_characters_or_broken_latex():
    problems = [problem for path in tracked_and_new_notebooks() for problem in notebook_text_problems(path)]
    assert not problems, "notebook text that will not render:\n" + "\n".join(problems)
