"""The late-submission penalty nbgrader's AssignLatePenalties applies (the course's late policy).

nbgrader's own LateSubmissionPlugin knows only "no penalty" and "zero"; this one takes
`penalty_per_day` of the notebook's score for each day or part of a day past the due date
(extensions included), never more than the whole score.
"""

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

DAY = 24 * 3600


def late_penalty(score, seconds_late, penalty_per_day):
    """Points lost by a notebook scoring `score` handed in `seconds_late` seconds after the due date."""
    if seconds_late <= 0:
        return 0.0
    return min(score, score * penalty_per_day * math.ceil(seconds_late / DAY))


class PerDayLatePenalty(LateSubmissionPlugin):
    """A fraction of the score per day (or part of a day) late."""

    penalty_per_day = Float(help="Fraction of the score lost per day or part of a day late.").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return late_penalty(score, total_seconds_late, self.penalty_per_day)
