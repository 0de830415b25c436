#!/usr/bin/env bash
# Packs diffusers' Python sources (src/diffusers at tag v0.39.0) from the bare mirror into .oracle/diffusers-src.tar.xz,
# for tests/oracle/sd3_reference.py on the device machine, which has torch and transformers but no diffusers and no
# network. .oracle/ is ignored (.git/info/exclude) and travels to the device through the run tool's carry list.
#   bash tests/oracle/pack-diffusers.sh [OUT_DIR]      (OUT_DIR defaults to <repo>/.oracle)
# Environment: DIFFUSERS_MIRROR (the bare git dir), DIFFUSERS_TAG (default v0.39.0).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mirror=${DIFFUSERS_MIRROR:-/work/.mirror/huggingface+diffusers/repo}
tag=${DIFFUSERS_TAG:-v0.39.0}
out_dir=${1:-$root/.oracle}
mkdir -p "$out_dir"
out="$out_dir/diffusers-src.tar.xz"
git -C "$mirror" rev-parse --verify --quiet "$tag^{commit}" > /dev/null || { echo "no tag $tag in $mirror" >&2; exit 1; }
# A tag's archive carries its commit id in the pax header, which the oracle prints.
git -C "$mirror" archive --format=tar "$tag" src/diffusers | xz -9 > "$out.tmp"
mv "$out.tmp" "$out"
echo "$out: $(du -h "$out" | cut -f1) ($(stat -c %s "$out") bytes), diffusers $tag = $(git -C "$mirror" rev-parse "$tag^{commit}")"
if ! git -C "$root" check-ignore -q "$out"; then
  echo "warning: $out is not ignored by git; add the line '.oracle/' to the main repository's .git/info/exclude" >&2
fi
