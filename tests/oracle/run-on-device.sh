#!/usr/bin/env bash
# Every Python oracle in one device call (transformers 5.17 + torch there; nothing downloaded). The fixtures come
# back as one archive, $OUT/oracle-fixtures.tgz (the device tool returns at most 8 files); unpack it here with
#   tar xzf <files_at>/oracle-fixtures.tgz -C tests/fixtures
# and commit tests/fixtures/hf-arch and tests/fixtures/hf-tokenizers; then turn the waiting parity checks into tests
# (HuggingFaceParityTests.ArchitecturesMatchTransformers..., HfTokenizerOracleTests.EncodeMatchesAutoTokenizer...).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
mkdir -p "$work/hf-arch" "$work/hf-tokenizers"
cd "$root"
status=0
timeout 300 python3 tests/oracle/architectures_reference.py "$work/hf-arch" > "$work/hf-arch/oracle-log.txt" 2>&1 || status=1
timeout 200 python3 tests/oracle/tokenizers_reference.py "$work/hf-tokenizers" > "$work/hf-tokenizers/oracle-log.txt" 2>&1 || status=1
tail -5 "$work/hf-arch/oracle-log.txt" "$work/hf-tokenizers/oracle-log.txt"
tar czf "$OUT/oracle-fixtures.tgz" -C "$work" hf-arch hf-tokenizers
exit $status
