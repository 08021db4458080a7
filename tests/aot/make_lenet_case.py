#!/usr/bin/python3
"""Writes the PyTorch side of the LeNet parity test.

OUTDIR/lenet.safetensors     d2l's LeNet state_dict (nn.Sequential names: 0.weight, ...)
OUTDIR/lenet_io.safetensors  "input" (40 x 1 x 28 x 28, Fashion-MNIST-like values in [0, 1])
                             and "expected", the logits PyTorch computes for it.
Run with Debian's /usr/bin/python3 (python3-torch).
"""
import pathlib
import sys

import torch
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "python"))
from safetensors_np import write_safetensors  # noqa: E402


def main(outdir):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    # d2l 6.6, verbatim.
    net = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))
    for m in net:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.uniform_(m.bias, -0.5, 0.5)  # non-zero biases, so they are tested too
    x = torch.rand(40, 1, 28, 28)
    with torch.no_grad():
        y = net(x)
    write_safetensors(f"{outdir}/lenet.safetensors", net.state_dict())
    write_safetensors(f"{outdir}/lenet_io.safetensors", {"input": x, "expected": y})


if __name__ == "__main__":
    main(sys.argv[1])
