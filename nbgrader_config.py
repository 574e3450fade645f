"""nbgrader configuration of the course, for the plain `nbgrader` commands and the Formgrader.

Everything comes from course_lib.grading.config, built from the course's one Settings
object (course.toml beside this file), so that the plain commands and the `course`
commands follow the same rules: course id and exchange folder, every student kernel of
`nbgrader autograde` inside the grading sandbox, feedback without hidden tests. This
Python's bin/ goes on PATH, where nbgrader finds `alembic` (the Formgrader hangs without it).
"""

import os

from course_lib.grading.config import course_config, put_python_on_path
from course_lib.grading.settings import Settings

put_python_on_path()
c = get_config()
c.merge(course_config(Settings.load(os.path.dirname(os.path.abspath(__file__)))))
