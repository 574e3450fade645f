"""Repository rules that keep diffs clean and the course honest."""

import json
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
