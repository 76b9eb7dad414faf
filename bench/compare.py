"""Ember beside PyTorch in one run, as one table.

Runs Ember's benchmark programs (bench/simple_net_bench, bench/op_overhead_bench, bench/mlp_bench,
examples/matmul) and then the same work in PyTorch (bench/torch_reference.py) in this process, on
this machine, and prints one Markdown table: each side's time, the ratio (PyTorch's time over
Ember's: above 1 means Ember is faster), the MLP's TFLOP/s as a share of the GEMM rate each side
measured in this run, and peak GPU memory on each side. Each program's own output is printed first.

    python3 bench/compare.py [--bin DIR] [--quick]

DIR holds Ember's programs as bench/<name> and examples/<name>: a build tree (default build/) or
the .devbin/ that scripts/make_devbin.sh makes for the GPU machine.
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference as ref  # noqa: E402  (imports torch)


def run(bin_dir, program, *args):
    path = os.path.join(bin_dir, program)
    out = subprocess.run([path, *args], check=True, capture_output=True, text=True).stdout
    print(f"\n$ {program} {' '.join(args)}\n{out}", end="")
    return out


def number_after(pattern, text, group=1):
    """The float that `pattern` captures in `text`; a clear error when the program's output changed."""
    match = re.search(pattern, text, re.MULTILINE)
    if not match:
        raise SystemExit(f"compare.py: could not find /{pattern}/ in a program's output (did its format change?)")
    return float(match.group(group))


def ember_side(bin_dir, quick):
    runs = ["--runs", "3"] if quick else []
    e = {}
    out = run(bin_dir, "bench/simple_net_bench", *runs)
    e["simple_net cpu"] = number_after(r"^cpu\s+([\d.]+)", out)
    e["simple_net cuda"] = number_after(r"^cuda:0\s+([\d.]+)", out)
    e["simple_net graph"] = number_after(r"^cuda:0 graph\s+([\d.]+)", out)
    out = run(bin_dir, "bench/op_overhead_bench", *runs)
    e["add cpu"] = number_after(r"^cpu\s+([\d.]+)", out)
    e["add cuda"] = number_after(r"^cuda:0\s+([\d.]+)", out)
    out = run(bin_dir, "bench/mlp_bench", *runs)
    for name, key in (("float32 \\(IEEE\\)", "float32"), ("TF32", "tf32")):
        row = re.search(rf"^\s+{name}\s+([\d.]+)\s+[\d.]+\s+([\d.]+)\s+(\d+)\s", out, re.MULTILINE)
        if not row:
            raise SystemExit(f"compare.py: no MLP row for {key} in mlp_bench's output")
        e[f"mlp {key}"] = {"ms": float(row.group(1)), "tflops": float(row.group(2)), "peak_mib": float(row.group(3))}
        e[f"gemm {key}"] = number_after(rf"^\s+{name}\s+[\d.]+\s+([\d.]+)\s+\d+%", out)
    for dtype in ("float64", "float32"):
        out = run(bin_dir, "examples/matmul", "--dtype", dtype)
        e[f"matmul {dtype}"] = {
            "cuda_ms": number_after(r"cuda \(cuBLAS\):\s+([\d.]+) ms", out),
            "h2d_ms": number_after(r"host->device copy of both operands:\s+([\d.]+) ms", out),
        }
    return e


def torch_side(quick):
    runs = 3 if quick else 5
    t = {"simple_net": ref.simple_net(runs=runs, steps=1000)}
    ref.torch.set_num_threads(1)
    t["matmul"] = ref.matmul(2000)
    t["mlp"] = ref.mlp(runs=runs, steps=20)
    t["overhead"] = ref.overhead(runs=runs)
    return t


