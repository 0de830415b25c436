#!/usr/bin/env bash
# Turns what tests/oracle/run-sd3-oracle.sh brought back (sd3-fixtures.tgz: the folder sd3/ with one folder per case)
# into the stored form tests/Qzo.Tests/Sd3Fixtures.cs reads: tests/fixtures/sd3/CASE.tar.gz, reproducible bytes.
#   bash tests/oracle/pack-sd3-fixtures.sh <files_at>/sd3-fixtures.tgz
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar xzf "${1:?usage: pack-sd3-fixtures.sh sd3-fixtures.tgz}" -C "$work"
mkdir -p "$root/tests/fixtures/sd3"
for dir in "$work"/sd3/*/; do
  name=$(basename "$dir")
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00Z' -C "$work/sd3" -cf - "$name" \
    | gzip -9 -n > "$root/tests/fixtures/sd3/$name.tar.gz"
done
cp "$work/sd3/summary.json" "$root/tests/fixtures/sd3/summary.json"
gzip -9 -n -c "$work/sd3/oracle-log.txt" > "$root/tests/fixtures/sd3/oracle-log.txt.gz"
du -sh "$root/tests/fixtures/sd3"
