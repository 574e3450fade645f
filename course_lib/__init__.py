"""course_lib: numpy reference implementations for the Training Neural Networks course.

Import the modules you need, for example::

    from course_lib import layers, losses, gradcheck
    from course_lib.solver import Solver
"""

__version__ = "0.1.0"