def table(e, t):
    rows = []

    def row(what, ember, torch_text, ratio=""):
        rows.append(f"| {what} | {ember} | {torch_text} | {ratio} |")

    def x(torch_value, ember_value):
        return f"{torch_value / ember_value:.2f}x"

    sn = t["simple_net"]
    row("SimpleNet, CUDA eager (µs/step)", f"{e['simple_net cuda']:.2f}",
        f"{sn['cuda eager']:.2f} eager; {sn['cuda Adam(fused=True)']:.2f} `Adam(fused=True)`",
        f"{x(sn['cuda eager'], e['simple_net cuda'])}; {x(sn['cuda Adam(fused=True)'], e['simple_net cuda'])}")
    row("SimpleNet, whole step captured (µs/step)", f"{e['simple_net graph']:.2f}",
        f"{sn['cuda whole step in CUDAGraph']:.2f} `torch.cuda.CUDAGraph`",
        x(sn["cuda whole step in CUDAGraph"], e["simple_net graph"]))
    row("SimpleNet, CPU, one thread (µs/step)", f"{e['simple_net cpu']:.2f}", f"{sn['cpu, 1 thread']:.2f}",
        x(sn["cpu, 1 thread"], e["simple_net cpu"]))
    ov = t["overhead"]
    row("`a + b`, 100 float32, CUDA (µs/op)", f"{e['add cuda']:.3f}", f"{ov['cuda']:.3f}", x(ov["cuda"], e["add cuda"]))
    row("`a + b`, 100 float32, CPU (µs/op)", f"{e['add cpu']:.3f}", f"{ov['cpu']:.3f}", x(ov["cpu"], e["add cpu"]))
    m = t["mlp"]
    for key, label in (("float32", "float32"), ("tf32", "TF32")):
        em, fused, default = e[f"mlp {key}"], m[(key, "fused")], m[(key, "default")]
        row(f"MLP, {label} (ms/step)", f"{em['ms']:.3f}",
            f"{fused['ms']:.3f} `Adam(fused=True)`; {default['ms']:.3f} default",
            f"{x(fused['ms'], em['ms'])}; {x(default['ms'], em['ms'])}")
        row(f"MLP, {label}: TFLOP/s, share of its own GEMM rate in this run",
            f"{em['tflops']:.1f}; {100 * em['tflops'] / e[f'gemm {key}']:.0f}% of {e[f'gemm {key}']:.1f}",
            f"{fused['tflops']:.1f}; {100 * fused['tflops'] / m[f'gemm {key}']:.0f}% of {m[f'gemm {key}']:.1f}")
        row(f"MLP, {label}: peak GPU memory (MiB)", f"{em['peak_mib']:.0f}", f"{fused['peak_mib']:.0f}")
    mm = t["matmul"]
    for dtype in ("float64", "float32"):
        em, tm = e[f"matmul {dtype}"], mm[dtype]
        row(f"2000x2000 product, {dtype}, CUDA (ms)", f"{em['cuda_ms']:.3f}", f"{tm['cuda_ms']:.3f}",
            x(tm["cuda_ms"], em["cuda_ms"]))
        cupy = f"; CuPy {tm['cupy_h2d_ms']:.3f}" if "cupy_h2d_ms" in tm else ""
        cupy_ratio = f"; {x(tm['cupy_h2d_ms'], em['h2d_ms'])}" if "cupy_h2d_ms" in tm else ""
        row(f"2000x2000 {dtype}: both operands host to device, pageable (ms)", f"{em['h2d_ms']:.3f}",
            f"PyTorch {tm['h2d_ms']:.3f}{cupy}", f"{x(tm['h2d_ms'], em['h2d_ms'])}{cupy_ratio}")
    print(f"\nEmber beside PyTorch {ref.torch.__version__} on {ref.torch.cuda.get_device_name(0)}, same run "
          "(ratio: PyTorch's time / Ember's)\n")
    print("| workload | Ember | PyTorch | ratio |")
    print("|---|---:|---:|---:|")
    print("\n".join(rows))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default="build", help="directory with bench/ and examples/ programs (default: build)")
    parser.add_argument("--quick", action="store_true", help="3 runs per measurement instead of 5")
    args = parser.parse_args()
    if not ref.torch.cuda.is_available():
        raise SystemExit("compare.py: needs a CUDA GPU (the table compares both devices)")
    ember = ember_side(args.bin, args.quick)
    pytorch = torch_side(args.quick)
    table(ember, pytorch)


if __name__ == "__main__":
    main()
