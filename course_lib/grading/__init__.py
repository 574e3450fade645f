"""The instructor's grading pipeline around nbgrader.

* `pipeline.grade` (``course grade``): submissions folder in, grades.csv and feedback out.
* `release.release` (``course release``): assignments/ regenerated from solutions/.
* `config`: the course's nbgrader settings (also loaded by nbgrader_config.py).
* `preprocessors`: fixes for what nbgrader gets wrong on bad submissions.
* `submissions`, `worker`, `report`: finding, grading and reporting one student.
* `sandbox` and `jail`: every student kernel unprivileged, memory-capped, without
  network and without sight of solutions, gradebooks or other students' work.

Nothing is imported here: `python -m course_lib.grading.jail` must start fast.
"""
