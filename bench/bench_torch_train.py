"""Benchmark course_lib.torch_train against the ConvNet issue's two targets.

Run by hand (not in CI):

    .venv/bin/python bench/bench_torch_train.py                      # CPU: digits target, small throughput run
    .venv/bin/python bench/bench_torch_train.py --device cuda --compile   # GPU: CIFAR-shaped throughput

1. Digits to 97% validation accuracy in under 60 s on the CPU: the digits
   preset, timed from loading the data to the final evaluation (wall clock),
   once with --threads torch threads and once with one thread, alternating
   --rounds times, so a burst of load on a shared machine hits both.
2. Throughput on synthetic CIFAR-shaped data (target on one H100 in bf16:
   100,000 images/s): the CIFAR-10 preset network, --epochs epochs over
   --train-size random images. The first epoch pays for cuDNN's algorithm
   search and torch.compile, so the steady rate is taken over the later
   epochs; the first epoch's rate is printed as a ratio to it.
"""

import argparse
import time

import torch

from course_lib.torch_train import TrainConfig, pick_device, train


def digits_run(device, threads):
    """Train the digits preset with `threads` torch threads; return (accuracy, wall seconds, train seconds)."""
    torch.set_num_threads(threads)
    start = time.perf_counter()
    result = train(TrainConfig(dataset="digits", device=device, progress=False))
    return result.accuracy, time.perf_counter() - start, result.seconds


def bench_digits(device, threads, rounds):
    print(f"\n1. digits preset on {pick_device(device)}: target >= 97% validation accuracy in < 60 s")
    runs = {threads: [], 1: []}
    for _ in range(rounds):
        for count in runs:
            runs[count].append(digits_run(device, count))
    for count, results in runs.items():
        for accuracy, wall, seconds in results:
            verdict = "meets" if accuracy >= 0.97 and wall < 60 else "MISSES"
            print(f"  {count} thread(s): {accuracy:.2%} in {wall:5.1f} s wall ({seconds:5.1f} s training) -> {verdict}")
    if threads != 1:
        ratios = [a[1] / b[1] for a, b in zip(runs[threads], runs[1])]
        print(f"  wall time {threads} threads / 1 thread per round: " + ", ".join(f"{r:.2f}" for r in ratios))


def bench_throughput(device, args):
    print(
        f"\n2. synthetic CIFAR-shaped data on {device}: {args.epochs} epochs of {args.train_size} images, "
        f"batch {args.batch_size}, compile={args.compile}"
    )
    torch.set_num_threads(args.threads)
    result = train(
        TrainConfig(
            dataset="cifar10",
            synthetic=True,
            epochs=args.epochs,
            train_size=args.train_size,
            batch_size=args.batch_size,
            device=args.device,
            compile=args.compile,
            progress=False,
        )
    )
    first, later = result.history[0], result.history[1:]
    first_rate = first["images"] / first["seconds"]
    steady = sum(r["images"] for r in later) / sum(r["seconds"] for r in later)
    print(f"  steady (epochs 2..{args.epochs}): {steady:12,.0f} images/s")
    print(f"  first epoch:                {first_rate:12,.0f} images/s ({first_rate / steady:.2f}x steady)")
    print(f"  all epochs:                 {result.images_per_second:12,.0f} images/s")
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        print(f"  on {name}: steady / 100,000 target = {steady / 100_000:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2, as on CI)")
    parser.add_argument("--rounds", type=int, default=2, help="digits runs per thread count")
    parser.add_argument("--epochs", type=int, default=3, help="throughput epochs (at least 2)")
    parser.add_argument("--train-size", type=int, help="throughput images per epoch (default 50000 on GPU, 512 on CPU)")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--compile", action="store_true", help="torch.compile the throughput model")
    parser.add_argument("--skip-digits", action="store_true")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the steady rate excludes the first epoch")
    device = pick_device(args.device)
    if args.train_size is None:
        args.train_size = 50000 if device.type == "cuda" else 512
    if not args.skip_digits:
        bench_digits(args.device, args.threads, args.rounds)
    bench_throughput(device, args)


if __name__ == "__main__":
    main()
