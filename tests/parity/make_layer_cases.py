#!/usr/bin/python3
"""Writes the PyTorch side of the single-layer parity tests.

Usage: /usr/bin/python3 make_layer_cases.py OUTDIR
(Debian's python3-torch; the python3 first on PATH may lack torch.)

For every case below, OUTDIR/<case>.safetensors holds
  "input"                    the input batch, NCHW ([N, F] for a flat input)
  "0.weight", "0.bias", ...  the parameters under their nn.Sequential
                             state_dict names (PyTorch layouts)
  "expected"                 the output PyTorch computes for "input": these are
                             the expected values of test_parity_layers.cpp
and "__metadata__" (strings only, as the format requires):
  "layers"  JSON list, one entry per nn.Sequential module:
            {kind, out, kh, kw, sh, sw, pt, pb, pl, pr, bias, count_include_pad}
            kind is a constnet op name (conv2d, max_pool, avg_pool, relu,
            sigmoid, tanh, flatten, dense, softmax)
  "input"   "C,H,W" or "F" (one sample)
  "case", "torch"  the case name and the torch version that computed it.

float32 throughout, one thread, torch.manual_seed fixed per case. The
safetensors files are written by hand (the Python package is not installed):
8-byte little-endian header length, JSON header, packed little-endian data.
"""
import pathlib
import sys

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.utils import _pair

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "python"))
from cases import main_with_outdir, prepare_run, write_case  # noqa: E402


def describe(m, pad=None):
    """The constnet layer config of one module; `pad` (top, bottom, left,
    right) overrides a conv's own (symmetric) padding."""
    d = dict(kind=None, out=0, kh=0, kw=0, sh=1, sw=1, pt=0, pb=0, pl=0, pr=0, bias=True, count_include_pad=True)

    def window(kernel, stride, padding):
        (kh, kw), (sh, sw), (ph, pw) = _pair(kernel), _pair(stride), _pair(padding)
        d.update(kh=kh, kw=kw, sh=sh, sw=sw, pt=ph, pb=ph, pl=pw, pr=pw)

    if isinstance(m, nn.Conv2d):
        assert m.dilation == (1, 1) and m.groups == 1 and m.padding_mode == "zeros"
        window(m.kernel_size, m.stride, m.padding)
        d.update(kind="conv2d", out=m.out_channels, bias=m.bias is not None)
        if pad is not None:
            d.update(pt=pad[0], pb=pad[1], pl=pad[2], pr=pad[3])
    elif isinstance(m, nn.MaxPool2d):
        assert _pair(m.dilation) == (1, 1) and not m.ceil_mode
        window(m.kernel_size, m.stride, m.padding)
        d.update(kind="max_pool")
    elif isinstance(m, nn.AvgPool2d):
        assert not m.ceil_mode and m.divisor_override is None
        window(m.kernel_size, m.stride, m.padding)
        d.update(kind="avg_pool", count_include_pad=bool(m.count_include_pad))
    elif isinstance(m, nn.Linear):
        d.update(kind="dense", out=m.out_features, bias=m.bias is not None)
    elif isinstance(m, nn.Softmax):
        assert m.dim == 1
        d.update(kind="softmax")
    else:
        d.update(kind={nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.Flatten: "flatten"}[type(m)])
    return d


# name: (seed, input shape (one sample), batch, modules, conv padding override)
# A padding override means: PyTorch computes conv(F.pad(x, ...)) with an
# unpadded Conv2d (asymmetric padding is not a Conv2d option); constnet gets
# the same padding as the layer's own.
CASES = {
    "conv_3to4_k3_p1": (1, (3, 11, 9), 2, lambda: [nn.Conv2d(3, 4, 3, padding=1)], None),
    "conv_k3x5_s2x3_p1x2": (2, (2, 13, 17), 2, lambda: [nn.Conv2d(2, 3, (3, 5), stride=(2, 3), padding=(1, 2))], None),
    "conv_asym_pad_t1b0l2r1": (3, (3, 11, 9), 2, lambda: [nn.Conv2d(3, 4, 3)], (1, 0, 2, 1)),
    "conv_1x1": (4, (5, 6, 7), 3, lambda: [nn.Conv2d(5, 3, 1)], None),
    "conv_nobias_k2x4_s2x1": (5, (3, 9, 10), 2, lambda: [nn.Conv2d(3, 5, (2, 4), stride=(2, 1), bias=False)], None),
    "max_pool_k3_s2_p1": (6, (3, 11, 9), 2, lambda: [nn.MaxPool2d(3, stride=2, padding=1)], None),
    "max_pool_k2x3_s2x3_p0x1": (7, (2, 8, 13), 2, lambda: [nn.MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1))], None),
    "avg_pool_k3_s2_p1_include_pad": (8, (3, 11, 9), 2,
                                      lambda: [nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=True)], None),
    "avg_pool_k3_s2_p1_exclude_pad": (9, (3, 11, 9), 2,
                                      lambda: [nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)], None),
    "chain_conv_relu_maxpool_flatten_linear": (10, (1, 10, 12), 3, lambda: [
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, stride=2), nn.Flatten(), nn.Linear(4 * 5 * 6, 7)],
        None),
    "linear_softmax": (11, (12,), 4, lambda: [nn.Linear(12, 5), nn.Softmax(dim=1)], None),
    "lenet_like_sigmoid_tanh_avgpool": (12, (2, 14, 14), 2, lambda: [
        nn.Conv2d(2, 3, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, stride=2),
        nn.Conv2d(3, 4, 3), nn.Tanh(), nn.AvgPool2d(2, stride=2, padding=1, count_include_pad=False),
        nn.Flatten(), nn.Linear(4 * 3 * 3, 6)], None),
}


def main(outdir):
    out = prepare_run(outdir)
    for name, (seed, shape, batch, modules, pad) in CASES.items():
        torch.manual_seed(seed)
        net = nn.Sequential(*modules()).float().eval()
        x = torch.randn(batch, *shape, dtype=torch.float32)
        with torch.no_grad():
            if pad is None:
                y = net(x)
            else:  # F.pad takes (left, right, top, bottom)
                y = net(F.pad(x, (pad[2], pad[3], pad[0], pad[1])))
        layers = [describe(m, pad if k == 0 else None) for k, m in enumerate(net)]
        tensors = dict(net.state_dict())
        tensors.update(input=x, expected=y)
        write_case(out, name, tensors, layers, shape)
    print(f"wrote {len(CASES)} cases to {out}")


if __name__ == "__main__":
    main_with_outdir(main, "make_layer_cases.py")
