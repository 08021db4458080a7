#!/usr/bin/env bash
# `lenet train` interrupted by SIGINT (as Ctrl-C) in its second epoch: exits
# with 130 after writing the checkpoint at the batch boundary; `--resume`
# then finishes the run, and its final weights equal an uninterrupted run's.
#   check_interrupt.sh LENET WORKDIR
set -euo pipefail
lenet=$1 dir=$2
rm -rf "$dir" && mkdir -p "$dir/cut" "$dir/full"
args=(train --limit 6144 --epochs 3 --batch 256 --seed 3 --quiet)

"$lenet" "${args[@]}" --out "$dir/full" >"$dir/full.log"

"$lenet" "${args[@]}" --out "$dir/cut" >"$dir/cut.log" 2>"$dir/cut.err" &
pid=$!
ckpt="$dir/cut/lenet_d2l.checkpoint.safetensors"
for _ in $(seq 600); do [ -e "$ckpt" ] && break; sleep 0.1; done  # epoch 1 done: now in epoch 2
[ -e "$ckpt" ] || { echo "no checkpoint after epoch 1"; kill "$pid"; exit 1; }
kill -INT "$pid"
status=0; wait "$pid" || status=$?
cat "$dir/cut.err"
[ "$status" -eq 130 ] || { echo "expected exit status 130 after SIGINT, got $status"; exit 1; }
grep -q "training interrupted in epoch 2 after .* samples; checkpoint written to '$ckpt'" "$dir/cut.err" \
  || { echo "the interruption message is missing"; exit 1; }

"$lenet" "${args[@]}" --out "$dir/cut" --resume >"$dir/resume.log"
cmp "$dir/full/lenet_d2l.safetensors" "$dir/cut/lenet_d2l.safetensors" \
  || { echo "resumed weights differ from the uninterrupted run's"; exit 1; }
echo "interrupted, resumed, and equal to the uninterrupted run"
