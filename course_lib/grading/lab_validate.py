"""The JupyterLab Validate button, answered by `course_lib.grading.validation`: one line per test.

nbgrader's Lab extension sends POST /assignments/validate with the notebook's path and
renders the JSON answer itself: for {"failed": [...]} it prints "The following cell
failed:", the whole source of each failing test and then its error below it; for an
answer without failures it says "Success! Your notebook passes all the tests.", also for
a lesson that has no tests at all. This server extension answers the same two routes
(/assignments/validate and /nbgrader_version) in place of nbgrader's validate_assignment
extension:

* all visible tests pass: the answer has no failures, so the dialog says "Success!" and the
  Assignments tab turns the button green;
* anything else (a failed test, a notebook without tests, a notebook that cannot run): one
  "failed" entry whose error (which nbgrader's dialog inserts as HTML) is the list of
  tests, one line each, PASS or FAIL with the message; a style rule hides the dialog's
  fixed "The following cell failed:" line and the empty source box.

Enable it, and disable nbgrader's own validate extension, in the Jupyter server config
(SERVER_EXTENSIONS below is that setting):

    c.ServerApp.jpserver_extensions = {"nbgrader.server_extensions.validate_assignment": False,
                                       "course_lib.grading.lab_validate": True}
"""

import asyncio
import html
import json
from pathlib import Path

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from nbgrader.server_extensions.validate_assignment.handlers import NbGraderVersionHandler
from tornado import web

from course_lib.grading.validation import validate

SERVER_EXTENSIONS = {
    "nbgrader.server_extensions.validate_assignment": False,
    "course_lib.grading.lab_validate": True,
}

# nbgrader's dialog: div#validation-message > [div > p (fixed text)], [div > pre (source)], [div > pre (error)]
STYLE = """<style>
#validation-message > div:not(:last-child) { display: none; }
#validation-message pre { white-space: pre-wrap; margin: 0; }
#validation-message .course-tests { font-family: var(--jp-code-font-family, monospace); line-height: 1.5; }
#validation-message .course-pass { color: var(--jp-success-color1, #1a7f37); }
#validation-message .course-fail { color: var(--jp-error-color1, #cf222e); }
#validation-message .course-total { font-weight: bold; margin-top: 0.5em; }
</style>"""


def lab_answer(validation):
    """The `value` nbgrader's dialog renders for a Validation."""
    if validation.tests and all(t.passed for t in validation.tests) and not validation.changed:
        return {}
    lines = []
    for test in validation.tests:
        kind = "course-pass" if test.passed else "course-fail"
        lines.append(f'<div class="{kind}">{html.escape(test.line())}</div>')
    total = validation.text().split("\n")[len(validation.tests) :]
    lines.extend(f'<div class="course-total">{html.escape(line)}</div>' for line in total)
    return {"failed": [{"source": "", "error": STYLE + '<div class="course-tests">' + "".join(lines) + "</div>"}]}


def problem_answer(message):
    """The `value` for a notebook that could not be validated, in the same one-line form."""
    body = f'<div class="course-tests"><div class="course-fail">{html.escape(message)}</div></div>'
    return {"failed": [{"source": "", "error": STYLE + body}]}


class ValidateHandler(JupyterHandler):
    """POST /assignments/validate: validate the notebook at `path` (relative to the server's root)."""

    @web.authenticated
    async def post(self):
        path = self.get_argument("path", None)
        if path is None:
            path = (self.get_json_body() or {}).get("path")
        if not path:
            raise web.HTTPError(400, "the request names no notebook (argument 'path')")
        root = Path(self.settings["server_root_dir"]).resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root):
            raise web.HTTPError(403, "the notebook lies outside the server's root folder")
        try:
            # run_in_executor, not asyncio.to_thread: to_thread copies this context, in which
            # jupyter_core's blocking helpers find the server's (running) event loop
            validation = await asyncio.get_running_loop().run_in_executor(None, validate, str(target))
        except (OSError, ValueError, RuntimeError) as error:
            self.log.warning("validating %s failed: %s", target, error)
            value = problem_answer(f"The notebook's tests could not run: {error}")
        else:
            value = lab_answer(validation)
        self.finish(json.dumps({"success": True, "value": value}))


def _jupyter_server_extension_points():
    return [{"module": "course_lib.grading.lab_validate"}]


def _load_jupyter_server_extension(serverapp):
    web_app = serverapp.web_app
    base_url = web_app.settings["base_url"]
    web_app.settings["server_root_dir"] = serverapp.root_dir
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base_url, "assignments/validate"), ValidateHandler),
            (url_path_join(base_url, "nbgrader_version"), NbGraderVersionHandler),
        ],
    )
