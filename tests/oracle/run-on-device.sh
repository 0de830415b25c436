#!/usr/bin/env bash
# Every Python oracle in one device call (transformers 5.17 + torch there; nothing downloaded):
#   * architectures_reference.py, tokenizers_reference.py (issue 5): fixtures for the CPU tests;
#   * formats_reference.py (issue 7): NF4/FP4 (double quant) and AQLM 1x16/2x8 checkpoints written and tuned by the
#     published qzo (.gpu/qzo-device qzo), dequantized by Qzo and checked against plain-PyTorch references;
#   * tasks_reference.py (issue 6): Parquet.Net files read by pyarrow, pyarrow files read by qzo, numpy's sampling.
# Everything comes back as one archive, $OUT/oracle-fixtures.tgz (the device tool returns at most 8 files); unpack with
#   tar xzf <files_at>/oracle-fixtures.tgz -C tests/fixtures
# and commit tests/fixtures/hf-arch and tests/fixtures/hf-tokenizers (the formats/ and tasks/ logs are for the note).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
mkdir -p "$work/hf-arch" "$work/hf-tokenizers" "$work/oracle-formats" "$work/oracle-tasks"
cd "$root"
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
bash bench/unpack-device.sh .gpu 2>/dev/null
qzo=".gpu/qzo-device qzo"
status=0
timeout 300 python3 tests/oracle/architectures_reference.py "$work/hf-arch" > "$work/hf-arch/oracle-log.txt" 2>&1 || status=1
timeout 200 python3 tests/oracle/tokenizers_reference.py "$work/hf-tokenizers" > "$work/hf-tokenizers/oracle-log.txt" 2>&1 || status=1

fx="$work/oracle-formats"
log="$fx/oracle-log.txt"
{
  $qzo synth --out "$fx/dense" --hidden 128 --layers 2 --heads 4 --intermediate 256 --vocab 512
  $qzo quantize "$fx/dense" "$fx/nf4-dq" --method nf4 --double-quant
  $qzo quantize "$fx/dense" "$fx/nf4" --method nf4
  $qzo quantize "$fx/dense" "$fx/fp4" --method nf4 --quant-type fp4 --block-size 128
  $qzo quantize "$fx/dense" "$fx/aqlm-2x8" --method aqlm --scheme 2x8
  $qzo quantize "$fx/dense" "$fx/aqlm-1x16" --method aqlm --scheme 1x16
  for i in $(seq 1 32); do echo "{\"text\": \"the quick brown fox number $i jumps over the lazy dog\"}"; done > "$fx/train.jsonl"
  for f in nf4-dq aqlm-2x8; do
    $qzo finetune "$fx/$f" --train "$fx/train.jsonl" --out "$fx/$f-tuned" --steps 20 --lr 1e-3 --eps 1e-2 --batch-size 4 --device cuda | tail -3
  done
  for f in nf4-dq nf4 fp4 aqlm-2x8 aqlm-1x16 nf4-dq-tuned aqlm-2x8-tuned; do
    $qzo inspect "$fx/$f" --dequantize "$fx/$f.dump.safetensors"
    echo "== $f"
    timeout 60 python3 tests/oracle/formats_reference.py "$fx/$f" "$fx/$f.dump.safetensors" --source "$fx/dense" || echo "FORMAT ORACLE FAILED: $f"
  done
} > "$log" 2>&1
grep -q "FORMAT ORACLE FAILED" "$log" && status=1
rm -rf "$fx"/*/ "$fx"/*.safetensors

timeout 120 python3 tests/oracle/tasks_reference.py "$work/oracle-tasks/pyarrow" "$qzo" > "$work/oracle-tasks/oracle-log.txt" 2>&1 || status=1
rm -rf "$work/oracle-tasks/pyarrow"

tail -5 "$work"/*/oracle-log.txt
tar czf "$OUT/oracle-fixtures.tgz" -C "$work" hf-arch hf-tokenizers oracle-formats oracle-tasks
exit $status
