"""nbgrader configuration of the course: source = solutions/, release = assignments/.

The settings live in course_lib.grading.config so that the plain `nbgrader`
commands and `course grade` / `course release` follow the same rules.
"""

from course_lib.grading.config import course_config

c = get_config()
c.merge(course_config())
