#!/usr/bin/env bash
# The side-by-side run on the GPU machine (see bench/README.md): Qzo's device tests, a per-operation profile,
# `qzo bench` for the 7B, 13B and 70B shapes, then the PyTorch peers on the same shapes, all in one session.
# Expects the published binary in .gpu/ (dotnet publish tests/Qzo.DeviceTests -c Release -o .gpu) and OUT set.
# Everything lands in one archive, $OUT/side-by-side.tgz (the device tool returns at most 8 files).
# RUN_PARTS picks the parts ("tests qzo peers" by default) when one call's 10-minute limit cannot hold them all:
# run "tests qzo" and then "peers" on the same warm machine.
set -u
parts=" ${RUN_PARTS:-tests qzo peers} "
final_out=$OUT
OUT=$(mktemp -d)
trap 'tar czf "$final_out/side-by-side.tgz" -C "$OUT" .' EXIT
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-} PYTHONUNBUFFERED=1
root=$(cd "$(dirname "$0")/.." && pwd)
qzo="$root/.gpu/qzo-device"
bash "$root/bench/unpack-device.sh" "$root/.gpu"
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader > "$OUT/gpu.txt"

if [[ $parts == *" tests "* ]]; then
timeout 200 "$qzo" tests > "$OUT/tests.log" 2>&1
fi
if [[ $parts == *" qzo "* ]]; then
QZO_PROFILE=1 timeout 100 "$qzo" qzo bench --shape llama2-7b --batch 16 --seq 256 --device cuda --steps 1 --warmup 1 > "$OUT/profile.log" 2>&1

: > "$OUT/qzo.log"; : > "$OUT/qzo.jsonl"
for run in "llama2-7b 16" "llama2-13b 16" "llama2-70b 16" "llama2-70b 1"; do
  set -- $run
  timeout 240 "$qzo" qzo bench --shape "$1" --batch "$2" --seq 256 --device cuda --steps 5 --warmup 2 --json "$OUT/q.json" >> "$OUT/qzo.log" 2>&1
  [ -f "$OUT/q.json" ] && tr -d '\n' < "$OUT/q.json" >> "$OUT/qzo.jsonl" && echo >> "$OUT/qzo.jsonl" && rm "$OUT/q.json"
done
fi

cd "$root"
if [[ $parts == *" peers "* ]]; then
timeout 200 python3 bench/peers.py --shape llama2-7b,llama2-13b --batch 16 --seq 256 --steps 5 --warmup 2 --json "$OUT/peers-b16.json" > "$OUT/peers.log" 2>&1
timeout 120 python3 bench/peers.py --shape llama2-70b --batch 16 --seq 256 --steps 5 --warmup 2 --which qzo --json "$OUT/peers-70b-b16.json" >> "$OUT/peers.log" 2>&1
timeout 100 python3 bench/peers.py --shape llama2-70b --batch 1 --seq 256 --steps 5 --warmup 2 --which qzo --json "$OUT/peers-70b-b1.json" >> "$OUT/peers.log" 2>&1
fi
grep -hE "passed" "$OUT/tests.log" 2>/dev/null; cut -c1-300 "$OUT/qzo.jsonl" 2>/dev/null; grep -h "step_s\|forward_s" "$OUT"/peers-*.json 2>/dev/null | head -20
