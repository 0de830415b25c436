#!/usr/bin/env bash
# The device tool sends the whole working tree (tracked files included, 64 MiB at most) and the device binary in .gpu
# is ~31 MiB of it. The test fixtures under tests/fixtures (~40 MiB) are never read there: the device tests read the
# copy that bench/publish-device.sh puts in .gpu/fixtures. So, around a device call:
#   bash bench/device-tree.sh hide     # moves tests/fixtures to ../.qzo-fixtures-held (outside the tree)
#   bash bench/device-tree.sh restore  # moves it back (also run by `hide` when a previous hide was never restored)
#   bash bench/device-tree.sh size     # what would travel now, in MiB
set -eu
cd "$(dirname "$0")/.."
held=../.qzo-fixtures-held
travel_size() {
  local tracked untracked carried=0
  tracked=$(git ls-files -z | xargs -0 -r du -cb 2>/dev/null | awk '$2 == "total" {s += $1} END {print s + 0}')
  untracked=$(git ls-files -z --others --exclude-standard | xargs -0 -r du -cb 2>/dev/null | awk '$2 == "total" {s += $1} END {print s + 0}')
  [ -d .gpu ] && carried=$(du -sb .gpu | cut -f1)
  echo "the tree that travels with .gpu carried: $(((tracked + untracked + carried) >> 20)) MiB of 64"
}
case "${1:-}" in
  hide)
    [ -d "$held" ] && [ ! -d tests/fixtures ] && { echo "tests/fixtures is already held in $held"; travel_size; exit 0; }
    [ -d "$held" ] && { echo "$held exists beside tests/fixtures: restore or remove it first" >&2; exit 1; }
    mv tests/fixtures "$held"
    travel_size ;;
  restore)
    [ -d "$held" ] || { echo "nothing held"; exit 0; }
    [ -d tests/fixtures ] && { echo "both tests/fixtures and $held exist: merge by hand" >&2; exit 1; }
    mv "$held" tests/fixtures
    echo "tests/fixtures restored" ;;
  size) travel_size ;;
  *) echo "usage: bash bench/device-tree.sh hide|restore|size" >&2; exit 2 ;;
esac
