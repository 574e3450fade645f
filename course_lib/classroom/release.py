"""`course release`: regenerate the release notebooks and, with --to-exchange, hand them to the class.

The release step is `course_lib.grading.release` (nbgrader's generate_assignment in a
scratch folder); putting them in the exchange is nbgrader's release_assignment, run with
the course id and exchange folder of the settings. An assignment already in the exchange
is replaced (students who fetched it keep their copy).
"""

import os

from course_lib.classroom.exchange import check_exchange, course_api, outcome_error
from course_lib.grading.release import orphans, release


def release_assignments(settings, assignments=None, to_exchange=False):
    """Regenerate `assignments` (default all) into the release folder; put them in the exchange if asked.

    Returns the lines of the run summary. Raises ValueError (an unknown assignment, an
    unusable exchange folder: course_lib.classroom.exchange.ExchangeError) or RuntimeError
    (nbgrader failed) when it cannot run.
    """
    if to_exchange:
        check_exchange(settings.exchange)  # before anything changes
    released = release(settings, assignments)
    lines = [f"regenerated {len(released)} assignment(s) in {settings.release_dir}: {', '.join(released) or 'none'}"]
    for name in orphans(settings):
        where = os.path.join(settings.release_dir, name)
        retired = "(delete it by hand if it is retired)"
        lines.append(f"left {where} as it is: {settings.source_dir} has no {name}/ {retired}")
    if not to_exchange:
        return lines
    api = course_api(settings, **{"ExchangeReleaseAssignment.force": True})
    for assignment in released:
        outcome = api.release_assignment(assignment)
        if not outcome["success"]:
            raise RuntimeError(f"nbgrader could not release {assignment}: {outcome_error(outcome)}")
        due = settings.due_date(assignment)
        where = os.path.join(settings.exchange, settings.course_id, "outbound", assignment)
        lines.append(f"released {assignment} to {where}" + (f" (due {due:%Y-%m-%d %H:%M} UTC)" if due else ""))
    return lines
