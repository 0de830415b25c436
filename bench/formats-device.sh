#!/usr/bin/env bash
# Issue 7's targets on the GPU machine: `qzo bench` in each quantized format (GPTQ 4-bit, AQLM 2-bit 1x16 and 2x8,
# NF4) on the 7B and 13B shapes at batch 16 x 256, and the 70B shape in AQLM 2-bit at batch 1 x 256.
# Expects the published binary in .gpu/ and OUT set; results in $OUT/formats.log and $OUT/formats.jsonl.
set -u
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
root=$(cd "$(dirname "$0")/.." && pwd)
qzo="$root/.gpu/qzo-device"
bash "$root/bench/unpack-device.sh" "$root/.gpu"
: > "$OUT/formats.log"; : > "$OUT/formats.jsonl"
runs=${FORMAT_RUNS:-"llama2-7b,16,gptq llama2-7b,16,aqlm-2x8 llama2-7b,16,aqlm-1x16 llama2-7b,16,nf4 llama2-13b,16,aqlm-2x8 llama2-13b,16,aqlm-1x16 llama2-70b,1,aqlm-2x8 llama2-70b,1,aqlm-1x16"}
for run in $runs; do
  IFS=, read -r shape batch format <<< "$run"
  echo "=== $shape b$batch $format" >> "$OUT/formats.log"
  timeout 200 "$qzo" qzo bench --shape "$shape" --batch "$batch" --seq 256 --format "$format" --device cuda \
    --steps 5 --warmup 2 --json "$OUT/q.json" >> "$OUT/formats.log" 2>&1
  if [ -f "$OUT/q.json" ]; then
    { tr -d '\n' < "$OUT/q.json"; echo; } >> "$OUT/formats.jsonl"
    rm "$OUT/q.json"
  fi
done
cut -c1-400 "$OUT/formats.jsonl"
