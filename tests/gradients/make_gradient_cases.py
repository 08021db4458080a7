#!/usr/bin/python3
"""Writes the PyTorch side of the gradient tests (test_gradients.cpp).

Usage: /usr/bin/python3 make_gradient_cases.py OUTDIR
(Debian's python3-torch; the python3 first on PATH may lack torch.)

For every case below, OUTDIR/<case>.safetensors holds "input" and the
parameters ("0.weight", "0.bias", ...) as tests/parity/make_layer_cases.py
writes them, and
  "labels"                   cross_entropy: the N class indices, stored as F32
  "target"                   squared_error: the target, shaped like the output
  "loss"                     the loss torch computed (a 0-d tensor)
  "<name>.grad"              torch autograd's gradient of "loss" with respect
                             to parameter <name> (e.g. "0.weight.grad")
and "__metadata__" (strings only):
  "layers", "input"          the layer configs, as tests/parity/make_layer_cases.py
                             (its `describe` is imported from there)
  "loss"                     "cross_entropy": mean over the batch of softmax
                             cross-entropy of the logits (F.cross_entropy); a
                             network ending in softmax is read BEFORE the
                             softmax, as constnet::codegen does (define_loss)
                             "squared_error": ((y - t) ** 2).sum() on the output
  "finite_differences"       "1": test_gradients.cpp also checks this case
                             against central differences of the loss
  "fd_step"                  the step h it must use (chosen here, where the
                             inputs are known; see the max-pool margin below)
  "tied_windows"             max-pool windows whose maximum occurs more than
                             once (the cases built to have ties), "0" otherwise
  "case", "torch"

Max pooling with ties: PyTorch's CPU kernel sends the gradient to the FIRST
maximum of a window in row-major order. The tie cases use integer-valued
inputs (0/1, or constant blocks of small integers) and coarse (multiples of 1/4) weights so the conv outputs are exact in
float32 and tie exactly; this script checks that ties occur AND that a
last-maximum rule would give different parameter gradients (so the case
really tells the two apart), and that a first-maximum rule built from
torch.argmax reproduces nn.MaxPool2d's gradients.

Max pooling under finite differences: the check is only meaningful if no
window's maximum changes hands between p - h and p + h. The finite-difference
max-pool case feeds a 1x1 conv with per-channel permutations of well-spaced
values; this script computes the smallest gap between the largest and the
second-largest value of any window and asserts it exceeds 4 * h * max|x|
(a one-entry weight change of h moves each pool input by at most h * max|x|).

float32 throughout, one thread, torch.manual_seed fixed per case.
"""
import math
import pathlib
import sys

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.utils import _pair

_TESTS = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_TESTS / "python"))
sys.path.insert(0, str(_TESTS / "parity"))
from cases import main_with_outdir, prepare_run, write_case  # noqa: E402
from make_layer_cases import describe  # noqa: E402


# ------------------------------------------------------------------ inputs

def randn_input(batch, shape):
    return torch.randn(batch, *shape, dtype=torch.float32)


def binary_input(batch, shape):
    """0 or 1: conv outputs with coarse weights are exact and few, so they tie."""
    return torch.randint(0, 2, (batch, *shape)).float()


