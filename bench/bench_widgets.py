"""Benchmark the explorers' kernel-side work per control change, headless.

Run by hand (not in CI):

    .venv/bin/python bench/bench_widgets.py --repeats 20

For each case a control is moved back and forth between two values and each
change is timed in three parts, the ones a kernel does before the browser can
show the new figure:

- compute: recomputing the explorer's state and updating its artists
  (the explorer's own redraw is switched off for this part);
- draw: rendering the figure with Agg, as ipympl does when the browser asks;
- encode: turning the rendered frame into a PNG (ipympl sends a PNG of the
  pixels that changed; the whole frame is an upper bound).

The issue's budget for compute + draw is 150 ms per change. Medians of wall
time and of this process's CPU time are printed: on a shared machine the wall
time includes waiting for a core, the CPU time does not. The browser adds the
round trips and the image decoding (tests/ui prints that end-to-end latency).
"""

import argparse
import io
import statistics
import time

import matplotlib
import numpy as np

matplotlib.use("Agg")

from PIL import Image

from course_lib.widgets import initialization_explorer, optimizer_explorer


def time_part(function):
    """Return (wall seconds, CPU seconds) of one call of function()."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def encode_frame(figure):
    """PNG-encode the figure's last rendered frame, as ipympl does."""
    pixels = figure.canvas.buffer_rgba()
    with io.BytesIO() as png:
        Image.fromarray(np.asarray(pixels)).save(png, format="png")


def bench(name, explorer, control, values, repeats):
    """Time `repeats` changes of explorer.controls[control] cycling through values."""
    redraw = explorer.view.redraw
    explorer.view.redraw = lambda: None
    parts = {"compute": [], "draw": [], "encode": []}
    try:
        for i in range(repeats):
            # the next value that differs from the current one: a real change every time
            value = next(v for v in values[i % len(values) :] + values if v != explorer.controls[control].value)
            parts["compute"].append(time_part(lambda value=value: setattr(explorer.controls[control], "value", value)))
            parts["draw"].append(time_part(explorer.figure.canvas.draw))
            parts["encode"].append(time_part(lambda: encode_frame(explorer.figure)))
    finally:
        explorer.view.redraw = redraw
    row = [f"{name:44s}"]
    for part, samples in parts.items():
        wall = statistics.median(s[0] for s in samples) * 1e3
        cpu = statistics.median(s[1] for s in samples) * 1e3
        row.append(f"{part} {wall:6.1f} / {cpu:6.1f}")
    total_wall = statistics.median(c[0] + d[0] for c, d in zip(parts["compute"], parts["draw"])) * 1e3
    total_cpu = statistics.median(c[1] + d[1] for c, d in zip(parts["compute"], parts["draw"])) * 1e3
    row.append(f"compute+draw {total_wall:6.1f} / {total_cpu:6.1f}")
    print("  ".join(row))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="changes timed per case (default 20)")
    args = parser.parse_args()
    print("median per change, ms, wall / CPU")
    three = optimizer_explorer(rules=("sgd", "sgd_momentum", "adam"), num_steps=100)
    bench("optimizer, 3 rules, 100 steps: momentum", three, "momentum", [0.5, 0.9], args.repeats)
    six = optimizer_explorer(
        rules=("sgd", "sgd_momentum", "nesterov_momentum", "adagrad", "rmsprop", "adam"), num_steps=300
    )
    bench("optimizer, 6 rules, 300 steps: learning rate", six, "learning_rate", [0.05, 0.1], args.repeats)
    rosenbrock = optimizer_explorer(surface="rosenbrock", rules=("sgd_momentum", "adam"), num_steps=1000)
    bench("optimizer, rosenbrock, 2 rules, 1000 steps: x0", rosenbrock, "start_x", [-1.5, -1.0], args.repeats)
    init = initialization_explorer()
    bench(
        "initialization, 10 x 250, 500 samples: scheme", init, "scheme", ["xavier", "small"], max(args.repeats // 4, 2)
    )


if __name__ == "__main__":
    main()
