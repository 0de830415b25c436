#!/usr/bin/env bash
# GPTQ on the GPU (issue 7), two device calls of under 10 minutes each:
#   bench/gptq-device.sh tests   the GPU GPTQ tests and checks against the CPU reference, with the timings of
#                                Llama-2-7B's q_proj and down_proj shapes on 128 × 2048 calibration rows -> gptq-tests.log
#   bench/gptq-device.sh e2e     `qzo quantize --method gptq --device cuda` end to end on LAYERS decoder layers of
#                                Llama-2-7B's shape, SAMPLES windows of 2048 tokens -> e2e.log, e2e-report.json,
#                                e2e-summary.json (wall time, peaks, the 32-layer extrapolation)
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

# Issue 16 item 6 at full size: LAYERS (2) decoder layers of Llama-2-7B's shape with its real vocabulary, SAMPLES (128)
# calibration windows of 2048 tokens; every layer costs the same, so a run of LAYERS < 32 extrapolates to the whole
# model (e2e-summary.json says how). Peaks: the process's resident set (/proc, sampled) and the GPU's memory in use
# (nvidia-smi, sampled every 200 ms), both the whole process's, not Qzo's own accounting.
layers=${LAYERS:-2} samples=${SAMPLES:-128}
work=$(mktemp -d)
"$qzo" qzo synth --out "$work/teacher" --hidden 4096 --intermediate 11008 --layers "$layers" --heads 32 --vocab 32000 \
  --max-positions 4096 --low-rank 64 --outliers 16 --seed 1 > "$OUT/e2e.log" 2>&1 || { tail -5 "$OUT/e2e.log"; exit 1; }
python3 -c "
import json, random
random.seed(1)
for _ in range($samples + 2): print(json.dumps({'input_ids': [random.randrange(3, 32000) for _ in range(2048)]}))" > "$work/calib.jsonl"
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$work/gpu-memory.txt" 2>/dev/null &
sampler=$!
start=$(date +%s.%N)
timeout "${E2E_LIMIT_S:-420}" "$qzo" qzo quantize --method gptq --bits 4 --group-size 128 --desc-act --device cuda \
  --calibration "$work/calib.jsonl" --calibration-samples "$samples" --calibration-length 2048 --report "$OUT/e2e-report.json" \
  "$work/teacher" "$work/q" >> "$OUT/e2e.log" 2>&1 &
quantize=$!
rss_peak=0
while kill -0 $quantize 2>/dev/null; do  # the qzo process's resident set, the child of timeout
  for pid in $(pgrep -P $quantize) $quantize; do
    rss=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null); [ -n "$rss" ] && [ "$rss" -gt "$rss_peak" ] && rss_peak=$rss
  done
  sleep 0.2
done
wait $quantize; rc=$?
end=$(date +%s.%N)
kill $sampler 2>/dev/null
tail -25 "$OUT/e2e.log"
python3 - "$OUT/e2e-report.json" "$work/gpu-memory.txt" "$OUT/e2e-summary.json" "$start" "$end" "$rc" "$rss_peak" "$layers" \
  "$samples" <<'PY'
import json, os, sys
report_path, gpu_path, out_path = sys.argv[1:4]
start, end, rc, rss_kib, layers, samples = float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), \
    int(sys.argv[8]), int(sys.argv[9])
gpu = [int(l) for l in open(gpu_path) if l.strip().isdigit()]
summary = {"exit": rc, "layers": layers, "calibration": f"{samples} x 2048 tokens", "wall_s": round(end - start, 1),
           "host_peak_rss_gib": round(rss_kib / 2**20, 2), "gpu_peak_used_gib": round(max(gpu) / 1024, 2) if gpu else None}
if os.path.exists(report_path):
    linears = json.load(open(report_path))["linears"]
    for l in linears:
        print("%-40s [%5d, %5d]  %.3f s  error %.4f (rtn %.4f)" % (l["name"], l["out_features"], l["in_features"], l["seconds"],
              l["relative_error"], l["rtn_relative_error"]))
    seconds = json.load(open(report_path))["layer_seconds"]  # each layer's wall time: calibration passes, Hessians, solves
    summary["layer_seconds"] = [round(s, 2) for s in seconds]
    rest = summary["wall_s"] - sum(seconds)  # start-up, loading the windows, the embedding, lm_head, the final writes
    summary["outside_layers_s"] = round(rest, 1)
    # Every layer has the same shapes: the whole model is 32 layers at the median layer's seconds plus what was outside.
    median = sorted(seconds)[len(seconds) // 2]
    summary["extrapolated_32_layers_s"] = round(32 * median + rest, 1)
json.dump(summary, open(out_path, "w"), indent=1)
print(json.dumps(summary))
PY
