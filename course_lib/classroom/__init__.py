"""The class loop: how work moves between the instructor's course and the students.

One module per step, each around nbgrader's own machinery, all reading one
`course_lib.grading.Settings`:

* `edition`: the student edition (`course student-edition`);
* `exchange`: the exchange folder's checks and nbgrader's API on the course;
* `release`: regenerate the release notebooks and put them in the exchange (`course release`);
* `collect`: from the exchange or from LMS zips into submitted/ (`course collect`);
* `lms`: reading and checking the submission zips of `course submit`;
* `handback`: feedback back through the exchange (`course return`);
* `grades`: the course's grade sheet for an LMS (`course grades`);
* `lab`: JupyterLab on the repository, with only the nbgrader tabs that work (`make lab`).

Grading itself (sandboxed autograding of a folder of submissions) stays in `course_lib.grading`.
"""
