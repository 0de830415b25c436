#!/usr/bin/env bash
# tests/oracle/sd3_nf4_check.py in one device call: checks what `qzo quantize --method nf4` wrote for an SD3 pipeline
# against plain-torch NF4/FP4 dequantization and against diffusers' and transformers' module trees.
#   Here, once:  bash tests/oracle/pack-diffusers.sh                      (.oracle/diffusers-src.tar.xz)
#                bash tests/oracle/run-sd3-nf4-check.sh --prepare         (.oracle/sd3-nf4/: needs the built CLI)
#   Device:      bash tests/oracle/run-sd3-nf4-check.sh                   run tool: carry [".oracle"]
# --prepare writes a tiny synthesized pipeline (dense/), the same with every component NF4 + double quant (nf4/), and
# its transformer alone in FP4 with blocks of 128 (fp4-transformer/). The device run prints one SUMMARY line per
# component and case and writes $OUT/sd3-nf4-check-log.txt when $OUT is set.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
data=.oracle/sd3-nf4
if [ "${1:-}" = "--prepare" ]; then
  set -e
  qzo=(dotnet "$root/src/Qzo.Cli/bin/Release/net10.0/Qzo.Cli.dll")
  rm -rf "$data"
  mkdir -p "$data"
  "${qzo[@]}" synth --architecture sd3 --seed 5 --out "$data/dense"
  "${qzo[@]}" quantize "$data/dense" "$data/nf4" --method nf4 --double-quant \
    --components transformer,text_encoder,text_encoder_2,text_encoder_3,vae
  "${qzo[@]}" quantize "$data/dense/transformer" "$data/fp4-transformer" --method nf4 --quant-type fp4 --block-size 128
  du -sh "$data"
  exit 0
fi
[ -d "$data/nf4" ] || { echo "$data/nf4 missing: run tests/oracle/run-sd3-nf4-check.sh --prepare here and carry .oracle"; exit 1; }
log=$(mktemp)
status=0
{
  python3 tests/oracle/sd3_nf4_check.py "$data/dense" "$data/nf4" || status=1
  python3 tests/oracle/sd3_nf4_check.py "$data/dense/transformer" "$data/fp4-transformer" || status=1
} > "$log" 2>&1
grep -E "^(SUMMARY|diffusers |torch )" "$log" | cut -c1-1500
[ $status -eq 0 ] || tail -n 60 "$log"
[ -n "${OUT:-}" ] && cp "$log" "$OUT/sd3-nf4-check-log.txt"
exit $status
