"""Benchmark the explorers' kernel-side work per control change, headless.

Run by hand (not in CI):

    .venv/bin/python bench/bench_widgets.py --repeats 20

For each case a control is moved back and forth between two values and each change is
timed as the kernel does it before the browser can draw: recomputing the explorer's
state and building the message for the browser (course_lib.widgets.plot turns the lines
into binary buffers). The size of that message is printed too. Medians of wall time and
of this process's CPU time are printed: on a shared machine the wall time includes
waiting for a core, the CPU time does not. The browser's side (the round trip and the
drawing) is measured end to end by bench/bench_widgets_browser.py.
"""

import argparse
import json
import statistics
import time

from ipywidgets.widgets.widget import _remove_buffers

from course_lib.widgets import initialization_explorer, optimizer_explorer


def time_change(function):
    """Return (wall seconds, CPU seconds) of one call of function()."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def message_bytes(plot):
    """Bytes of what a redraw sends when only the lines change: JSON plus binary buffers."""
    state, _, buffers = _remove_buffers(plot.get_state(["_panels", "_series", "_texts", "title", "step"]))
    return len(json.dumps(state)) + sum(memoryview(b).nbytes for b in buffers)


def bench(name, explorer, control, values, repeats):
    """Time `repeats` changes of explorer.controls[control] cycling through values."""
    samples = []
    for i in range(repeats):
        # the next value that differs from the current one: a real change every time
        value = next(v for v in values[i % len(values) :] + values if v != explorer.controls[control].value)
        samples.append(time_change(lambda value=value: setattr(explorer.controls[control], "value", value)))
    wall = statistics.median(s[0] for s in samples) * 1e3
    cpu = statistics.median(s[1] for s in samples) * 1e3
    print(f"{name:48s} compute+message {wall:6.1f} / {cpu:6.1f} ms   {message_bytes(explorer.plot) / 1e3:6.0f} kB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="changes timed per case (default 20)")
    args = parser.parse_args()
    print("median per change, wall / CPU; size of the message to the browser")
    rules = ("sgd", "sgd_momentum", "nesterov_momentum", "adam")
    lesson = optimizer_explorer(rules=rules, learning_rate=0.03, num_steps=200, condition_number=25)
    bench("optimizer, the lesson's 4 rules, 200 steps: momentum", lesson, "momentum", [0.5, 0.9], args.repeats)
    six = optimizer_explorer(
        rules=("sgd", "sgd_momentum", "nesterov_momentum", "adagrad", "rmsprop", "adam"), num_steps=300
    )
    bench("optimizer, 6 rules, 300 steps: learning rate", six, "learning_rate", [0.05, 0.1], args.repeats)
    bench("optimizer, 6 rules, 300 steps: condition number", six, "condition_number", [10.0, 100.0], args.repeats)
    rosenbrock = optimizer_explorer(surface="rosenbrock", rules=rules)
    bench("optimizer, rosenbrock preset (1000 steps): x0", rosenbrock, "start_x", [-1.5, -1.0], args.repeats)
    init = initialization_explorer()
    bench("initialization, 10 x 250, 200 samples: scheme", init, "scheme", ["xavier", "small"], args.repeats)
    bench("initialization, 10 x 250, 200 samples: depth", init, "num_layers", [10, 14], args.repeats)


if __name__ == "__main__":
    main()
