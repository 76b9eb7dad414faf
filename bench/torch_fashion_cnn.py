"""PyTorch doing the work of Ember's bench/fashion_cnn_bench and examples/fashion_mnist, for
side-by-side tables (run in the same call as Ember's programs).

    python3 bench/torch_fashion_cnn.py step  [--device cuda|cpu] [--batch 128] [--threads T] [--tf32 0|1]
                                             [--dtype float32|bfloat16]
    python3 bench/torch_fashion_cnn.py train [--device cuda|cpu] [--epochs 5] [--batch 128] --data DIR

step: the median time per training step (Adam lr 1e-3, cross-entropy, random batch already on the
device), as fashion_cnn_bench. --dtype bfloat16 runs the step under torch.autocast(bfloat16).
train: the example's recipe on the real data (the four IDX files in DIR, gzipped or not): per-epoch
loss, accuracy and images/s, then the test accuracy, as examples/fashion_mnist prints them.
"""
import argparse
import gzip
import os
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class FashionCnn(nn.Module):
    def __init__(self, dropout=0.25):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = torch.flatten(x, 1)
        return self.fc2(self.drop(F.relu(self.fc1(x))))


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def step_bench(args):
    torch.manual_seed(0)
    model = FashionCnn().to(args.device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(args.batch, 1, 28, 28, device=args.device)
    y = (torch.arange(args.batch, device=args.device) * 7) % 10
    autocast = args.dtype == "bfloat16"

    def step():
        opt.zero_grad()
        with torch.autocast(args.device, dtype=torch.bfloat16, enabled=autocast):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    sync(args.device)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        sync(args.device)
        times.append((time.perf_counter() - start) * 1000 / args.steps)
    ms = statistics.median(times)
    print(f"torch fashion_cnn {args.device} batch {args.batch} threads {torch.get_num_threads()} "
          f"tf32 {int(args.tf32)} {args.dtype}: {ms:.3f} ms/step (median of {args.runs} x {args.steps}), "
          f"{1000 * args.batch / ms:.0f} images/s")


def read_idx(path):
    opener = gzip.open if not os.path.exists(path) and os.path.exists(path + ".gz") else open
    name = path if opener is open else path + ".gz"
    with opener(name, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(folder, split):
    images = read_idx(os.path.join(folder, f"{split}-images-idx3-ubyte"))
    labels = read_idx(os.path.join(folder, f"{split}-labels-idx1-ubyte"))
    x = (torch.from_numpy(images.astype(np.float32)) / 255.0 - 0.2860) / 0.3530
    return x.reshape(-1, 1, 28, 28), torch.from_numpy(labels.astype(np.int64))


def train(args):
    """The example's loop: batches cut on the host from a seeded permutation and moved to the device."""
    torch.manual_seed(args.seed)
    x_train, y_train = load(args.data, "train")
    x_test, y_test = load(args.data, "t10k")
    model = FashionCnn().to(args.device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(args.seed)
    start_all = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(y_train), generator=g)
        start = time.perf_counter()
        loss_sum = torch.zeros((), device=args.device)
        correct = torch.zeros((), device=args.device)
        for b in range(0, len(order), args.batch):
            idx = order[b:b + args.batch]
            x, y = x_train[idx].to(args.device), y_train[idx].to(args.device)
            opt.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * len(idx)
            correct += (logits.argmax(1) == y).sum()
        sync(args.device)
        seconds = time.perf_counter() - start
        n = len(order)
        print(f"epoch {epoch}/{args.epochs}  loss {loss_sum.item() / n:.4f}  accuracy {100 * correct.item() / n:6.2f}%  "
              f"{n / seconds:8.0f} images/s  ({seconds:.2f} s)")
    model.eval()
    with torch.no_grad():
        hits = sum((model(x_test[b:b + 1000].to(args.device)).argmax(1).cpu() == y_test[b:b + 1000]).sum().item()
                   for b in range(0, len(y_test), 1000))
    print(f"test accuracy {100 * hits / len(y_test):.2f}%  whole run {time.perf_counter() - start_all:.1f} s")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["step", "train"])
    p.add_argument("--device", default="cuda")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--tf32", type=int, default=1)
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = p.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.backends.cudnn.allow_tf32 = bool(args.tf32)
    torch.backends.cuda.matmul.allow_tf32 = False
    step_bench(args) if args.mode == "step" else train(args)


if __name__ == "__main__":
    main()
