#!/usr/bin/env bash
# Every quantizer at 2 and 4 bits on the same teachers as gptq-quality.sh: RTN and GPTQ (GPTQ layout), AQLM 2x8 and
# 1x16, bitsandbytes NF4 with and without double quantization. Per row: bits per weight of the decoder-layer linears
# with everything they store (on this model, and for the same config on a 4096×4096 linear), the mean relative output
# error ‖XWᵀ − XŴᵀ‖/‖XWᵀ‖ on the calibration inputs (GPTQ's own report; the other methods measured the same way with
# --calibration), and the held-out loss on teacher samples. CPU only; about 15 minutes on 2 cores.
# Usage: bench/quantizer-quality.sh [WORK_FOLDER]  (bench/results/2026-11-23-quantizers-cpu/ came from this script)
set -euo pipefail
work=${1:-$(mktemp -d)}
source "$(dirname "$0")/quality-common.sh"
bpw() { python3 "$repo/bench/bits_per_weight.py" "$@"; }

row() { # label, config, output folder, formula args; the folder's .json holds mean_relative_error
  echo "| $1 | $2 | $(bpw stored teacher "$3") | $(bpw formula 4096 4096 $4) | $(json "$3.json" mean_relative_error) | $(loss "$3" test.jsonl) |"
}
rtn() { qzo quantize --force --method rtn --bits "$1" --group-size "$2" "${calibration[@]}" --report "rtn-$1-$2.json" teacher "rtn-$1-$2" > /dev/null
        row RTN "$1-bit, group $2" "rtn-$1-$2" "gptq $1 $2"; }
gptq() { qzo quantize --force --method gptq --bits "$1" --group-size "$2" --desc-act "${calibration[@]}" --report "gptq-$1-$2.json" teacher "gptq-$1-$2" > /dev/null
         row GPTQ "$1-bit, group $2, act-order" "gptq-$1-$2" "gptq $1 $2"; }
aqlm() { qzo quantize --force --method aqlm --scheme "$1" "${calibration[@]}" --report "aqlm-$1.json" teacher "aqlm-$1" > /dev/null
         row AQLM "$1, in-group 8" "aqlm-$1" "aqlm ${1/x/ } 8"; }
nf4() { local flag=(); [ "$1" = 1 ] && flag=(--double-quant)
        qzo quantize --force --method nf4 "${flag[@]}" "${calibration[@]}" --report "nf4-$1.json" teacher "nf4-$1" > /dev/null
        row NF4 "block 64$([ "$1" = 1 ] && echo ", double quant")" "nf4-$1" "nf4 64 $1"; }

table() { # name, synth options, AQLM schemes
  local dir="$work/$1"; mkdir -p "$dir"; cd "$dir"
  make_teacher "$2"
  echo; echo "### $1 teacher: qzo synth $2"; echo
  echo "| method | config | bits/weight here | bits/weight at 4096×4096 | rel. layer error | held-out loss |"
  echo "|---|---|---|---|---|---|"
  echo "| unquantized | bf16 | 16 | 16 | 0 | $(loss teacher test.jsonl) |"
  rtn 2 128; gptq 2 128; rtn 2 32; gptq 2 32
  for scheme in $3; do aqlm "$scheme"; done
  rtn 4 128; gptq 4 128; nf4 0; nf4 1
}

table structured "$structured_teacher" "2x8 1x16"
table plain "$plain_teacher" "2x8 1x16"
# Wider: AQLM 2x8's codebooks cost 0.06 bits/weight here instead of up to 1. 1x16 is left out: its 65,536 codewords
# would still be one per two 8-weight groups of a q_proj (8 bits/weight of codebook), and its k-means takes too long on 2 cores.
table wide "--hidden 1024 --layers 2 --heads 16 --kv-heads 4 --vocab 1024 --low-rank 64 --outliers 16 --seed 1" "2x8"
