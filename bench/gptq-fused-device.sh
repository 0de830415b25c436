#!/usr/bin/env bash
# Issue 16 on the GPU machine: the fused GPTQ 4-bit dequantize-and-multiply kernel's device checks, the per-shape sweep
# that fills its measured table (Quantization/Gptq/Kernels/gptq_fused_table.json), then `qzo bench` on Llama-2-7B's
# shape with the fused kernel off, on and auto (the table just measured, through QZO_GPTQ_FUSED_TABLE), beside
# bench/peers.py's PyTorch QZO (plain and torch.compile'd dequantization) on the same shapes, in one call.
#   bash bench/gptq-fused-device.sh          run tool: carry [".gpu"]; results in $OUT (at most 8 files)
# SHAPES ("16x64 16x256 1x256": batch x tokens), MODES ("off on auto"), PEERS=0 leaves the PyTorch peers out. PARTS
# ("checks bench") splits it over two calls on one warm machine when one 10-minute call cannot hold both: the bench part
# reads the table the checks part left in $WORK (default /tmp/qzo-gptq-fused).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:?OUT must name the folder whose files come back}
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-} PYTHONUNBUFFERED=1
bash "$root/bench/unpack-device.sh" "$root/.gpu" || exit 1
d="$root/.gpu/qzo-device"
work=${WORK:-/tmp/qzo-gptq-fused}; mkdir -p "$work"
parts=" ${PARTS:-checks bench} "
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"

if [[ $parts == *" checks "* ]]; then
{ for f in GptqFused MatMulWithBias FurtherFromExact; do echo "== tests $f"; timeout 200 "$d" tests "$f"; done; } > "$out/tests.txt" 2>&1
grep -E "^==|passed|^FAIL" "$out/tests.txt"

timeout 300 "$d" kernels --runs 10 GptqFused > "$out/kernels.txt" 2>&1
timeout 120 "$d" kernels --runs 20 MatMulTransposedBAddBias >> "$out/kernels.txt" 2>&1
grep -E "FAIL|operations" "$out/kernels.txt"
# The sweep ends with "as table entries:" and one JSON object per shape; they become the table QZO_GPTQ_FUSED=auto reads.
python3 - "$out/kernels.txt" "$out/gptq_fused_table.json" "$(head -1 "$out/gpu.txt")" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
start = next((i for i, l in enumerate(lines) if l.rstrip().endswith("as table entries:")), None)
entries = []
if start is not None:
    for l in lines[start + 1:]:
        l = l.strip().rstrip(",")
        if not l.startswith("{"): break
        entries.append(json.loads(l))
json.dump({"device": f"{sys.argv[3]}: qzo-device kernels GptqFused, {len(entries)} shapes", "entries": entries},
          open(sys.argv[2], "w"), indent=1)
print(f"table: {len(entries)} entries")
PY
cp "$out/gptq_fused_table.json" "$work/"
fi
[[ $parts == *" bench "* ]] || exit 0
[ -f "$work/gptq_fused_table.json" ] || { echo "no measured table in $work: run PARTS=checks first" >&2; exit 1; }

: > "$out/bench.jsonl"
for shape in ${SHAPES:-16x64 16x256 1x256}; do
  batch=${shape%x*}; seq=${shape#*x}
  for mode in ${MODES:-off on auto}; do
    QZO_GPTQ_FUSED=$mode QZO_GPTQ_FUSED_TABLE="$work/gptq_fused_table.json" timeout 150 "$d" qzo bench --shape llama2-7b \
      --batch "$batch" --seq "$seq" --device cuda --steps 5 --warmup 2 --json "$work/q.json" --force >> "$out/bench.log" 2>&1
    [ -f "$work/q.json" ] && python3 -c "import json,sys; r=json.load(open(sys.argv[1])); r['fused']=sys.argv[2]; print(json.dumps(r))" \
      "$work/q.json" "$mode" >> "$out/bench.jsonl" && rm "$work/q.json"
  done
  if [ "${PEERS:-1}" = 1 ]; then
    (cd "$root" && timeout 200 python3 bench/peers.py --shape llama2-7b --batch "$batch" --seq "$seq" --steps 5 --warmup 2 \
      --which forward,qzo,qzo-compile --json "$work/p.json" >> "$out/peers.log" 2>&1)
    [ -f "$work/p.json" ] && tr -d '\n' < "$work/p.json" >> "$out/peers.jsonl" && echo >> "$out/peers.jsonl" && rm "$work/p.json"
  fi
done
python3 - "$out/bench.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print({k: v for k, v in r.items() if not isinstance(v, (dict, list))})
PY
grep -h "step_s\|forward_s" "$out/peers.jsonl" 2>/dev/null | cut -c1-600
