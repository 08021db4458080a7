#!/usr/bin/python3
"""The d2l-recipe acceptance run: LeNet trained for 10 epochs with seeds
0..4 (one process each), reporting each run's final train loss, train and
test accuracy from `lenet train --json`, and the median test accuracy.
Targets (PyTorch on this machine, seeds 0-5: loss 0.460-0.473, train acc
0.822-0.828, test acc 0.72-0.82, median 0.80): loss <= 0.48 and train
accuracy >= 0.815 for every seed, median test accuracy >= 0.78.

  /usr/bin/python3 bench/lenet_seeds.py [--build build] [--seeds 5] [--recipe d2l]
"""
import argparse
import json
import os
import statistics
import subprocess


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default="build")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--recipe", default="d2l")
    args = p.parse_args()
    out = f"{args.build}/acceptance"
    os.makedirs(out, exist_ok=True)
    runs = []
    for seed in range(args.seeds):
        r = subprocess.run([f"{args.build}/examples/lenet", "train", "--recipe", args.recipe, "--seed", str(seed),
                            "--json", "--out", out, "--checkpoint", f"{out}/seed{seed}.ckpt"],
                           check=True, capture_output=True, text=True)
        s = json.loads(r.stdout.strip().splitlines()[-1])
        runs.append(s)
        print(f"seed {seed}: loss {s['final_loss']:.3f}, train acc {s['train_acc']:.3f}, test acc {s['test_acc']:.3f}, "
              f"{s['seconds_per_epoch']:.1f} s/epoch", flush=True)
    median = statistics.median(r["test_acc"] for r in runs)
    ok = all(r["final_loss"] <= 0.48 and r["train_acc"] >= 0.815 for r in runs) and median >= 0.78
    print(f"median test acc {median:.3f}; targets {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