def block_input(batch, shape):
    """Constant 2x2 blocks of small integers (constant regions tie everywhere)."""
    c, h, w = shape
    low = torch.randint(-2, 3, (batch, c, (h + 1) // 2, (w + 1) // 2)).float()
    return low.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)[:, :, :h, :w].contiguous()


def distinct_input(batch, shape):
    """Per (sample, channel) a permutation of evenly spaced values in [-2, 2]."""
    c, h, w = shape
    grid = torch.linspace(-2.0, 2.0, h * w)
    planes = [grid[torch.randperm(h * w)].reshape(h, w) for _ in range(batch * c)]
    return torch.stack(planes).reshape(batch, c, h, w).contiguous()


# ------------------------------------------------------- parameter overrides

def coarse_params(net):
    """Weights in {-0.5, 0, 0.5} (the first layer's in {0, 0.5}: its outputs
    take few values), biases in {-0.25, 0, 0.25}: sums of small integers times
    these are exact in float32."""
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith("weight"):
                low = 0 if name.startswith("0.") else -1
                p.copy_(torch.randint(low, 2, p.shape).float() * 0.5)
            else:
                p.copy_(torch.randint(-1, 2, p.shape).float() * 0.25)


def large_conv_weights(net):
    """|w| in [0.5, 1.5] for module 0 (a 1x1 conv in the max-pool FD case),
    so distinct inputs stay well apart after the conv."""
    with torch.no_grad():
        w = net[0].weight
        sign = torch.where(torch.rand(w.shape) < 0.5, -1.0, 1.0)
        w.copy_(sign * (0.5 + torch.rand(w.shape)))


# ------------------------------------------------------------------- cases

def case(seed, shape, batch, modules, loss, pad=None, make_input=randn_input, init=None, fd=False, fd_step=1e-2,
         ties=False):
    return dict(seed=seed, shape=shape, batch=batch, modules=modules, loss=loss, pad=pad, make_input=make_input,
                init=init, fd=fd, fd_step=fd_step, ties=ties)


CE, SE = "cross_entropy", "squared_error"

# A padding override (top, bottom, left, right) applies to module 0: PyTorch
# computes conv(F.pad(x, ...)) with an unpadded Conv2d; constnet gets the
# padding as the layer's own (as tests/parity/make_layer_cases.py).
CASES = {
    # conv2d
    "conv_3to4_k3_p1": case(101, (3, 7, 6), 2, lambda: [nn.Conv2d(3, 4, 3, padding=1)], SE),
    "conv_k3x5_s2x3_p1x2": case(102, (2, 9, 11), 2, lambda: [nn.Conv2d(2, 3, (3, 5), stride=(2, 3), padding=(1, 2))],
                                SE, fd=True),
    "conv_asym_pad_t1b0l2r1": case(103, (3, 7, 6), 2, lambda: [nn.Conv2d(3, 2, 3)], SE, pad=(1, 0, 2, 1)),
    "conv_1x1": case(104, (5, 4, 5), 3, lambda: [nn.Conv2d(5, 3, 1)], SE),
    "conv_nobias_k2x4_s2x1": case(105, (3, 7, 8), 2, lambda: [nn.Conv2d(3, 4, (2, 4), stride=(2, 1), bias=False)], SE),
    "conv_relu_flatten_linear": case(106, (2, 6, 5), 3, lambda: [
        nn.Conv2d(2, 3, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 3 * 3, 4)], CE),
    # max pool
    "maxpool_k3_s2_p1": case(111, (2, 7, 7), 2, lambda: [nn.Conv2d(2, 3, 3, padding=1), nn.MaxPool2d(3, 2, 1)], SE),
    "maxpool_k2x3_s2x3_p0x1": case(112, (1, 8, 12), 2, lambda: [
        nn.Conv2d(1, 2, 3), nn.MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1))], SE),
    "maxpool_ties_k2_s2": case(113, (2, 6, 6), 2, lambda: [
        nn.Conv2d(2, 3, 3, padding=1), nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(3 * 3 * 3, 4)], CE,
        make_input=binary_input, init=coarse_params, ties=True),
    "maxpool_ties_k3_s2_p1_blocks": case(114, (1, 9, 9), 2, lambda: [
        nn.Conv2d(1, 2, 2), nn.MaxPool2d(3, 2, 1)], SE, make_input=block_input, init=coarse_params, ties=True),
    "maxpool_distinct_fd": case(115, (1, 7, 7), 2, lambda: [nn.Conv2d(1, 2, 1), nn.MaxPool2d(3, 2, 1)], SE,
                                make_input=distinct_input, init=large_conv_weights, fd=True, fd_step=1e-3),
    # avg pool
    "avgpool_k3_s2_p1_include_pad": case(121, (2, 8, 7), 2, lambda: [
        nn.Conv2d(2, 3, 3), nn.AvgPool2d(3, 2, 1, count_include_pad=True)], SE, fd=True),
    "avgpool_k3x2_s1x2_p1_exclude_pad": case(122, (2, 7, 8), 2, lambda: [
        nn.Conv2d(2, 3, 2), nn.AvgPool2d((3, 2), stride=(1, 2), padding=1, count_include_pad=False)], SE),
    # activations, dense
    "dense_sigmoid_dense_tanh": case(131, (6,), 3, lambda: [
        nn.Linear(6, 5), nn.Sigmoid(), nn.Linear(5, 4), nn.Tanh()], SE),
    "conv_tanh_sigmoid_se": case(132, (2, 5, 5), 2, lambda: [
        nn.Conv2d(2, 3, 3, padding=1), nn.Tanh(), nn.Conv2d(3, 2, 1), nn.Sigmoid()], SE),
    "flatten_linear_ce": case(133, (2, 3, 4), 4, lambda: [nn.Flatten(), nn.Linear(24, 5)], CE, fd=True),
    "linear_nobias_relu_linear_ce": case(134, (7,), 3, lambda: [
        nn.Linear(7, 6, bias=False), nn.ReLU(), nn.Linear(6, 4)], CE),
    # softmax at the end
    "linear_softmax_ce": case(141, (8,), 4, lambda: [nn.Linear(8, 5), nn.Softmax(dim=1)], CE),
    "linear_softmax_se": case(142, (8,), 3, lambda: [nn.Linear(8, 5), nn.Softmax(dim=1)], SE),
    # chains
    "lenet_like_ce": case(151, (1, 14, 14), 2, lambda: [
        nn.Conv2d(1, 3, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(3, 4, 3), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Flatten(), nn.Linear(4 * 2 * 2, 10), nn.Sigmoid(), nn.Linear(10, 5)], CE, fd=True),
    "chain_relu_maxpool_softmax_ce": case(152, (2, 6, 8), 3, lambda: [
        nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(4 * 3 * 4, 5), nn.Softmax(dim=1)], CE),
    # shapes that fill the train step's register tiles (codegen/src/train.cpp:
    # images in the vector lanes, conv tiles of pixels x channels, input
    # gradients of padded and strided convs, dense layers in blocks of
    # samples, batches that are not a multiple of the block or the vector width)
    "conv_relu_conv_p1_8to16": case(153, (3, 12, 11), 2, lambda: [
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1), nn.Sigmoid()], SE),
    "conv_tanh_conv_s2_p1": case(154, (2, 9, 10), 3, lambda: [
        nn.Conv2d(2, 4, 3, padding=1), nn.Tanh(), nn.Conv2d(4, 6, 3, stride=2, padding=1)], SE),
    "dense_batch13_ce": case(155, (20,), 13, lambda: [nn.Linear(20, 17), nn.Sigmoid(), nn.Linear(17, 10)], CE),
    # rows of 22 columns and a batch of 37 (a partial vector of 16 images and
    # a partial block of the weight gradient's blocks of 8 vectors)
    "conv_rows_w22_tanh_conv_b37": case(157, (3, 6, 20), 37, lambda: [
        nn.Conv2d(3, 5, (3, 5), padding=(1, 3)), nn.Tanh(), nn.Conv2d(5, 4, 3), nn.Sigmoid()], SE),
    # average pools whose windows tile the input: gradient in gather form
    # (codegen/src/train.cpp), rows and columns left over that no window
    # covers, a ruled activation before it (its rule then not stored) or none
    "avgpool_tiles_3x2_tanh_rest_b5": case(158, (2, 9, 7), 5, lambda: [
        nn.Conv2d(2, 3, 3), nn.Tanh(), nn.AvgPool2d((3, 2), stride=(3, 2)), nn.Conv2d(3, 2, 1)], SE, fd=True),
    "conv_avgpool_tiles_sigmoid_b3": case(159, (3, 10, 10), 3, lambda: [
        nn.Conv2d(3, 4, 3, padding=1), nn.AvgPool2d(2), nn.Sigmoid()], SE),
    # a kernel wider than half the registers (the weight gradient's taps in a
    # loop, not the tile) and a batch of 1 (15 of 16 lanes past the batch)
    "conv_k1x13_sigmoid_b1": case(160, (2, 4, 20), 1, lambda: [
        nn.Conv2d(2, 3, (1, 13), padding=(0, 1)), nn.Sigmoid(), nn.Flatten(), nn.Linear(3 * 4 * 10, 4)], CE),
    # Winograd F(2, k) along the rows for the forward (codegen/src/train.cpp,
    # winograd_forward): 3x3 with padding, 7 channels (one tile of 7), a
    # batch of 21; a 7x7 kernel (eight points) without bias, checked by
    # finite differences too
    "winograd_rows_k3_p1_tanh_b21": case(161, (6, 7, 10), 21, lambda: [
        nn.Conv2d(6, 7, 3, padding=1), nn.Tanh(), nn.Conv2d(7, 2, 1)], SE),
    "winograd_rows_k7_nobias_sigmoid_fd": case(162, (3, 9, 12), 2, lambda: [
        nn.Conv2d(3, 4, 7, padding=(1, 3), bias=False), nn.Sigmoid(), nn.Flatten(), nn.Linear(4 * 5 * 12, 3)], CE,
        fd=True),
    # The input gradient as the adjoint of the Winograd forward
    # (winograd_input_gradient): a 3x3 conv after another layer, no padding,
    # a batch of 19; a 4-wide kernel (five points, an odd count) on an odd
    # input width (the last pair of pixels shifted inwards)
    "winograd_input_grad_k3_b19": case(163, (2, 7, 10), 19, lambda: [
        nn.Conv2d(2, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 5, 3)], SE),
    "winograd_input_grad_k4_odd_width": case(164, (4, 8, 9), 3, lambda: [
        nn.Conv2d(4, 4, 3), nn.Tanh(), nn.Conv2d(4, 3, 4)], SE, fd=True),
    # a flatten of a flat input passes its source through: the dense
    # layer's weight gradient reads that source's pixels
    "flatten_flatten_linear_ce": case(165, (2, 3, 4), 4, lambda: [nn.Flatten(), nn.Flatten(), nn.Linear(24, 5)], CE),
    # a dense layer reading the network's input (copied images innermost)
    "input_dense_b21_ce": case(166, (30,), 21, lambda: [nn.Linear(30, 12), nn.ReLU(), nn.Linear(12, 5)], CE),
    "lenet_batch9_ce": case(156, (1, 28, 28), 9, lambda: [
        nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10)], CE),
}


