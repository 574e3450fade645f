"""The exporter nbgrader's generate_feedback uses: nbconvert's, with templates compiled once.

nbgrader builds a fresh HTML exporter (and Jinja environment) for every student, and
compiling the feedback templates is then half the CPU time of grading a small
notebook. The compiled templates are the same for every student, so they are kept
for the life of the worker process.
"""

from jinja2 import BytecodeCache
from nbconvert.exporters import HTMLExporter


class _CompiledTemplates(BytecodeCache):
    """Jinja bytecode kept in memory, keyed by template and source checksum."""

    def __init__(self):
        self.codes = {}

    def load_bytecode(self, bucket):
        code = self.codes.get((bucket.key, bucket.checksum))
        if code is not None:
            bucket.code = code

    def dump_bytecode(self, bucket):
        self.codes[(bucket.key, bucket.checksum)] = bucket.code


_COMPILED = _CompiledTemplates()


class FeedbackExporter(HTMLExporter):
    """HTMLExporter whose Jinja environment shares one compiled-template cache."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _COMPILED
        return environment
