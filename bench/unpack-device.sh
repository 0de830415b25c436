#!/usr/bin/env bash
# On the GPU machine: unpacks FOLDER/qzo-device.xz (what bench/publish-device.sh leaves, small enough for the device
# tool's 64 MiB tree) into FOLDER/qzo-device, once. Uses xz where installed, else Python's lzma.
# Usage: bash bench/unpack-device.sh [FOLDER]   (default .gpu)
set -eu
folder=${1:-.gpu}
[ -x "$folder/qzo-device" ] && [ ! "$folder/qzo-device.xz" -nt "$folder/qzo-device" ] && exit 0
[ -f "$folder/qzo-device.xz" ] || { echo "$folder/qzo-device.xz: not found (run bash bench/publish-device.sh here first)" >&2; exit 1; }
if command -v xz > /dev/null; then
  xz -d -T0 -c "$folder/qzo-device.xz" > "$folder/qzo-device.tmp"
else
  python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'))" \
    "$folder/qzo-device.xz" "$folder/qzo-device.tmp"
fi
chmod +x "$folder/qzo-device.tmp"
mv "$folder/qzo-device.tmp" "$folder/qzo-device"
