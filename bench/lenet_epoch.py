#!/usr/bin/python3
"""LeNet training epochs on Fashion-MNIST (d2l recipe: sigmoid, average
pooling, Xavier-uniform, SGD lr 0.9, batch 256, cross-entropy), in PyTorch and
in constnet, side by side in one run with the same thread count. The two
alternate round by round (one epoch each per round, the order swapped every
round), so a change in the machine's speed during the run (a shared machine's
speed varies by a third) affects both alike; each round's ratio is reported
and their median is the result. Prints seconds per epoch, images/s and the
ratios; --json writes the figures.

  /usr/bin/python3 bench/lenet_epoch.py [--threads 1] [--rounds 3] [--build build] [--json out.json]

Run with Debian's /usr/bin/python3 (python3-torch, python3-numpy).
"""
import argparse
import gzip
import json
import os
import statistics
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


class PyTorchLeNet:
    """The d2l recipe in PyTorch; epoch() trains one epoch and returns (seconds, mean loss)."""

    def __init__(self, args):
        import torch
        from torch import nn
        self.torch = torch
        torch.set_num_threads(args.threads)
        torch.manual_seed(0)
        x, y = load(args.data, "train")
        self.x = torch.tensor(x, dtype=torch.float32) / 255
        self.y = torch.tensor(y, dtype=torch.int64)
        self.net = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
            nn.Linear(84, 10))
        for m in self.net:
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
        self.opt = torch.optim.SGD(self.net.parameters(), lr=0.9)
        self.loss_fn = nn.CrossEntropyLoss()

    def epoch(self):
        x, y, net, opt = self.x, self.y, self.net, self.opt
        start = time.perf_counter()
        order = self.torch.randperm(len(y))
        total = 0.0
        for i in range(0, len(y), 256):
            idx = order[i:i + 256]
            opt.zero_grad()
            loss = self.loss_fn(net(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        return time.perf_counter() - start, total / len(y)


def constnet_epoch(args):
    """One epoch of examples/lenet's d2l recipe from a fresh start: (seconds, mean loss)."""
    env = dict(os.environ, HL_NUM_THREADS=str(args.threads))
    out = subprocess.run([f"{args.build}/examples/lenet", "train", "--epochs", "1", "--json",
                          "--out", f"{args.build}/bench", "--data", args.data],
                         env=env, check=True, capture_output=True, text=True).stdout
    summary = json.loads(out.strip().splitlines()[-1])
    h = summary["history"][0]
    return h["seconds"], h["train_loss"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=3, help="rounds of one epoch each (the median ratio is reported)")
    p.add_argument("--build", default="build")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--json")
    args = p.parse_args()
    if args.rounds < 1:
        p.error(f"--rounds must be at least 1, got {args.rounds}")
    os.makedirs(f"{args.build}/bench", exist_ok=True)
    pytorch = PyTorchLeNet(args)
    cn_t, cn_l, pt_t, pt_l = [], [], [], []
    for r in range(args.rounds):
        runs = [(lambda: constnet_epoch(args), (cn_t, cn_l)), (pytorch.epoch, (pt_t, pt_l))]
        for run, (times, losses) in (runs if r % 2 == 0 else runs[::-1]):
            t, loss = run()
            times.append(t)
            losses.append(loss)
    ratios = [p / c for p, c in zip(pt_t, cn_t)]
    median = statistics.median(ratios)
    print(f"LeNet training epoch, d2l recipe, 60000 images, {args.threads} thread(s), {args.rounds} round(s)")
    print(f"{'':10} {'best s/epoch':>12} {'images/s':>10} {'loss (epoch 1)':>15}  per round (s)")
    for name, times, losses in (("PyTorch", pt_t, pt_l), ("constnet", cn_t, cn_l)):
        print(f"{name:10} {min(times):12.2f} {60000 / min(times):10.0f} {losses[0]:15.3f}  "
              + " ".join(f"{t:.2f}" for t in times))
    print("ratio per round: " + " ".join(f"{q:.2f}x" for q in ratios))
    print(f"constnet is {median:.2f}x PyTorch's speed (median of the rounds' ratios)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "pytorch_seconds": pt_t, "constnet_seconds": cn_t,
                       "pytorch_loss": pt_l, "constnet_loss": cn_l, "ratios": ratios, "ratio": median}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
