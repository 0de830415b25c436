#!/usr/bin/env bash
# Issue 14's full-size figures on the GPU machine: SD3.5 Large with random weights of the real shapes, its transformer
# quantized to NF4, one 1024² image with 28 steps and classifier-free guidance by `qzo imagine`, side by side with
# diffusers' bf16 pipeline and its transformer alone (bench/sd3_peer.py) on the same folder. Two phases, because one
# device call is limited to 10 minutes; the second must follow while the machine is still warm (its /tmp holds the
# 30 GB of checkpoints the first wrote):
#   bash bench/sd3-fullsize-device.sh prepare     # synth --preset large (bf16), quantize the transformer to NF4
#   bash bench/sd3-fullsize-device.sh measure     # qzo imagine on NF4, the diffusers peers (then qzo imagine on bf16)
#   bash bench/sd3-fullsize-device.sh all         # both phases in one call (with NO_T5=1 it fits one 10-minute call)
# PROFILE=1 adds a 6-step `QZO_PROFILE=1` imagine ($OUT/profile-imagine.txt). PIPELINE_PEER=0 leaves diffusers' whole
# pipeline out (its transformer alone still runs); DENSE=0 leaves out qzo imagine
# on the bf16 pipeline. NO_T5=1 leaves T5-XXL out (synth --no-t5, imagine --no-t5; diffusers then gives the transformer zeros in its place, as
# Qzo does), which halves what prepare writes; the denoising loop is the same (77 + 256 context tokens either way).
# run tool: carry [".gpu", ".oracle"] (.oracle/diffusers-src.tar.xz: tests/oracle/pack-diffusers.sh). Results: $OUT/*.json,
# $OUT/fullsize.log. Set WORK to keep the checkpoints elsewhere than /tmp/qzo-sd3-large.
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/sd3-device-common.sh"
log="$out/fullsize.log"
size=${SIZE:-1024}; steps=${STEPS:-28}
t5_flag=(); [ "${NO_T5:-0}" = 1 ] && t5_flag=(--no-t5)
prompt="a red fox in the snow"

prepare() {
    nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee -a "$log"
    df -h "$work" | tail -1 | tee -a "$log"
    rm -rf "$work/dense" "$work/nf4"
    timed synth-large $qzo synth --architecture sd3 --preset large "${t5_flag[@]}" --out "$work/dense" || exit 1
    du -sh "$work/dense"/*/ | tee -a "$log"
    timed quantize-nf4 $qzo quantize "$work/dense" "$work/nf4" --method nf4 || exit 1
    du -sh "$work/nf4"/*/ | tee -a "$log"
}

measure() {
    [ -d "$work/nf4" ] || { echo "$work/nf4 is missing: run the prepare phase first on this machine" >&2; exit 1; }
    common=(--prompt "$prompt" --steps "$steps" --guidance 3.5 --size "$size" --seed 0 --device cuda --force "${t5_flag[@]}")
    timed imagine-nf4 $qzo imagine "$work/nf4" "${common[@]}" --out "$work/images-nf4"
    cp "$work/images-nf4/imagine.json" "$out/qzo-imagine-nf4.json" 2>/dev/null
    if [ "${PROFILE:-0}" = 1 ]; then  # every operation synchronized and timed: where a step's time goes (6 steps)
      timed imagine-nf4-profile env QZO_PROFILE=1 $qzo imagine "$work/nf4" "${common[@]/#$steps/6}" --out "$work/images-profile"
      cp "$work/imagine-nf4-profile.txt" "$out/profile-imagine.txt"
    fi
    cd "$root" || exit 1
    timed peer-transformer python3 bench/sd3_peer.py "$work/dense" --mode transformer --size "$size" --steps "$steps" \
      --json "$out/diffusers-transformer-bf16.json"
    [ "${PIPELINE_PEER:-1}" = 1 ] && timed peer-pipeline python3 bench/sd3_peer.py "$work/dense" --mode pipeline --size "$size" --steps "$steps" \
      --json "$out/diffusers-pipeline-bf16.json"
    if [ "${DENSE:-1}" = 1 ]; then
      timed imagine-bf16 $qzo imagine "$work/dense" "${common[@]}" --out "$work/images-bf16"
      cp "$work/images-bf16/imagine.json" "$out/qzo-imagine-bf16.json" 2>/dev/null
    fi
    cp "$work/images-nf4/"*.png "$out/" 2>/dev/null
}

case "${1:-}" in
  prepare) prepare ;;
  measure) measure ;;
  all) prepare && measure ;;
  *) echo "usage: bash bench/sd3-fullsize-device.sh prepare|measure|all" >&2; exit 2 ;;
esac
