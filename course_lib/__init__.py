"""course_lib: numpy reference implementations for the Training Neural Networks course.

Import the modules you need, for example::

    from course_lib import layers, losses, gradcheck
    from course_lib.solver import Solver
"""

__version__ = "0.1.0"

# Every kernel the course starts (JupyterLab's, the grader's, a class hub's) runs numpy and torch on
# one thread: the course's matrices are small, and on a shared machine extra BLAS threads only wait on
# each other (lesson 9's "Run All" took 139 s instead of 20 s with two threads per kernel under load).
ONE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
