"""PyTorch doing the same work as Ember's benchmarks and examples, for side-by-side tables.

Run on the device machine in the same call as Ember's programs:
    python3 bench/torch_reference.py [--quick] [--only simple_net,matmul,cpu_vs_cuda,mlp,overhead]

Prints one table per workload (all by default; --only picks some) with the same settings Ember uses:
  * SimpleNet: Linear(10, 2), batch 100, MSELoss, Adam lr 0.01, 1000 steps (median of 5 runs):
    CPU on one thread; CUDA eager; CUDA with Adam(fused=True); CUDA with the whole step in a CUDA graph.
  * matmul: N x N product in float64 and float32 (CUDA events, median), host-to-device copy of both
    operands from pageable memory (PyTorch and CuPy).
  * cpu_vs_cuda: Linear(w, w)-ReLU-Linear(w, w) at batch 100 with Adam, per-step time on each device.
  * mlp (bench/mlp_bench): Linear(1024, 4096)-ReLU-Linear(4096, 4096)-ReLU-Linear(4096, 1024), batch
    4096, MSELoss, Adam lr 1e-3, float32 on CUDA with TF32 off and on; plain Adam and
    Adam(fused=True); median ms per step, TFLOP/s (6 * batch * sum(in * out) per step), peak memory;
    and the 4096^3 float32 torch.matmul rate with TF32 off and on.
  * overhead (bench/op_overhead_bench): 10,000 additions a + b of two 100-element float32 tensors,
    us per addition (median of 5), CPU on one thread and CUDA.
"""
import argparse
import statistics
import time
import warnings

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
    return dict(rows)


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
    """Returns {dtype name: {"cpu_ms", "h2d_ms", "cuda_ms", "cupy_h2d_ms"}} (CUDA ones where there is a GPU)."""
    print(f"\nmatmul {n}x{n}, PyTorch {torch.__version__}")
    result = {}
    for dtype in (torch.float64, torch.float32):
        a = torch.rand(n, n, dtype=dtype)
        b = torch.rand(n, n, dtype=dtype)
        t0 = time.perf_counter()
        torch.matmul(a, b)
        cpu_ms = (time.perf_counter() - t0) * 1e3
        line = f"  {str(dtype):14s} cpu ({torch.get_num_threads()} threads) {cpu_ms:9.3f} ms"
        numbers = result[str(dtype).removeprefix("torch.")] = {"cpu_ms": cpu_ms}
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
            numbers.update(h2d_ms=statistics.median(copies), cuda_ms=gpu_ms)
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
                numbers["cupy_h2d_ms"] = statistics.median(cc)
            except ImportError:
                pass
        print(line)
    return result


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


MLP_LAYERS = ((1024, 4096), (4096, 4096), (4096, 1024))


