"""PyTorch doing the same work as Ember's benchmarks and examples, for side-by-side tables.

Run on the device machine in the same call as Ember's programs:
    python3 bench/torch_reference.py [--quick]

Prints one table per workload with the same settings Ember uses:
  * SimpleNet: Linear(10, 2), batch 100, MSELoss, Adam lr 0.01, 1000 steps (median of 5 runs):
    CPU on one thread; CUDA eager; CUDA with Adam(fused=True); CUDA with the whole step in a CUDA graph.
  * matmul: N x N product in float64 and float32 (CUDA events, median), host-to-device copy of both
    operands from pageable memory (PyTorch and CuPy).
  * cpu_vs_cuda: Linear(w, w)-ReLU-Linear(w, w) at batch 100 with Adam, per-step time on each device.
"""
import argparse
import statistics
import time

import torch


def simple_net_step_fn(device, fused=False, capturable=False):
    torch.manual_seed(0)
    model = torch.nn.Linear(10, 2).to(device)
    x = torch.randn(100, 10, device=device)
    y = torch.randn(100, 2, device=device)
    extra = {"fused": fused, "capturable": capturable} if device == "cuda" else {}
    opt = torch.optim.Adam(model.parameters(), lr=0.01, **extra)
    crit = torch.nn.MSELoss()

    def step():
        opt.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step, opt, model


def time_steps(step, steps, device):
    for _ in range(20):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps * 1e6


def simple_net(runs, steps):
    rows = []
    torch.set_num_threads(1)
    cpu = [time_steps(simple_net_step_fn("cpu")[0], steps, "cpu") for _ in range(runs)]
    rows.append(("cpu, 1 thread", statistics.median(cpu)))
    if torch.cuda.is_available():
        eager = [time_steps(simple_net_step_fn("cuda")[0], steps, "cuda") for _ in range(runs)]
        rows.append(("cuda eager", statistics.median(eager)))
        fused = [time_steps(simple_net_step_fn("cuda", fused=True)[0], steps, "cuda") for _ in range(runs)]
        rows.append(("cuda Adam(fused=True)", statistics.median(fused)))
        graphed = []
        for _ in range(runs):
            step, opt, model = simple_net_step_fn("cuda", fused=True, capturable=True)
            s = torch.cuda.Stream()
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                for _ in range(3):  # warm-up on a side stream, as the CUDA-graph docs require
                    step()
            torch.cuda.current_stream().wait_stream(s)
            graph = torch.cuda.CUDAGraph()
            opt.zero_grad(set_to_none=True)
            with torch.cuda.graph(graph):
                step()
            graphed.append(time_steps(graph.replay, steps, "cuda"))
        rows.append(("cuda whole step in CUDAGraph", statistics.median(graphed)))
    print("\nSimpleNet, PyTorch %s: us per training step (median of %d runs of %d steps)" % (torch.__version__, runs, steps))
    for name, us in rows:
        print(f"  {name:32s} {us:10.2f}")


def cuda_ms(fn, repeats=10):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(repeats):
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def matmul(n):
    print(f"\nmatmul {n}x{n}, PyTorch {torch.__version__}")
    for dtype in (torch.float64, torch.float32):
        a = torch.rand(n, n, dtype=dtype)
        b = torch.rand(n, n, dtype=dtype)
        t0 = time.perf_counter()
        torch.matmul(a, b)
        cpu_ms = (time.perf_counter() - t0) * 1e3
        line = f"  {str(dtype):14s} cpu ({torch.get_num_threads()} threads) {cpu_ms:9.3f} ms"
        if torch.cuda.is_available():
            copies = []
            for _ in range(5):
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                ag, bg = a.to("cuda"), b.to("cuda")
                torch.cuda.synchronize()
                copies.append((time.perf_counter() - t0) * 1e3)
            torch.matmul(ag, bg)
            gpu_ms = cuda_ms(lambda: torch.matmul(ag, bg))
            flops = 2 * n**3
            line += f" | h2d copy (pageable) {statistics.median(copies):7.3f} ms | cuda {gpu_ms:7.3f} ms ({flops / gpu_ms / 1e9:6.1f} TFLOP/s)"
            try:
                import cupy
                import numpy as np
                an, bn = a.numpy(), b.numpy()
                cc = []
                for _ in range(5):
                    cupy.cuda.Device().synchronize()
                    t0 = time.perf_counter()
                    ca, cb = cupy.asarray(an), cupy.asarray(bn)
                    cupy.cuda.Device().synchronize()
                    cc.append((time.perf_counter() - t0) * 1e3)
                line += f" | cupy h2d {statistics.median(cc):7.3f} ms"
            except ImportError:
                pass
        print(line)


def cpu_vs_cuda(max_width):
    print(f"\ncpu_vs_cuda, PyTorch {torch.__version__} (CPU with {torch.get_num_threads()} threads): us per step")
    print(f"  {'model':16s} {'cpu':>12s} {'cuda':>12s}")
    cases = [("SimpleNet 10x2", 10, 0, 2)]
    w = 64
    while w <= max_width:
        cases.append((f"MLP {w}", w, w, w))
        w *= 4
    for name, i, h, o in cases:
        res = []
        for device in ("cpu", "cuda"):
            if device == "cuda" and not torch.cuda.is_available():
                res.append(float("nan"))
                continue
            torch.manual_seed(0)
            layers = [torch.nn.Linear(i, o)] if h == 0 else [torch.nn.Linear(i, h), torch.nn.ReLU(), torch.nn.Linear(h, o)]
            model = torch.nn.Sequential(*layers).to(device)
            x = torch.randn(100, i, device=device)
            y = torch.randn(100, o, device=device)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            crit = torch.nn.MSELoss()

            def step():
                opt.zero_grad()
                crit(model(x), y).backward()
                opt.step()

            steps = 3
            while True:
                t = time_steps(step, steps, device)
                if t * steps > 0.3e6 or steps > 10000:
                    break
                steps *= 4
            res.append(t)
        print(f"  {name:16s} {res[0]:12.1f} {res[1]:12.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--cpu-threads", type=int, default=1, help="threads for the matmul and cpu_vs_cuda CPU runs (Ember's CPU backend uses one)")
    args = parser.parse_args()
    simple_net(runs=3 if args.quick else 5, steps=1000)
    torch.set_num_threads(args.cpu_threads)
    matmul(2000)
    cpu_vs_cuda(4096)
