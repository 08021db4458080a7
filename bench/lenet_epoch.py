#!/usr/bin/python3
"""One LeNet training epoch on Fashion-MNIST (d2l recipe: sigmoid, average
pooling, Xavier-uniform, SGD lr 0.9, batch 256, cross-entropy), in PyTorch and
in constnet, side by side in one run with the same thread count. Prints
seconds per epoch, images/s and the ratio; --json writes the figures.

  /usr/bin/python3 bench/lenet_epoch.py [--threads 1] [--epochs 1] [--build build] [--json out.json]

Run with Debian's /usr/bin/python3 (python3-torch, python3-numpy).
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import time


def threads_from_argv():
    for k, a in enumerate(sys.argv):
        if a == "--threads" and k + 1 < len(sys.argv):
            return sys.argv[k + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return "1"


# Before numpy or torch load OpenBLAS, which reads these once and ignores
# torch.set_num_threads.
os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = threads_from_argv()
import numpy as np  # noqa: E402


def load(data, split):
    with gzip.open(f"{data}/{split}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{data}/{split}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images, labels


def pytorch_epochs(args):
    import torch
    from torch import nn
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x, y = load(args.data, "train")
    x = torch.tensor(x, dtype=torch.float32) / 255
    y = torch.tensor(y, dtype=torch.int64)
    net = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))
    for m in net:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
    opt = torch.optim.SGD(net.parameters(), lr=0.9)
    loss_fn = nn.CrossEntropyLoss()
    times, losses = [], []
    for _ in range(args.epochs):
        start = time.perf_counter()
        order = torch.randperm(len(y))
        total = 0.0
        for i in range(0, len(y), 256):
            idx = order[i:i + 256]
            opt.zero_grad()
            loss = loss_fn(net(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        times.append(time.perf_counter() - start)
        losses.append(total / len(y))
    return times, losses


def constnet_epochs(args):
    env = dict(os.environ, HL_NUM_THREADS=str(args.threads))
    out = subprocess.run([f"{args.build}/examples/lenet", "train", "--epochs", str(args.epochs), "--json",
                          "--out", f"{args.build}/bench", "--data", args.data],
                         env=env, check=True, capture_output=True, text=True).stdout
    summary = json.loads(out.strip().splitlines()[-1])
    return [h["seconds"] for h in summary["history"]], [h["train_loss"] for h in summary["history"]]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--build", default="build")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--json")
    args = p.parse_args()
    os.makedirs(f"{args.build}/bench", exist_ok=True)
    cn_t, cn_l = constnet_epochs(args)
    pt_t, pt_l = pytorch_epochs(args)
    cn, pt = min(cn_t), min(pt_t)
    print(f"LeNet training epoch, d2l recipe, 60000 images, {args.threads} thread(s), best of {args.epochs}")
    print(f"{'':10} {'s/epoch':>9} {'images/s':>10} {'loss (epoch 1)':>15}")
    print(f"{'PyTorch':10} {pt:9.2f} {60000 / pt:10.0f} {pt_l[0]:15.3f}")
    print(f"{'constnet':10} {cn:9.2f} {60000 / cn:10.0f} {cn_l[0]:15.3f}")
    print(f"constnet is {pt / cn:.2f}x PyTorch's speed")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "pytorch_seconds": pt_t, "constnet_seconds": cn_t,
                       "pytorch_loss": pt_l, "constnet_loss": cn_l, "ratio": pt / cn}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
