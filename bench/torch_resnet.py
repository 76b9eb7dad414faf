"""PyTorch doing the work of Ember's bench/resnet_bench: ResNet-18 (CIFAR form, the same network as
bench/resnet18.h), batch 256 of random 3x32x32 images on the GPU, cross-entropy, SGD lr 0.1 with
Nesterov momentum 0.9 and weight decay 5e-4. Prints the median ms per step and the peak memory.

    python3 bench/torch_resnet.py [--tf32 0|1] [--benchmark 0|1] [--bf16-channels-last] [--compile]
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (self.shortcut(x) if self.shortcut is not None else x))


class ResNet18(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        blocks, cin = [], 64
        for width in (64, 128, 256, 512):
            for b in range(2):
                stride = 2 if b == 0 and width != 64 else 1
                blocks.append(BasicBlock(cin, width, stride))
                cin = width
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = self.blocks(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--tf32", type=int, default=1)
    p.add_argument("--benchmark", type=int, default=0)
    p.add_argument("--bf16-channels-last", action="store_true")
    p.add_argument("--compile", action="store_true")
    a = p.parse_args()
    torch.backends.cudnn.allow_tf32 = bool(a.tf32)
    torch.backends.cuda.matmul.allow_tf32 = bool(a.tf32)
    torch.backends.cudnn.benchmark = bool(a.benchmark)
    torch.manual_seed(0)
    model = ResNet18().cuda()
    x = torch.randn(a.batch, 3, 32, 32, device="cuda")
    y = (torch.arange(a.batch, device="cuda") * 7) % 10
    if a.bf16_channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
    fwd = torch.compile(model) if a.compile else model

    def step():
        opt.zero_grad()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=a.bf16_channels_last):
            loss = F.cross_entropy(fwd(x), y)
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(a.runs):
        start = time.perf_counter()
        for _ in range(a.steps):
            step()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1000 / a.steps)
    mode = "bf16 channels-last" if a.bf16_channels_last else f"tf32 {a.tf32}"
    print(f"torch resnet18 cuda batch {a.batch} {mode} benchmark {a.benchmark}{' compile' if a.compile else ''}: "
          f"{statistics.median(times):.3f} ms/step (median of {a.runs} x {a.steps}), "
          f"peak {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
