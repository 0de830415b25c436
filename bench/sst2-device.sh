#!/usr/bin/env bash
# Issue 16's SST-2 row on the GPU machine, in one call of under 9 minutes: the wall time of a 20,000-step
# `qzo finetune --task sst2` (QZO, MeZO's sampling, the paper's settings, evaluation every 4,000 steps) on a
# Llama-2-7B-shape GPTQ 4-bit g128 model, measured over the first STEPS (2,000) steps and extrapolated, with the
# evaluations, the save of the run state and everything outside the training loop timed apart (paper: OPT-6.7B,
# 2 h 16 min on an RTX 4090; target: 12 min on an H100).
#   bash bench/sst2-device.sh            run tool: carry [".gpu"] (bash bench/publish-device.sh first)
# What it does, and what stands in for what:
#   1. model  `qzo synth` writes a Llama-2-7B-shape bf16 checkpoint (hidden 4096, intermediate 11008, 32 layers, 32 heads,
#             vocab 32000, low-rank structure as trained weights have), `qzo quantize --method rtn --bits 4 --group-size
#             128` turns it into the GPTQ layout (desc_act false) and the bf16 copy is deleted. Round-to-nearest, not GPTQ
#             with calibration data: that takes minutes per layer-group on 7B (bench/gptq-device.sh e2e runs 2 of 32
#             layers in one call) and cannot fit this call; the step time depends on the layout, not on the values.
#             The synthesized tokenizer is replaced by Llama-2's real one (.gpu/tokenizers/llama2 from
#             bench/publish-device.sh; TOKENIZER names another folder holding tokenizer.json.xz), so the verbalizers
#             are single tokens as for a real Llama-2 and each example runs once (src/Qzo/Tasks/CandidateScoring.cs).
#   2. data   bench/sst2_data.py writes glue/sst2's splits and schema (sentence, label, idx; 67,349 / 872 / 1,821 rows)
#             with SYNTHETIC text of SST-2's lengths measured in Llama-2 tokens; only the timing is meaningful.
#   3. run    `qzo finetune --task sst2 --sampling mezo` (1,000 train, 500 dev, 872 test), lr 1e-7 (constant), eps 1e-3,
#             DDC C = 100, batch 16, --steps STEPS --eval-every EVAL_EVERY (the lr is constant, so the first 2,000 steps
#             of a 20,000-step run are exactly these), run state saved every 500 steps as a 20,000-step run does.
#   4. sst2-run.json (bench/sst2_summary.py): step seconds (median, mean, p90), each evaluation's seconds, the extras
#             of the best-state copy and the save, load and test times, and the extrapolated 20,000-step wall time.
# Results in $OUT (6 files): sst2-run.json, log.txt, metrics.jsonl, results.json, config.json, gpu.txt.
# Settings (environment): STEPS (2000), EVAL_EVERY (1000), TARGET_STEPS (20000), TARGET_EVAL_EVERY (4000),
# CHECKPOINT_EVERY (500), DEVICE (cuda), BUDGET_S (470: the finetune is stopped so that the whole script ends by then;
# sst2-run.json then times the steps done), TRAIN_LENGTHS (sentences; phrases: GLUE's shorter train split), SAVE (1:
# the run writes its tuned model as a real run does), shape: HIDDEN INTERMEDIATE LAYERS HEADS VOCAB LOW_RANK.
# PARTS ("model run") splits it over two calls on one warm machine ("compare" adds issue 16's fp8 agreement figure:
# COMPARE_STEPS steps with --compare-compute fp8 → compare-compute.json, within COMPARE_LIMIT_S, 300); the model and
# data stay in $WORK (/tmp/qzo-sst2) and are reused while their shape matches. QZO (a command) runs another qzo, e.g. on the CPU at a tiny shape:
#   QZO=src/Qzo.Cli/bin/Release/net10.0/qzo DEVICE=cpu HIDDEN=128 INTERMEDIATE=384 LAYERS=2 HEADS=4 LOW_RANK=16 \
#     STEPS=120 EVAL_EVERY=40 CHECKPOINT_EVERY=20 SAVE=0 OUT=/tmp/sst2-out bash bench/sst2-device.sh
set -u
start=$(date +%s.%N)
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:?OUT must name the folder whose files come back}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
if [ -z "${QZO:-}" ]; then
  export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
  bash "$root/bench/unpack-device.sh" "$root/.gpu" || exit 1
  QZO="$root/.gpu/qzo-device qzo"
fi
work=${WORK:-/tmp/qzo-sst2}; mkdir -p "$work"
parts=" ${PARTS:-model run} "
hidden=${HIDDEN:-4096} intermediate=${INTERMEDIATE:-11008} layers=${LAYERS:-32} heads=${HEADS:-32} vocab=${VOCAB:-32000}
low_rank=${LOW_RANK:-64}
steps=${STEPS:-2000} eval_every=${EVAL_EVERY:-1000} checkpoint_every=${CHECKPOINT_EVERY:-500} device=${DEVICE:-cuda}
budget=${BUDGET_S:-470}
log="$out/log.txt"
shape="hidden $hidden intermediate $intermediate layers $layers heads $heads vocab $vocab low-rank $low_rank"
shape+=", train lengths ${TRAIN_LENGTHS:-sentences}, tokenizer ${TOKENIZER:-llama2}"
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(date +%s.%N)"; }
say() { echo "[$(since "$start") s] $*" | tee -a "$log"; }
timed() {  # timed NAME LIMIT_S COMMAND...: runs it under a time limit, output to the log; NAME_s holds its seconds
  local name=$1 limit=$2 t0 rc; shift 2
  t0=$(date +%s.%N)
  timeout "$limit" "$@" >> "$log" 2>&1; rc=$?
  printf -v "${name}_s" %s "$(since "$t0")"
  local seconds="${name}_s"
  say "$name: ${!seconds} s (exit $rc)"
  return $rc
}
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi ($device)"
  nproc; free -g | sed -n 2p; } > "$out/gpu.txt"
