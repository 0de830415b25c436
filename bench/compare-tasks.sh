#!/usr/bin/env bash
# Zero-shot vs MeZO vs QZO on SST-2, RTE and SQuAD, one command each, on a small synthesized Llama and the task
# fixtures (tests/fixtures/tasks), then `qzo report`. On real checkpoints and data, drop the sampling and training
# flags: the tasks bring the paper's settings (1000/500/1000 examples, lr 1e-7, eps 1e-3, 20,000 steps, batch 16).
# Usage: bench/compare-tasks.sh [WORK_FOLDER]   (about 10 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release src/Qzo.Cli > /dev/null
Q=src/Qzo.Cli/bin/Release/net10.0/qzo
F=tests/fixtures/tasks/parquet
W=${1:-.demo/compare-tasks}
rm -rf "$W"
$Q synth --out "$W/tiny" --hidden 128 --layers 2 --heads 4 --kv-heads 2 --vocab 512 --seed 3
$Q quantize --bits 4 --group-size 32 "$W/tiny" "$W/tiny-gptq"
runs=()
for task in sst2 rte squad; do
  case $task in
    sst2) S=(--num-train 64 --num-dev 16) ;;
    rte) S=(--num-train 48 --num-dev 16) ;;
    squad) S=(--num-train 32 --num-dev 8 --max-new-tokens 16) ;;
  esac
  T=(--steps 300 --batch-size 8 --eval-every 50 --eps 1e-3 --lr 2e-5 --device cpu)
  $Q eval "$W/tiny" --task $task --data $F/$task "${S[@]}" --batch-size 8 --run "$W/runs/$task-zero-shot" --device cpu
  $Q finetune "$W/tiny" --method mezo --task $task --data $F/$task "${S[@]}" "${T[@]}" --run "$W/runs/$task-mezo"
  $Q finetune "$W/tiny-gptq" --task $task --data $F/$task "${S[@]}" "${T[@]}" --run "$W/runs/$task-qzo"
  runs+=("$W/runs/$task-zero-shot" "$W/runs/$task-mezo" "$W/runs/$task-qzo")
done
$Q report "${runs[@]}"