# ----------------------------------------------------------------- helpers

def pool_windows(x, m):
    """x's max-pool windows as [N, C, OH, OW, kh*kw] (padding is -inf)."""
    (kh, kw), (sh, sw), (ph, pw) = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding)
    xp = F.pad(x, (pw, pw, ph, ph), value=-math.inf)
    u = xp.unfold(2, kh, sh).unfold(3, kw, sw)
    return u.reshape(*u.shape[:4], kh * kw)


def max_pool_choosing(x, m, last):
    """Max pooling that picks the first (or last) maximum of each window, in
    row-major window order; its gradient goes to the picked element."""
    u = pool_windows(x, m)
    if last:
        u = u.flip(-1)
    idx = torch.argmax(u, dim=-1, keepdim=True)  # the first maximal index
    return torch.gather(u, -1, idx).squeeze(-1)


def run(net, x, pad, stop_before_softmax, pool_rule=None):
    mods = list(net)
    if stop_before_softmax and isinstance(mods[-1], nn.Softmax):
        mods = mods[:-1]  # cross-entropy reads the logits, as constnet does
    observed = []  # max-pool inputs
    for k, m in enumerate(mods):
        if k == 0 and pad is not None:  # F.pad takes (left, right, top, bottom)
            x = F.pad(x, (pad[2], pad[3], pad[0], pad[1]))
        if isinstance(m, nn.MaxPool2d):
            observed.append((x.detach(), m))
            if pool_rule is not None:
                x = max_pool_choosing(x, m, last=pool_rule == "last")
                continue
        x = m(x)
    return x, observed