say "sst2-device: $shape; $steps steps, eval every $eval_every, device $device ($(head -1 "$out/gpu.txt"))"

model="$work/gptq" data="$work/data" run="$work/run"
prepared=""  # name=seconds of the preparation steps this call ran
if [[ $parts == *" model "* ]]; then
  if [ -f "$model/.shape" ] && [ "$(cat "$model/.shape")" = "$shape" ] && [ -f "$data/lengths.json" ]; then
    say "reusing $model and $data ($shape)"
  else
    rm -rf "$model" "$data" "$work/bf16"
    # shellcheck disable=SC2086  # QZO is a command line
    timed synth 300 $QZO synth --out "$work/bf16" --hidden "$hidden" --intermediate "$intermediate" --layers "$layers" \
      --heads "$heads" --vocab "$vocab" --max-positions 4096 --low-rank "$low_rank" --outliers 16 --seed 1 || exit 1
    # shellcheck disable=SC2086
    timed quantize 240 $QZO quantize --method rtn --bits 4 --group-size 128 "$work/bf16" "$model" || exit 1
    rm -rf "$work/bf16"
    # The real Llama-2 tokenizer in place of the synthesized one (same 32,000 ids): SST-2's " terrible" and " great" are
    # then one token each, as for a real Llama-2, and each example runs once (src/Qzo/Tasks/CandidateScoring.cs).
    tokenizer=${TOKENIZER:-$root/.gpu/tokenizers/llama2}
    if [ -f "$tokenizer/tokenizer.json.xz" ]; then
      xz -dc "$tokenizer/tokenizer.json.xz" > "$model/tokenizer.json" && cp "$tokenizer/tokenizer_config.json" "$model/"
      say "tokenizer: $tokenizer"
    fi
    timed data 120 python3 "$root/bench/sst2_data.py" --tokenizer "$model/tokenizer.json" --out "$data" \
      --train-lengths "${TRAIN_LENGTHS:-sentences}" --check "$QZO" || exit 1
    grep -E "^(train|validation|test) +[0-9]+ rows" "$log" | tail -3
    prepared="synth=$synth_s,quantize=$quantize_s,data=$data_s"
    echo "$shape" > "$model/.shape"
    du -sh "$model" | tee -a "$log"
  fi
fi
[ -f "$model/.shape" ] || { echo "no model in $model: run PARTS=model first" >&2; exit 1; }
if [[ $parts == *" compare "* ]]; then
  # Issue 16's FP8 figure: COMPARE_STEPS steps (200) of the same run, each probe's loss also in fp8 (--compare-compute):
  # how well fp8's d' tracks bf16's on this model. Small dev and test samples: only the steps matter here.
  # shellcheck disable=SC2086
  timed compare "${COMPARE_LIMIT_S:-300}" $QZO finetune "$model" --method qzo --task sst2 --data "$data" --sampling mezo --data-seed 0 \
    --lr 1e-7 --eps 1e-3 --clip 100 --batch-size 16 --seed 0 --steps "${COMPARE_STEPS:-200}" --eval-every 0 --num-dev 16 \
    --num-eval 16 --compare-compute fp8 --device "$device" --run "$work/compare" --force --no-save
  python3 - "$work/compare/results.json" "$out/compare-compute.json" <<'PY' 2>&1 | tee -a "$log"
import json, sys
results = json.load(open(sys.argv[1]))
compare = results["compare_compute"]
compare["seconds_per_step"] = results["seconds_per_step"]  # four forward passes a step
json.dump(compare, open(sys.argv[2], "w"), indent=1)
print({k: v for k, v in compare.items() if not k.startswith("d_")})
PY
fi
[[ $parts == *" run "* ]] || exit 0

# The finetune gets what is left of the budget, less 20 s for the summary; a run stopped early still has its metrics.
limit=$(python3 -c "import sys; print(max(60, int(float(sys.argv[1]) - float(sys.argv[2]) - 20)))" "$budget" "$(since "$start")")
save=(); [ "${SAVE:-1}" = 1 ] || save=(--no-save)
say "finetune: at most $limit s"
# shellcheck disable=SC2086
timed finetune "$limit" $QZO finetune "$model" --method qzo --task sst2 --data "$data" --sampling mezo --data-seed 0 \
  --lr 1e-7 --eps 1e-3 --clip 100 --batch-size 16 --seed 0 --steps "$steps" --eval-every "$eval_every" \
  --checkpoint-every "$checkpoint_every" --device "$device" --run "$run" --force "${save[@]}"
python3 "$root/bench/sst2_summary.py" --run "$run" --out "$out/sst2-run.json" --process-seconds "$finetune_s" \
  --target-steps "${TARGET_STEPS:-20000}" --target-eval-every "${TARGET_EVAL_EVERY:-4000}" \
  --prepare "$prepared" --data-lengths "$data/lengths.json" \
  --note "model: Llama-2-7B shape ($shape) from qzo synth, RTN 4-bit g128 in the GPTQ layout (desc_act false)" \
  --note "data: SYNTHETIC text with SST-2's schema, sizes and lengths (bench/sst2_data.py); timing only" \
  --note "lr constant: $steps steps train exactly as the first $steps of a ${TARGET_STEPS:-20000}-step run" \
  2>&1 | tee -a "$log"
cp "$run/metrics.jsonl" "$run/config.json" "$out/" 2>/dev/null
cp "$run/results.json" "$out/" 2>/dev/null
say "done"