def set_tf32(on):
    """torch.backends.cuda.matmul.allow_tf32, the switch Ember's set_allow_tf32 mirrors. PyTorch 2.9+
    warns that it will be replaced by fp32_precision; only the legacy API is used here, since mixing
    the two is an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        torch.backends.cuda.matmul.allow_tf32 = on


def mlp_run(fused, batch, warmup, runs, steps):
    torch.manual_seed(0)
    layers = []
    for i, (fan_in, fan_out) in enumerate(MLP_LAYERS):
        if i > 0:
            layers.append(torch.nn.ReLU())
        layers.append(torch.nn.Linear(fan_in, fan_out))
    model = torch.nn.Sequential(*layers).to("cuda")
    x = torch.randn(batch, MLP_LAYERS[0][0], device="cuda")
    y = torch.randn(batch, MLP_LAYERS[-1][1], device="cuda")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True) if fused else torch.optim.Adam(model.parameters(), lr=1e-3)
    crit = torch.nn.MSELoss()
    loss = None

    def step():
        nonlocal loss
        opt.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - start) / steps * 1e3)
    peak_mib = torch.cuda.max_memory_allocated() / 2**20
    return statistics.median(times), min(times), peak_mib, loss.item()


def mlp(runs, steps, warmup=5, batch=4096):
    """Returns {("tf32" or "float32", "fused" or "default"): {"ms", "tflops", "peak_mib"}} and
    {"gemm float32" / "gemm tf32": TFLOP/s}, or {} without a GPU."""
    if not torch.cuda.is_available():
        print("\nmlp: no CUDA device on this machine: skipped")
        return {}
    flops = 6 * batch * sum(i * o for i, o in MLP_LAYERS)
    print(f"\nMLP 1024-4096-4096-1024, batch {batch}, MSELoss, Adam lr 1e-3, float32 on cuda, PyTorch {torch.__version__}: "
          f"{flops / 1e9:.1f} GFLOP per step; median of {runs} runs of {steps} steps after {warmup} warm-up steps")
    print(f"  {'optimizer, matmul precision':34s} {'ms/step(med)':>12s} {'ms/step(min)':>12s} {'TFLOP/s':>9s} {'peak MiB':>10s} {'final loss':>12s}")
    mlp_rate = {}
    result = {}
    for tf32 in (False, True):
        set_tf32(tf32)
        for fused in (False, True):
            med, low, peak, loss = mlp_run(fused, batch, warmup, runs, steps)
            torch.cuda.empty_cache()
            name = ("Adam(fused=True)" if fused else "Adam (default)") + (", TF32" if tf32 else ", float32 (IEEE)")
            mlp_rate[(tf32, fused)] = flops / med / 1e9
            result[("tf32" if tf32 else "float32", "fused" if fused else "default")] = {
                "ms": med, "tflops": mlp_rate[(tf32, fused)], "peak_mib": peak}
            print(f"  {name:34s} {med:12.3f} {low:12.3f} {mlp_rate[(tf32, fused)]:9.2f} {peak:10.0f} {loss:12.6f}")
    n = 4096
    print(f"GEMM {n}x{n}x{n} float32 (torch.matmul, CUDA events, median of 10 after a warm-up)")
    print(f"  {'matmul precision':34s} {'ms':>12s} {'TFLOP/s':>9s} {'fused MLP step / GEMM rate':>28s}")
    torch.manual_seed(0)
    a = torch.rand(n, n, device="cuda")
    b = torch.rand(n, n, device="cuda")
    for tf32 in (False, True):
        set_tf32(tf32)
        torch.matmul(a, b)
        ms = cuda_ms(lambda: torch.matmul(a, b))
        rate = 2 * n**3 / ms / 1e9
        name = "TF32" if tf32 else "float32 (IEEE)"
        print(f"  {name:34s} {ms:12.3f} {rate:9.2f} {100 * mlp_rate[(tf32, True)] / rate:27.0f}%")
        result["gemm tf32" if tf32 else "gemm float32"] = rate
    set_tf32(False)  # PyTorch's default, for the sections after this one
    return result


def overhead(runs, adds=10000):
    """Returns {device: median us per addition}."""
    print(f"\nper-op overhead, PyTorch {torch.__version__}: a + b, two 100-element float32 tensors, "
          f"{adds} additions per run, median of {runs} runs (CPU on one thread)")
    print(f"  {'device':8s} {'us/add(med)':>12s} {'us/add(min)':>12s}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    result = {}
    for device in devices:
        torch.manual_seed(0)
        a = torch.randn(100, device=device)
        b = torch.randn(100, device=device)
        times = []
        for _ in range(runs):
            for _ in range(100):  # warm-up
                c = a + b
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(adds):
                c = a + b
            if device == "cuda":
                torch.cuda.synchronize()
            times.append((time.perf_counter() - start) / adds * 1e6)
        del c
        print(f"  {device:8s} {statistics.median(times):12.3f} {min(times):12.3f}")
        result[device] = statistics.median(times)
    torch.set_num_threads(threads)
    return result


SECTIONS = ("simple_net", "matmul", "cpu_vs_cuda", "mlp", "overhead")

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--cpu-threads", type=int, default=1, help="threads for the matmul and cpu_vs_cuda CPU runs (Ember's CPU backend uses one)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma-separated sections to run, of: " + ",".join(SECTIONS) + " (default: all)")
    args = parser.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        parser.error(f"--only: unknown section(s) {','.join(unknown)}; choose from {','.join(SECTIONS)}")
    if "simple_net" in only:
        simple_net(runs=3 if args.quick else 5, steps=1000)
    torch.set_num_threads(args.cpu_threads)
    if "matmul" in only:
        matmul(2000)
    if "cpu_vs_cuda" in only:
        cpu_vs_cuda(4096)
    if "mlp" in only:
        mlp(runs=3 if args.quick else 5, steps=20)
    if "overhead" in only:
        overhead(runs=5)
