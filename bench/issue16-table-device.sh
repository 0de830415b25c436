#!/usr/bin/env bash
# Issue 16's targets table on the GPU machine: `qzo bench` of the Llama-2 shapes the table names, with --compute native
# and fp8 side by side, and the PyTorch peers (bench/peers.py: plain, and torch.compile'd dequantization) at the same
# batch × length, in one call (or PARTS split over calls on one warm machine).
#   bash bench/issue16-table-device.sh     run tool: carry [".gpu"] (bash bench/publish-device.sh first)
# PARTS (default "7b peers 70b"):
#   7b     Llama-2-7B GPTQ 4-bit g128: QZO step and forward at each SHAPES batch × length (16x64 16x256 1x256), per
#          COMPUTES (native fp8) -> bench.jsonl (one JSON object a run, "compute" says which), bench.log
#   peers  bench/peers.py --which forward,qzo,qzo-compile at the same SHAPES -> peers.jsonl, peers.log
#   70b    Llama-2-70B GPTQ 4-bit forward at 1 × 256 (native, fp8) and AQLM 2x8 QZO step at 16 × 256 -> bench70b.jsonl
# Each run has its own time limit; summary.txt lists every row measured, whatever ran out.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:?OUT must name the folder whose files come back}
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-} PYTHONUNBUFFERED=1
bash "$root/bench/unpack-device.sh" "$root/.gpu" || exit 1
d="$root/.gpu/qzo-device"
work=${WORK:-/tmp/qzo-table}; mkdir -p "$work"
parts=" ${PARTS:-7b peers 70b} "
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$out/gpu.txt"

bench() {  # bench FILE LIMIT_S STEPS ARGS...: one `qzo bench` run (STEPS timed, 1 or 2 warm-up), its JSON appended to FILE
  local file=$1 limit=$2 steps=$3; shift 3
  rm -f "$work/q.json"
  timeout "$limit" "$d" qzo bench --device cuda --steps "$steps" --warmup $((steps > 3 ? 2 : 1)) --json "$work/q.json" --force \
    "$@" >> "$out/bench.log" 2>&1
  echo "qzo bench $*: exit $?" | tee -a "$out/bench.log"
  [ -f "$work/q.json" ] && python3 -c "import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))" "$work/q.json" >> "$file"
}

if [[ $parts == *" 7b "* ]]; then
  for shape in ${SHAPES:-16x64 16x256 1x256}; do
    for compute in ${COMPUTES:-native fp8}; do
      bench "$out/bench.jsonl" 120 5 --shape llama2-7b --format gptq --batch "${shape%x*}" --seq "${shape#*x}" --compute "$compute"
    done
  done
fi
if [[ $parts == *" peers "* ]]; then
  for shape in ${SHAPES:-16x64 16x256 1x256}; do
    rm -f "$work/p.json"
    (cd "$root" && timeout 200 python3 bench/peers.py --shape llama2-7b --batch "${shape%x*}" --seq "${shape#*x}" --steps 5 \
      --warmup 2 --which forward,qzo,qzo-compile --json "$work/p.json" >> "$out/peers.log" 2>&1)
    echo "peers $shape: exit $?" | tee -a "$out/peers.log"
    [ -f "$work/p.json" ] && python3 -c "import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))" "$work/p.json" \
      >> "$out/peers.jsonl"
  done
fi
if [[ $parts == *" 70b "* ]]; then
  for compute in ${COMPUTES:-native fp8}; do
    bench "$out/bench70b.jsonl" 180 3 --shape llama2-70b --format gptq --batch 1 --seq 256 --compute "$compute"
  done
  bench "$out/bench70b.jsonl" 240 3 --shape llama2-70b --format aqlm-2x8 --batch 16 --seq 256
fi

python3 - "$out" <<'PY' | tee "$out/summary.txt"
import json, os, sys
out = sys.argv[1]
for name in ("bench.jsonl", "bench70b.jsonl"):
    path = os.path.join(out, name)
    for line in open(path) if os.path.exists(path) else []:
        r = json.loads(line)
        print(f"{r['shape']:10} {r['format']:18} {r['batch']:>2} x {r['seq']:<4} {r.get('compute', 'native'):6} "
              f"step {r['step_s']:.4f} s  forward {r['forward_s']:.4f} s ({100 * r['tflops'] / r['peak_tflops']:.0f} % of bf16 peak)  "
              f"start-up {r['startup_s']:.2f} s  tracked peak {r['peak_bytes']['Total'] / 2**30:.2f} GiB")
path = os.path.join(out, "peers.jsonl")
for line in open(path) if os.path.exists(path) else []:
    r = json.loads(line)
    for shape, peers in r["shapes"].items():
        print(f"peers {shape} {r['batch']} x {r['seq']}: " + ", ".join(f"{k} {v['seconds']:.4f} s" for k, v in peers.items()
                                                               if isinstance(v, dict) and "seconds" in v))
PY
