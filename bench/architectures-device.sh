#!/usr/bin/env bash
# Issue 13's "both architectures, every path" on one machine: for Qwen3 and Gemma 3, synth a small random checkpoint,
# quantize it with each quantizer (RTN, GPTQ with calibration, NF4, AQLM 2x8), fine-tune each with QZO, generate from
# the tuned checkpoint, and fine-tune the unquantized one with MeZO. One line per command (ok / FAILED) in
# $OUT/architectures.log, each command's output after it; the JSON summaries in $OUT/architectures/.
# Usage (GPU machine, published binary in .gpu/):  bash bench/architectures-device.sh
#       (any machine, the CLI):                     QZO="dotnet run -c Release --project src/Qzo.Cli --" DEVICE=cpu bash bench/architectures-device.sh
set -u
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
root=$(cd "$(dirname "$0")/.." && pwd)
device=${DEVICE:-cuda}
if [ -z "${QZO:-}" ]; then bash "$root/bench/unpack-device.sh" "$root/.gpu" || exit 1; QZO="$root/.gpu/qzo-device qzo"; fi
work=$(mktemp -d); results="$OUT/architectures"; log="$OUT/architectures.log"
mkdir -p "$results"; : > "$log"
failures=0
step() { # step NAME COMMAND...: runs it, one line ok/FAILED with its time, then its output (progress bars stripped)
  local name=$1; shift
  local start=$SECONDS
  if "$@" > "$work/out.txt" 2>&1; then echo "ok      $name ($((SECONDS - start)) s)" | tee -a "$log"
  else echo "FAILED  $name ($((SECONDS - start)) s)" | tee -a "$log"; failures=$((failures + 1)); fi
  tr '\r' '\n' < "$work/out.txt" | grep -v '^\s*$' | tail -n 15 | sed 's/^/    /' >> "$log"
}
for i in $(seq 0 63); do
  echo "{\"text\": \"Example $i: the quick brown fox jumps over the lazy dog $((i % 7)) times, and the cat counts $((i * 3)).\"}"
done > "$work/train.jsonl"
head -n 16 "$work/train.jsonl" > "$work/validation.jsonl"
tune=(--train "$work/train.jsonl" --validation "$work/validation.jsonl" --steps 20 --batch-size 8 --max-length 64
      --eval-every 10 --device "$device")
for arch in qwen3 gemma3_text; do
  d="$work/$arch"
  step "$arch synth" $QZO synth --architecture "$arch" --out "$d/dense" --hidden 256 --layers 4 --heads 4 --kv-heads 2 \
    --head-dim 64 --intermediate 512 --vocab 512
  step "$arch mezo" $QZO finetune "$d/dense" --method mezo --lr 1e-6 --eps 1e-3 "${tune[@]}" --json "$results/$arch-mezo.json"
  for method in rtn gptq nf4 aqlm; do
    extra=(); [ $method = gptq ] && extra=(--calibration "$work/train.jsonl" --calibration-length 32 --device "$device")
    [ $method = aqlm ] && extra=(--scheme 2x8)
    step "$arch quantize $method" $QZO quantize "$d/dense" "$d/$method" --method $method "${extra[@]}"
    step "$arch qzo $method" $QZO finetune "$d/$method" --lr 1e-5 --eps 1e-3 "${tune[@]}" --out "$d/$method-tuned" \
      --json "$results/$arch-qzo-$method.json"
    step "$arch generate $method-tuned" $QZO generate "$d/$method-tuned" --prompt "Example 3: the quick" \
      --prompt "the cat" --max-new-tokens 8 --device "$device" --json "$results/$arch-generate-$method.json"
  done
done
rm -rf "$work"
echo "$failures failed" | tee -a "$log"
[ $failures -eq 0 ]
