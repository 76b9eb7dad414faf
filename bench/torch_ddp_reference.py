"""PyTorch's side of bench/ddp_mlp_bench: the same MLP, data sizes, loss and optimizer under
torch.nn.parallel.DistributedDataParallel (NCCL, default 25 MiB buckets), one process per GPU.

    torchrun --standalone --nproc_per_node 4 bench/torch_ddp_reference.py [--tf32] [--no-ddp]

Adam is torch's default implementation (foreach), and also fused=True with --fused; Ember's Adam is
one multi-tensor kernel, the closer match to fused. Rank 0 prints one line in ddp_mlp_bench's format.
"""
import argparse
import os
import time

import torch
import torch.distributed as dist

LAYERS = [(1024, 4096), (4096, 4096), (4096, 1024)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--tf32", action="store_true")
    p.add_argument("--fused", action="store_true")
    p.add_argument("--no-ddp", action="store_true")
    a = p.parse_args()

    os.environ.setdefault("NCCL_NVLS_ENABLE", "0")
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    torch.cuda.set_device(local_rank)
    rank, world = 0, 1
    if not a.no_ddp:  # the plain baseline runs as one process, without torchrun
        dist.init_process_group("nccl", device_id=torch.device("cuda", local_rank))
        rank, world = dist.get_rank(), dist.get_world_size()

    def barrier():
        if not a.no_ddp:
            dist.barrier()
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    torch.backends.cudnn.allow_tf32 = a.tf32

    torch.manual_seed(0)
    layers = []
    for i, (fin, fout) in enumerate(LAYERS):
        if i:
            layers.append(torch.nn.ReLU())
        layers.append(torch.nn.Linear(fin, fout))
    model = torch.nn.Sequential(*layers).cuda()
    torch.manual_seed(100 + rank)
    x = torch.randn(a.batch, LAYERS[0][0], device="cuda")
    y = torch.randn(a.batch, LAYERS[-1][1], device="cuda")
    if not a.no_ddp:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=a.fused)
    mse = torch.nn.MSELoss()

    def step():
        opt.zero_grad(set_to_none=True)
        mse(model(x), y).backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.runs):
        torch.cuda.synchronize()
        barrier()
        start = time.perf_counter()
        for _ in range(a.steps):
            step()
        torch.cuda.synchronize()
        barrier()
        times.append((time.perf_counter() - start) * 1000 / a.steps)
    times.sort()
    median = times[len(times) // 2]
    if rank == 0:
        mode = "plain" if a.no_ddp else "ddp"
        adam = "fused" if a.fused else "foreach"
        print(f"torch {mode:5s} ranks={world} {'tf32' if a.tf32 else 'fp32'} batch/rank={a.batch}  "
              f"{median:.3f} ms/step  {a.batch * world * 1000 / median:.0f} samples/s  "
              f"(cuda, Adam {adam}, {a.runs} runs of {a.steps} steps)", flush=True)
    if not a.no_ddp:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
