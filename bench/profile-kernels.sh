#!/usr/bin/env bash
# Per-kernel GPU time of one 7B-shape forward + QZO step under Nsight Compute (kernels serialized, clocks untouched),
# summed by kernel name. Run on the GPU machine with the published binary in .gpu/ and OUT set.
set -u
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
root=$(cd "$(dirname "$0")/.." && pwd)
shape=${1:-llama2-7b}
bash "$root/bench/unpack-device.sh" "$root/.gpu"
timeout 400 ncu --clock-control none --metrics gpu__time_duration.sum --csv --print-units base \
  "$root/.gpu/qzo-device" qzo bench --shape "$shape" --batch 16 --seq 256 --device cuda --steps 1 --warmup 0 > "$OUT/ncu.csv" 2> "$OUT/ncu.err"
python3 - "$OUT/ncu.csv" <<'PY'
import csv, sys, collections, re
rows = [r for r in csv.reader(l for l in open(sys.argv[1]) if l.startswith('"'))]
header, data = rows[0], rows[1:]
name_col, value_col = header.index("Kernel Name"), header.index("Metric Value")
total = collections.defaultdict(lambda: [0, 0.0])
for r in data:
    name = re.sub(r"\(.*", "", r[name_col])[:60]
    if "Fill" in name: continue   # model synthesis, not training
    total[name][0] += 1; total[name][1] += float(r[value_col].replace(",", "")) * 1e-6
all_ms = sum(v[1] for v in total.values())
print(f"{'kernel':60} {'calls':>6} {'ms':>9} {'share':>6}")
for name, (calls, ms) in sorted(total.items(), key=lambda kv: -kv[1][1]):
    print(f"{name:60} {calls:6d} {ms:9.2f} {ms / all_ms:6.1%}")
print(f"{'total (1 forward + 1 QZO step = 3 forwards + update)':60} {'':6} {all_ms:9.2f}")
PY
