"""The instructor's grading pipeline around nbgrader (`course grade`, `course release`).

Its settings (and the class loop's) are one object, `course_lib.grading.settings.Settings`,
free of heavy imports so that the command line can show the defaults without loading nbgrader.
"""

from course_lib.grading.settings import COURSE_ID, Settings

__all__ = ["COURSE_ID", "Settings"]
