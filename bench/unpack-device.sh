#!/usr/bin/env bash
# On the GPU machine: unpacks FOLDER/qzo-device.xz (what bench/publish-device.sh leaves, small enough for the device
# tool's 64 MiB tree) into FOLDER/qzo-device, once (and libSkiaSharp.so.xz beside it). Uses xz where installed, else Python's lzma.
# Usage: bash bench/unpack-device.sh [FOLDER]   (default .gpu)
set -eu
folder=${1:-.gpu}
unxz_to() {  # unxz_to FILE.xz FILE
  if command -v xz > /dev/null; then
    xz -d -T0 -c "$1" > "$2.tmp"
  else
    python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'))" "$1" "$2.tmp"
  fi
  chmod +x "$2.tmp"
  mv "$2.tmp" "$2"
}
if [ -f "$folder/libSkiaSharp.so.xz" ] && [ "$folder/libSkiaSharp.so.xz" -nt "$folder/libSkiaSharp.so" ]; then
  unxz_to "$folder/libSkiaSharp.so.xz" "$folder/libSkiaSharp.so"
fi
[ -x "$folder/qzo-device" ] && [ ! "$folder/qzo-device.xz" -nt "$folder/qzo-device" ] && exit 0
[ -f "$folder/qzo-device.xz" ] || { echo "$folder/qzo-device.xz: not found (run bash bench/publish-device.sh here first)" >&2; exit 1; }
unxz_to "$folder/qzo-device.xz" "$folder/qzo-device"
