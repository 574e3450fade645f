"""Benchmark course_lib.conv: naive vs fast numpy, and fast numpy vs torch on the CPU.

Run by hand (not in CI):

    .venv/bin/python bench/bench_conv.py --threads 2

Shapes (float32): conv x (64, 3, 32, 32), w (32, 3, 3, 3), stride 1, pad 1;
max pool 2x2 stride 2 on (64, 32, 32, 32) and, overlapping, 3x3 stride 2 on
(64, 32, 33, 33). The naive loops take seconds per image, so naive vs fast is
timed on the first --naive-batch images of the same input, both at that size.

numpy's BLAS and torch get the same thread count (threadpoolctl and
torch.set_num_threads). Timings alternate between methods in rounds, each round
timing a block of runs after one untimed warm-up, so that a burst of load on a
shared machine hits every method; medians over all timed runs are printed,
with the ratios of medians and the range of the per-round ratios.
On a machine busier than its cores, torch's OpenMP threads lose most at
barriers (one descheduled thread stalls the rest), so ratios with more than
one thread are only meaningful on an idle machine; --threads 1 is the robust
comparison. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, when set, change which BLAS kernel runs;
--without-openblas-env runs the benchmark a second time in a child process
without them.
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as tf
from threadpoolctl import threadpool_info, threadpool_limits

from course_lib import conv

OPENBLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def time_rounds(methods, rounds, repeats, settle=0.3):
    """Time each zero-argument callable in `methods` (a dict) in alternating blocks.

    Each block starts after `settle` seconds of sleep: idle OpenBLAS and
    OpenMP worker threads keep spinning for a while after a call, and would
    otherwise take a core from the next method's threads.
    Returns {name: array of shape (rounds, repeats)} of seconds.
    """
    times = {name: np.empty((rounds, repeats)) for name in methods}
    for r in range(rounds):
        for name, run in methods.items():
            time.sleep(settle)
            run()
            for k in range(repeats):
                start = time.perf_counter()
                run()
                times[name][r, k] = time.perf_counter() - start
    return times


def report(title, times, baseline):
    """Print median milliseconds of every method and its ratio to `baseline`; return the medians."""
    print(f"\n{title}")
    base = np.median(times[baseline])
    base_rounds = np.median(times[baseline], axis=1)
    print(f"  {'method':<30} {'median':>10}   ratio to {baseline}")
    for name, t in times.items():
        per_round = np.median(t, axis=1) / base_rounds
        spread = ""
        if t.shape[0] > 1 and name != baseline:
            spread = f"  (rounds {per_round.min():.2f}..{per_round.max():.2f})"
        print(f"  {name:<30} {1e3 * np.median(t):7.2f} ms   {np.median(t) / base:7.2f}x{spread}")
    return {name: float(np.median(t)) for name, t in times.items()}


def torch_step(function, inputs, dout):
    """Forward and backward of `function(*inputs)` with the upstream gradient dout."""
    leaves = [torch.from_numpy(a).requires_grad_() for a in inputs]
    upstream = torch.from_numpy(dout)

    def step():
        for leaf in leaves:
            leaf.grad = None
        function(*leaves).backward(upstream)

    return step


def numpy_step(forward, backward, inputs, param, dout):
    """Forward and backward of a course_lib.conv layer pair."""

    def step():
        _, cache = forward(*inputs, param)
        backward(dout, cache)

    return step


def bench_layer(label, numpy_pair, naive_pair, torch_function, inputs, param, dout, args):
    """Time one layer: fast numpy against torch, then naive against fast numpy.

    Returns {"fast/torch": ratio of fwd+bwd medians, "naive/fast fwd": ..., "naive/fast bwd": ...}.
    """
    forward, backward = numpy_pair
    _, cache = forward(*inputs, param)
    medians = report(
        f"{label}, float32, {args.threads} thread(s)",
        time_rounds(
            {
                "torch fwd+bwd": torch_step(torch_function, inputs, dout),
                "numpy fast fwd+bwd": numpy_step(forward, backward, inputs, param, dout),
                "numpy fast fwd": lambda: forward(*inputs, param),
                "numpy fast bwd": lambda: backward(dout, cache),
            },
            args.rounds,
            args.repeats,
        ),
        "torch fwd+bwd",
    )
    ratios = {"fast/torch": medians["numpy fast fwd+bwd"] / medians["torch fwd+bwd"]}

    n = args.naive_batch
    small = (inputs[0][:n], *inputs[1:])
    small_dout = dout[:n]
    fast_cache = forward(*small, param)[1]
    naive_forward, naive_backward = naive_pair
    naive_cache = naive_forward(*small, param)[1]
    medians = report(
        f"{label}: naive vs fast on the first {n} image(s)",
        time_rounds(
            {
                "numpy fast fwd": lambda: forward(*small, param),
                "numpy naive fwd": lambda: naive_forward(*small, param),
                "numpy fast bwd": lambda: backward(small_dout, fast_cache),
                "numpy naive bwd": lambda: naive_backward(small_dout, naive_cache),
            },
            1,
            args.naive_repeats,
            settle=0,
        ),
        "numpy fast fwd",
    )
    ratios["naive/fast fwd"] = medians["numpy naive fwd"] / medians["numpy fast fwd"]
    ratios["naive/fast bwd"] = medians["numpy naive bwd"] / medians["numpy fast bwd"]
    return ratios


def bench_conv(rng, args):
    x = rng.standard_normal((64, 3, 32, 32), dtype=np.float32)
    w = 0.1 * rng.standard_normal((32, 3, 3, 3), dtype=np.float32)
    b = rng.standard_normal(32, dtype=np.float32)
    dout = rng.standard_normal((64, 32, 32, 32), dtype=np.float32)
    return bench_layer(
        "conv x (64, 3, 32, 32), w (32, 3, 3, 3), stride 1, pad 1",
        (conv.conv_forward_fast, conv.conv_backward_fast),
        (conv.conv_forward_naive, conv.conv_backward_naive),
        lambda xt, wt, bt: tf.conv2d(xt, wt, bt, stride=1, padding=1),
        (x, w, b),
        {"stride": 1, "pad": 1},
        dout,
        args,
    )


def bench_pool(rng, args, shape, size, stride):
    x = rng.standard_normal(shape, dtype=np.float32)
    pool_param = {"pool_height": size, "pool_width": size, "stride": stride}
    out, _ = conv.max_pool_forward_fast(x, pool_param)
    return bench_layer(
        f"max pool {size}x{size} stride {stride}, x {shape}",
        (conv.max_pool_forward_fast, conv.max_pool_backward_fast),
        (conv.max_pool_forward_naive, conv.max_pool_backward_naive),
        lambda xt: tf.max_pool2d(xt, size, stride=stride),
        (x,),
        pool_param,
        rng.standard_normal(out.shape, dtype=np.float32),
        args,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for numpy's BLAS and for torch")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of timing")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per method per round")
    parser.add_argument("--naive-batch", type=int, default=2, help="images used for naive vs fast")
    parser.add_argument("--naive-repeats", type=int, default=3, help="timed runs of the naive loops")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--without-openblas-env",
        action="store_true",
        help=f"afterwards, run again in a child process with {' and '.join(OPENBLAS_ENV)} removed",
    )
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas" and "numpy" in lib["filepath"]]
    print(f"threads: {args.threads} for numpy's BLAS (threadpoolctl) and torch (set_num_threads)")
    for lib in blas:
        print(f"numpy BLAS: {lib['internal_api']} {lib['version']}, kernel {lib.get('architecture')}")
    for name in OPENBLAS_ENV:
        print(f"{name}={os.environ.get(name, '(not set)')}")
    print(f"numpy {np.__version__}, torch {torch.__version__}, {os.cpu_count()} CPUs visible")

    rng = np.random.default_rng(args.seed)
    with threadpool_limits(limits=args.threads, user_api="blas"):
        summary = {
            "conv 3x3 s1 p1": bench_conv(rng, args),
            "max pool 2x2 s2": bench_pool(rng, args, (64, 32, 32, 32), 2, 2),
            "max pool 3x3 s2 (overlapping)": bench_pool(rng, args, (64, 32, 33, 33), 3, 2),
        }
    print(f"\nsummary, {args.threads} thread(s): ratios of medians (fwd+bwd for torch)")
    print(f"  {'layer':<30} {'naive/fast fwd':>15} {'naive/fast bwd':>15} {'fast/torch':>11}")
    for layer, r in summary.items():
        print(f"  {layer:<30} {r['naive/fast fwd']:15.0f} {r['naive/fast bwd']:15.0f} {r['fast/torch']:11.2f}")

    if args.without_openblas_env:
        env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_ENV}
        argv = [a for a in sys.argv[1:] if a != "--without-openblas-env"]
        print(f"\n===== again without {', '.join(OPENBLAS_ENV)} =====", flush=True)
        subprocess.run([sys.executable, __file__, *argv], env=env, check=True)


if __name__ == "__main__":
    main()
