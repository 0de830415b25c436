#!/usr/bin/env bash
# Same-machine, same-call comparison of two published builds (`qzo bench`, README's shapes): BEFORE and AFTER are
# folders holding a qzo-device binary (bench/publish-device.sh). The runs alternate before/after per shape so that
# clock or thermal drift hits both alike. Prints one line per run and a ratio table; everything lands in
# $OUT/compare/. Usage, from the repository root on the GPU machine:
#   BEFORE=.gpu-old AFTER=.gpu bash bench/compare-builds.sh ["llama2-7b 16 gptq" ...]
set -u
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
before="${BEFORE:-.gpu-old}/qzo-device"; after="${AFTER:-.gpu}/qzo-device"
bash bench/unpack-device.sh "${BEFORE:-.gpu-old}" && bash bench/unpack-device.sh "${AFTER:-.gpu}" || exit 1
work="$OUT/compare"   # plain files as they come, so a run cut short by a time limit still returns what it measured
mkdir -p "$work"
runs=("$@")
[ ${#runs[@]} -eq 0 ] && runs=("llama2-7b 16 gptq" "llama2-13b 16 gptq" "llama2-70b 1 gptq" "llama2-70b 1 aqlm-2x8")
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader > "$work/gpu.txt"
for run in "${runs[@]}"; do
  set -- $run
  for build in before after before after; do
    binary=$before; [ $build = after ] && binary=$after
    json="$work/$1-b$2-$3-$build.json"
    [ -f "$json" ] && json="$work/$1-b$2-$3-$build-2.json"
    timeout 240 "$binary" qzo bench --shape "$1" --batch "$2" --seq 256 --format "$3" --device cuda --steps 5 --warmup 2 \
      --json "$json" --force >> "$work/bench.log" 2>&1 || echo "FAILED: $build $run" | tee -a "$work/bench.log"
  done
done
python3 - "$work" <<'PY' | tee "$work/table.txt"
import glob, json, os, sys
rows = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    name = os.path.basename(path)[:-5]
    build = "after" if "-after" in name else "before"
    key = name.replace("-after", "").replace("-before", "").removesuffix("-2")
    r = json.load(open(path))
    rows.setdefault(key, {}).setdefault(build, []).append((r["step_s"], r["forward_s"], r["peak_bytes"]["Total"]))
print("| run | step before (s) | step after (s) | after/before | forward before | forward after | after/before | peak before (GiB) | peak after (GiB) |")
print("|---|---|---|---|---|---|---|---|---|")
for key, b in rows.items():
    if "before" not in b or "after" not in b: print(f"| {key} | missing {set(['before', 'after']) - set(b)} |"); continue
    sb, fb, pb = (min(x[i] for x in b["before"]) for i in range(3))
    sa, fa, pa = (min(x[i] for x in b["after"]) for i in range(3))
    print(f"| {key} | {sb:.4f} | {sa:.4f} | {sa / sb:.3f} | {fb:.4f} | {fa:.4f} | {fa / fb:.3f} | {pb / 2**30:.2f} | {pa / 2**30:.2f} |")
PY
