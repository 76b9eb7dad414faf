"""PyTorch's side of bench/conv_bench.cpp: the example CNN's two convolutions on the CPU, float32,
forward and forward + backward, median and minimum of R runs in ms (and the least CPU time), on 1 thread and on every core.

    python3 bench/torch_conv_reference.py [--runs R]
"""
import argparse
import os
import time

import torch

F = torch.nn.functional


def time_ms(fn, runs):
    # Wall time (median, min) and the least process CPU time of a run (all threads): on a shared
    # machine less noisy than the wall clock, and for one thread what the work costs.
    for _ in range(3):
        fn()
    ms, cpu = [], []
    for _ in range(runs):
        start, cpu_start = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - cpu_start) * 1e3)
        ms.append((time.perf_counter() - start) * 1e3)
    ms.sort()
    return ms[len(ms) // 2], ms[0], min(cpu)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    torch.manual_seed(0)
    x1 = torch.randn(128, 1, 28, 28)
    w1 = torch.randn(32, 1, 3, 3, requires_grad=True)
    b1 = torch.randn(32, requires_grad=True)
    x2 = torch.randn(128, 32, 14, 14, requires_grad=True)
    w2 = torch.randn(64, 32, 3, 3, requires_grad=True)
    b2 = torch.randn(64, requires_grad=True)
    g1, g2 = torch.randn(128, 32, 28, 28), torch.randn(128, 64, 14, 14)

    def no_grad(fn):
        def run():
            with torch.no_grad():
                fn()
        return run

    cases = [
        ("conv1 fwd", no_grad(lambda: F.conv2d(x1, w1, b1, padding=1))),
        ("conv1 fwd+bwd", lambda: F.conv2d(x1, w1, b1, padding=1).backward(g1)),
        ("conv2 fwd", no_grad(lambda: F.conv2d(x2, w2, b2, padding=1))),
        ("conv2 fwd+bwd", lambda: F.conv2d(x2, w2, b2, padding=1).backward(g2)),
    ]
    for threads in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        for name, fn in cases:
            median, low, cpu = time_ms(fn, args.runs)
            plural = " " if threads == 1 else "s"
            print(f"{threads} thread{plural}  {name:<14} median {median:7.2f} ms  min {low:7.2f} ms  cpu min {cpu:7.2f} ms")


if __name__ == "__main__":
    main()
