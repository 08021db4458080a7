#!/usr/bin/python3
"""constnet's benchmark suite, one command: builds bench/constnet_bench
(constnet, the same networks scheduled by Halide's Mullapudi2016 and Li2018
autoschedulers, and oneDNN in both layouts) in BUILD_DIR (default build/), runs it,
runs PyTorch (python3-torch, inference mode, same thread count) on the same
cases in this process, and prints one table with every implementation's
min/median time, GFLOP/s, fraction of the measured FMA peak, and how many
times faster constnet is.

    /usr/bin/python3 bench/run_suite.py [--threads 1,2] [--filter TEXT] [--min-time S] [--json FILE]
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent

# name, batch, module factory, input shape (C, H, W), FLOPs per sample (as the C++ side counts them)
def cases():
    import torch.nn as nn

    def lenet():
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
            nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
            nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))

    layers = [
        ("conv 1->6 k5 p2 @28", lambda: nn.Conv2d(1, 6, 5, padding=2), (1, 28, 28)),
        ("conv 6->16 k5 @14", lambda: nn.Conv2d(6, 16, 5), (6, 14, 14)),
        ("conv3x3 64->64 @56", lambda: nn.Conv2d(64, 64, 3, padding=1), (64, 56, 56)),
        ("conv3x3 128->128 @28", lambda: nn.Conv2d(128, 128, 3, padding=1), (128, 28, 28)),
        ("conv3x3 256->256 @14", lambda: nn.Conv2d(256, 256, 3, padding=1), (256, 14, 14)),
        ("conv3x3 512->512 @7", lambda: nn.Conv2d(512, 512, 3, padding=1), (512, 7, 7)),
        ("conv1x1 256->64 @56", lambda: nn.Conv2d(256, 64, 1), (256, 56, 56)),
        ("maxpool 3x3 s2 p1 64@112", lambda: nn.MaxPool2d(3, 2, 1), (64, 112, 112)),
        ("avgpool 2x2 s2 64@112", lambda: nn.AvgPool2d(2, 2), (64, 112, 112)),
    ]
    # further shapes (constnet_bench runs them after the cases)
    further = [
        ("conv3x3 s2 64->128 @56", lambda: nn.Conv2d(64, 128, 3, stride=2, padding=1), (64, 56, 56)),
        ("conv1x1 64->256 @56", lambda: nn.Conv2d(64, 256, 1), (64, 56, 56)),
        ("conv1x1 s2 256->512 @56", lambda: nn.Conv2d(256, 512, 1, stride=2), (256, 56, 56)),
        ("conv5x5 32->64 p2 @28", lambda: nn.Conv2d(32, 64, 5, padding=2), (32, 28, 28)),
        ("conv3x3 3->32 @32", lambda: nn.Conv2d(3, 32, 3, padding=1), (3, 32, 32)),
        ("conv3x3 96->96 @27", lambda: nn.Conv2d(96, 96, 3, padding=1), (96, 27, 27)),
    ]
    out = [("lenet forward", 1, lenet, (1, 28, 28)), ("lenet forward", 256, lenet, (1, 28, 28)),
           ("lenet train step", 256, lenet, (1, 28, 28))]
    for n in (1, 32):
        out += [(name, n, make, shape) for name, make, shape in layers]
    for n in (1, 32):
        out += [(name, n, make, shape) for name, make, shape in further]
    out.append(("conv7x7 s2 3->64 @224", 1, lambda: nn.Conv2d(3, 64, 7, stride=2, padding=3), (3, 224, 224)))
    return out


def measure(f, min_time):
    for _ in range(3):
        f()
    times = []
    total = 0.0
    while (total < min_time or len(times) < 5) and len(times) < 10000:
        t0 = time.perf_counter()
        f()
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
    times.sort()
    return times[0], times[len(times) // 2]


def run_torch(args, threads):
    import torch
    torch.set_num_threads(threads)
    rows = []
    for name, batch, make, shape in cases():
        if args.filter and args.filter not in name:
            continue
        torch.manual_seed(0)
        x = torch.rand(batch, *shape)
        if "train" in name:  # forward, cross-entropy, backward, SGD update
            module = make().train()
            opt = torch.optim.SGD(module.parameters(), lr=0.01)
            y = torch.arange(batch) % 10
            loss_fn = torch.nn.CrossEntropyLoss()

            def step():
                opt.zero_grad()
                loss_fn(module(x), y).backward()
                opt.step()
            tmin, tmed = measure(step, args.min_time)
        else:
            module = make().eval()
            with torch.inference_mode():
                tmin, tmed = measure(lambda: module(x), args.min_time)
        rows.append({"case": name, "batch": batch, "threads": threads, "impl": "PyTorch",
                     "min_ms": tmin * 1e3, "median_ms": tmed * 1e3})
        print(".", end="", file=sys.stderr, flush=True)
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--filter", default="")
    p.add_argument("--min-time", type=float, default=0.3)
    p.add_argument("--json", help="write the merged figures here")
    args = p.parse_args()
    threads = [int(t) for t in args.threads.split(",")]

    build = pathlib.Path(os.environ.get("BUILD_DIR", ROOT / "build"))
    subprocess.run([str(ROOT / ".ci/install-deps")], check=True)
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                    "-DCONSTNET_BUILD_BENCH=ON"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(build), "--target", "constnet_bench"], check=True)

    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "native.json"
        cmd = [str(build / "bench/constnet_bench"), "--threads", args.threads, "--min-time", str(args.min_time),
               "--json", str(out)]
        if args.filter:
            cmd += ["--filter", args.filter]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        native = json.loads(out.read_text())

    # PyTorch: OpenBLAS/OpenMP pools sized before torch loads them, per thread count.
    rows = list(native["results"])
    for t in threads:
        env = dict(os.environ, OMP_NUM_THREADS=str(t), OPENBLAS_NUM_THREADS=str(t), MKL_NUM_THREADS=str(t))
        r = subprocess.run([sys.executable, "-c", TORCH_CHILD, json.dumps(vars(args)), str(t)],
                           env=env, check=True, stdout=subprocess.PIPE, text=True)
        rows += json.loads(r.stdout)
    print(file=sys.stderr)

    # Fill GFLOP/s and ratios for PyTorch rows from the constnet row of the same case.
    base = {(r["case"], r["batch"], r["threads"]): r for r in rows if r["impl"] == "constnet"}
    peak = native["peak"]
    order = {"constnet": 0, "Mullapudi2016": 1, "Li2018": 2, "oneDNN best": 3, "oneDNN NCHW": 4, "PyTorch": 5}
    rows.sort(key=lambda r: (list(base).index((r["case"], r["batch"], r["threads"])), order[r["impl"]]))
    print(f"{'case':<26} {'N':>5} {'thr':>3} {'impl':<13} {'min ms':>10} {'median ms':>10} {'GFLOP/s':>8} "
          f"{'%peak':>6} {'constnet':>9}")
    for r in rows:
        b = base[(r["case"], r["batch"], r["threads"])]
        flops_per_call = b["gflops"] * b["min_ms"] / 1e3  # GFLOP
        r["gflops"] = flops_per_call / (r["min_ms"] / 1e3)
        r["percent_of_peak"] = 100 * r["gflops"] / peak[str(r["threads"])]["gflops"]
        r["constnet_speedup"] = r["min_ms"] / b["min_ms"]
        print(f"{r['case']:<26} {r['batch']:>5} {r['threads']:>3} {r['impl']:<13} {r['min_ms']:>10.4f} "
              f"{r['median_ms']:>10.4f} {r['gflops']:>8.1f} {r['percent_of_peak']:>5.0f}% "
              f"{r['constnet_speedup']:>8.2f}x")
    for t, pk in peak.items():
        print(f"FMA peak ({pk['isa']}, {t} thread{'s' if t != '1' else ''}): {pk['gflops']:.1f} GFLOP/s")
    print("constnet column: time of that implementation / constnet's time (min of repetitions); >1 means constnet is faster")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({"results": rows, "peak": peak}, indent=1) + "\n")


TORCH_CHILD = r"""
import json, sys, types
sys.path.insert(0, %r)
import run_suite
args = types.SimpleNamespace(**json.loads(sys.argv[1]))
print(json.dumps(run_suite.run_torch(args, int(sys.argv[2]))))
""" % str(pathlib.Path(__file__).resolve().parent)

if __name__ == "__main__":
    main()
