#!/usr/bin/env bash
# GPTQ on the GPU (issue 7), two device calls of under 10 minutes each:
#   bench/gptq-device.sh tests   the GPU GPTQ tests and checks against the CPU reference, with the timings of
#                                Llama-2-7B's q_proj and down_proj shapes on 128 × 2048 calibration rows -> gptq-tests.log
#   bench/gptq-device.sh e2e     `qzo quantize --method gptq --device cuda` end to end on two decoder layers of
#                                Llama-2-7B's shape, 128 windows of 2048 tokens -> e2e.log, e2e-report.json
# Expects the published binary in .gpu/ (dotnet publish tests/Qzo.DeviceTests -c Release -o .gpu) and OUT set.
set -u
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
root=$(cd "$(dirname "$0")/.." && pwd)
qzo="$root/.gpu/qzo-device"
bash "$root/bench/unpack-device.sh" "$root/.gpu"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$OUT/gpu.txt"

if [ "${1:-}" = tests ]; then
  timeout 560 "$qzo" tests Gptq > "$OUT/gptq-tests.log" 2>&1
  grep -E "^(PASS|FAIL)|^     [^ ]|passed" "$OUT/gptq-tests.log" | cut -c1-300
  exit 0
fi
[ "${1:-}" = e2e ] || { echo "usage: bench/gptq-device.sh tests|e2e" >&2; exit 2; }

work=$(mktemp -d)
{
  time "$qzo" qzo synth --out "$work/teacher" --hidden 4096 --intermediate 11008 --layers 2 --heads 32 --vocab 1024 \
      --max-positions 4096 --low-rank 64 --outliers 16 --seed 1
  python3 -c "
import json, random
random.seed(1)
for _ in range(130): print(json.dumps({'input_ids': [random.randrange(3, 1024) for _ in range(2048)]}))" > "$work/calib.jsonl"
  time timeout 420 "$qzo" qzo quantize --method gptq --bits 4 --group-size 128 --desc-act --device cuda \
      --calibration "$work/calib.jsonl" --calibration-samples 128 --calibration-length 2048 --report "$OUT/e2e-report.json" \
      "$work/teacher" "$work/q"
} > "$OUT/e2e.log" 2>&1
tail -25 "$OUT/e2e.log"
python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
for l in r['linears']: print('%-40s [%5d, %5d]  %.3f s  error %.4f (rtn %.4f)' % (l['name'], l['out_features'], l['in_features'], l['seconds'], l['relative_error'], l['rtn_relative_error']))" "$OUT/e2e-report.json"
