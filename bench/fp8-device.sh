#!/usr/bin/env bash
# Issue 16's FP8 figures on the GPU machine, in one call of about 4 minutes: the fp8 device checks (the codes the tensor
# cores read against the CPU's bit for bit, GPTQ's and bitsandbytes' straight codes against the dequantize-then-convert
# path, GPTQ's bf16 dequantization against the CPU), then `qzo bench` of the Llama-2-7B shape in GPTQ 4-bit at each
# SHAPES batch × length with --compute native and fp8, side by side, and summary.txt with the ratios.
#   bash bench/fp8-device.sh            run tool: carry [".gpu"] (bash bench/publish-device.sh first)
# The agreement of fp8's estimates with bf16's at this shape: PARTS="model compare" bash bench/sst2-device.sh.
# Settings (environment): SHAPES ("16x64 16x256"), MODEL_SHAPE (llama2-7b), FORMAT (gptq), CHECKS (1; 0 skips them).
# Results in $OUT: checks.txt, bench.txt (the tables), bench.jsonl (one JSON object a run), summary.txt.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:?OUT must name the folder whose files come back}
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
bash "$root/bench/unpack-device.sh" "$root/.gpu" || exit 1
device="$root/.gpu/qzo-device"
if [ "${CHECKS:-1}" = 1 ]; then
  for filter in Fp8 StreamingKernelChecks; do
    timeout 120 "$device" tests "$filter" >> "$out/checks.txt" 2>&1
    echo "tests $filter: exit $?" | tee -a "$out/checks.txt"
  done
fi
for shape in ${SHAPES:-16x64 16x256}; do
  for compute in native fp8; do
    timeout 150 "$device" qzo bench --shape "${MODEL_SHAPE:-llama2-7b}" --format "${FORMAT:-gptq}" --batch "${shape%x*}" \
      --seq "${shape#*x}" --device cuda --compute "$compute" --json /tmp/qzo-fp8-bench.json --force >> "$out/bench.txt" 2>&1
    echo "bench $shape $compute: exit $?" | tee -a "$out/bench.txt"
    [ -f /tmp/qzo-fp8-bench.json ] && python3 -c "import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))" \
      /tmp/qzo-fp8-bench.json >> "$out/bench.jsonl"
    rm -f /tmp/qzo-fp8-bench.json
  done
done
touch "$out/bench.jsonl"
python3 - "$out/bench.jsonl" <<'PY' | tee "$out/summary.txt"
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
by = {(r["batch"], r["seq"], r["compute"]): r for r in runs}
print(f"{'batch x seq':>12} {'native step':>12} {'fp8 step':>10} {'fp8/native':>10} {'native fwd':>11} {'fp8 fwd':>9} "
      f"{'loss native':>12} {'loss fp8':>9} declined")
for (b, t) in sorted({(b, t) for b, t, _ in by}):
    n, f = by.get((b, t, "native")), by.get((b, t, "fp8"))
    if not n or not f:
        print(f"{b:>5} x {t:<5} incomplete"); continue
    print(f"{b:>5} x {t:<5} {n['step_s']:>12.4f} {f['step_s']:>10.4f} {f['step_s'] / n['step_s']:>10.2f} {n['forward_s']:>11.4f} "
          f"{f['forward_s']:>9.4f} {n['loss']:>12.5f} {f['loss']:>9.5f} {f['fp8_declined_shapes']}")
PY