def loss_and_grads(net, x, c, target, pool_rule=None):
    net.zero_grad(set_to_none=True)
    out, observed = run(net, x, c["pad"], c["loss"] == CE, pool_rule)
    if c["loss"] == CE:
        loss = F.cross_entropy(out, target)
    else:
        loss = ((out - target) ** 2).sum()
    loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in net.named_parameters()}
    return loss.detach(), grads, observed


def tied_windows(observed):
    count = 0
    for x, m in observed:
        u = pool_windows(x, m)
        mx = u.max(dim=-1, keepdim=True).values
        count += int(((u == mx).sum(dim=-1) > 1).sum())
    return count


def pool_margin(observed):
    """Smallest gap between a window's largest and second-largest value."""
    margin = math.inf
    for x, m in observed:
        top = pool_windows(x, m).topk(2, dim=-1).values
        margin = min(margin, float((top[..., 0] - top[..., 1]).min()))
    return margin


def max_rel_diff(a, b):
    return max(float((a[k] - b[k]).abs().max()) / max(float(b[k].abs().max()), 1e-6) for k in b)


def main(outdir):
    out = prepare_run(outdir)
    for name, c in CASES.items():
        torch.manual_seed(c["seed"])
        net = nn.Sequential(*c["modules"]()).float().train()
        if c["init"] is not None:
            c["init"](net)
        x = c["make_input"](c["batch"], c["shape"])
        with torch.no_grad():
            y, _ = run(net, x, c["pad"], c["loss"] == CE)
        if c["loss"] == CE:
            target = torch.randint(0, y.shape[1], (c["batch"],))
        else:
            target = torch.randn(y.shape, dtype=torch.float32)
        loss, grads, observed = loss_and_grads(net, x, c, target)

        ties = tied_windows(observed)
        if c["ties"]:
            # The case must tell "first maximum" from "last maximum" apart.
            assert ties > 0, f"{name}: no tied max-pool windows"
            _, first, _ = loss_and_grads(net, x, c, target, pool_rule="first")
            _, last, _ = loss_and_grads(net, x, c, target, pool_rule="last")
            assert max_rel_diff(first, grads) < 1e-6, f"{name}: torch.argmax's first maximum is not MaxPool2d's"
            assert max_rel_diff(last, grads) > 1e-3, f"{name}: the ties do not change the parameter gradients"
        if c["fd"] and observed:
            margin, bound = pool_margin(observed), 4 * c["fd_step"] * float(x.abs().max())
            assert margin > bound, f"{name}: max-pool margin {margin} <= {bound}: finite differences would cross a tie"

        layers = [describe(m, c["pad"] if k == 0 else None) for k, m in enumerate(net)]
        tensors = {k: v.detach() for k, v in net.state_dict().items()}
        tensors.update({f"{k}.grad": v for k, v in grads.items()})
        tensors.update(input=x, loss=loss)
        if c["loss"] == CE:
            tensors["labels"] = target.float()
        else:
            tensors["target"] = target
        write_case(out, name, tensors, layers, c["shape"], loss=c["loss"],
                   finite_differences="1" if c["fd"] else "0", fd_step=repr(c["fd_step"]), tied_windows=str(ties))
    print(f"wrote {len(CASES)} cases to {out}")


if __name__ == "__main__":
    main_with_outdir(main, "make_gradient_cases.py")
