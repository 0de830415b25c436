#!/usr/bin/env bash
# The SD3.5 parity oracle in one device call (tests/oracle/sd3_reference.py says what it writes). Needs .oracle/
# carried (bash tests/oracle/pack-diffusers.sh makes .oracle/diffusers-src.tar.xz: diffusers v0.39.0's sources).
#   bash tests/oracle/run-sd3-oracle.sh [CASE ...]          run tool: carry [".oracle"]
# Brings back $OUT/sd3-fixtures.tgz (the folder sd3/) and $OUT/sd3-oracle-log.txt; store them with
#   bash tests/oracle/pack-sd3-fixtures.sh <files_at>/sd3-fixtures.tgz
# (one tests/fixtures/sd3/CASE.tar.gz per case) and commit them.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=${OUT:?OUT must name the folder whose files come back}
work=$(mktemp -d)
mkdir -p "$work/sd3"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1
timeout 540 python3 tests/oracle/sd3_reference.py "$work/sd3" "$@" > "$work/sd3/oracle-log.txt" 2>&1
status=$?
grep -E "^(SUMMARY|diffusers |tokenizers:)" "$work/sd3/oracle-log.txt" | cut -c1-1500
[ $status -eq 0 ] || tail -n 60 "$work/sd3/oracle-log.txt"
cp "$work/sd3/oracle-log.txt" "$out/sd3-oracle-log.txt"
tar czf "$out/sd3-fixtures.tgz" -C "$work" sd3
echo "sd3-fixtures.tgz: $(du -h "$out/sd3-fixtures.tgz" | cut -f1); unpacked $(du -sh "$work/sd3" | cut -f1)"
du -sh "$work"/sd3/*/ 2>/dev/null
exit $status
