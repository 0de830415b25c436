#!/usr/bin/env bash
# GPTQ vs RTN vs the unquantized model: per-layer relative output error and held-out loss, on a synthesized teacher
# with structure (low-rank weights and embeddings, outlier channels) and, for comparison, a plain random one.
# Everything runs on the CPU; about 15 minutes on 2 cores. Usage: bench/gptq-quality.sh [WORK_FOLDER]
# Prints one markdown table per teacher (the numbers in bench/results/2026-11-23-gptq-cpu/ came from this script).
set -euo pipefail
work=${1:-$(mktemp -d)}
source "$(dirname "$0")/quality-common.sh"

table() { # name, synth options, bit widths, group sizes
  local dir="$work/$1"; mkdir -p "$dir"; cd "$dir"
  make_teacher "$2"
  echo; echo "### $1 teacher: qzo synth $2"; echo
  echo "unquantized held-out loss: $(loss teacher test.jsonl)"; echo
  echo "| bits | group | act-order | rel. error GPTQ | rel. error RTN | held-out loss GPTQ | held-out loss RTN |"
  echo "|---|---|---|---|---|---|---|"
  for b in $3; do for g in $4; do
    qzo quantize --force --method rtn --bits "$b" --group-size "$g" teacher "rtn-$b-$g" > /dev/null
    local rtn; rtn=$(loss "rtn-$b-$g" test.jsonl)
    for act in no yes; do
      local flag=(); [ "$act" = yes ] && flag=(--desc-act)
      qzo quantize --force --method gptq --bits "$b" --group-size "$g" "${flag[@]}" "${calibration[@]}" \
          --report "gptq-$b-$g-$act.json" teacher "gptq-$b-$g-$act" > /dev/null
      local errors; errors=$(python3 -c "import json,sys; r = json.load(open(sys.argv[1])); print('%.4f | %.4f' % (r['mean_relative_error'], r['mean_rtn_relative_error']))" "gptq-$b-$g-$act.json")
      echo "| $b | $g | $act | $errors | $(loss "gptq-$b-$g-$act" test.jsonl) | $rtn |"
    done
  done; done
}

table structured "$structured_teacher" "2 3 4" "32 128"
table plain "$plain_teacher" "3 4" "128"
