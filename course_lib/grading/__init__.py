"""The instructor's grading pipeline around nbgrader (`course grade`, `course release`).

The course's grading defaults live here, free of heavy imports, so that the
command line can show them without loading nbgrader.
"""

COURSE_ID = "tnn101"  # the nbgrader course id of the class loop (exchange, hub groups, manifests)
SOURCE_DIRECTORY = "solutions"
RELEASE_DIRECTORY = "assignments"
CELL_TIMEOUT = 30  # seconds one cell may run
NOTEBOOK_TIMEOUT = 600  # seconds a whole notebook may run
MAX_OUTPUT_CHARS = 20_000  # characters kept from the outputs of one cell
MEMORY_GIB = 2.0  # memory (address space) cap of each student kernel
