#!/usr/bin/env bash
# Issue 15's figures on the GPU machine: QZO on an SD3.5-Large-shaped NF4 transformer (random weights of the real
# shapes) at batch 16 and 512², step time and peak memory by `qzo finetune --images`, side by side in the same call
# with the PyTorch peers of bench/sd3_zo_peer.py (the same ZO step written plainly on diffusers' SD3Transformer2DModel,
# and a first-order LoRA step with peft for memory).
#   bash bench/sd3-train-device.sh
# It reuses $WORK/dense and $WORK/nf4 when bench/sd3-fullsize-device.sh prepared them on this machine (same WORK,
# default /tmp/qzo-sd3-large), else synthesizes them (--no-t5: T5's part of the context is zeros, the training step is
# the same shape). Then: 40 styled-shapes images at 512² (32 train, 8 held out), `qzo prepare` (VAE posteriors, CLIP
# embeddings; T5 tokens 77 as the official code), STEPS QZO steps of batch 16, and the peers on the same shapes.
# run tool: carry [".gpu", ".oracle"]. Results: $OUT/train.log, $OUT/qzo-train.json (results.json of the run, plus
# per-step seconds from its metrics.jsonl), $OUT/peer-zo.json, $OUT/peer-lora*.json. STEPS (6) QZO steps; PEER_STEPS (3)
# timed steps of each peer; LORA_PLAIN=0 leaves out the LoRA peer without gradient checkpointing, LORA=0 both; PEERS=0 all peers;
# QZO=0 skips the plain QZO run and SKIP_PREPARE=1 the dataset and its cache (a second call on the same warm machine);
# FINETUNE_ARGS adds arguments to the QZO run (e.g. "--compute fp8") and TAG names its files (qzo-train$TAG.json).
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/sd3-device-common.sh"
log="$out/train.log"
steps=${STEPS:-6}; batch=${BATCH:-16}; resolution=${RESOLUTION:-512}

if [ "${PEERS:-1}" = 1 ] && [ ! -f "$root/.oracle/diffusers-src.tar.xz" ]; then  # the peers import diffusers from there
  echo "$root/.oracle/diffusers-src.tar.xz: not found (bash tests/oracle/pack-diffusers.sh here, carry .oracle; or PEERS=0)" >&2
  exit 1
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee -a "$log"
if [ ! -d "$work/nf4/transformer" ]; then
  rm -rf "$work/dense" "$work/nf4"
  timed synth-large $qzo synth --architecture sd3 --preset large --no-t5 --out "$work/dense" || exit 1
  timed quantize-nf4 $qzo quantize "$work/dense" "$work/nf4" --method nf4 || exit 1
fi
if [ "${SKIP_PREPARE:-0}" = 0 ]; then  # SKIP_PREPARE=1: the cache of an earlier call on this warm machine
timed synth-shapes $qzo synth --dataset styled-shapes --count 40 --resolution "$resolution" --force --out "$work/shapes" || exit 1
timed prepare $qzo prepare "$work/nf4" --images "$work/shapes" --out "$work/cache" --resolution "$resolution" --no-t5 \
  --device cuda --force || exit 1
fi
if [ "${QZO:-1}" = 1 ]; then
timed "qzo-train${TAG:-}" $qzo finetune "$work/nf4" --images "$work/cache" --run "$work/run" --steps "$steps" --batch-size "$batch" \
  --eval-every 0 --validation-limit 8 --sample-count 0 --no-save --device cuda --force ${FINETUNE_ARGS:-}
python3 - "$work/run" "$out/qzo-train${TAG:-}.json" <<'EOF' | tee -a "$log"
import json, statistics, sys
run, dest = sys.argv[1], sys.argv[2]
results = json.load(open(f"{run}/results.json"))
lines = [json.loads(l) for l in open(f"{run}/metrics.jsonl")]
# a step's time is the elapsed clock since the line before it; the first step (warm-up) and steps after an evaluation
# are left out
step_seconds = [b["elapsed_s"] - a["elapsed_s"] for a, b in zip(lines, lines[1:]) if a["type"] == "step" and b["type"] == "step"]
results["step_seconds_after_first"] = step_seconds
results["median_step_seconds"] = statistics.median(step_seconds) if step_seconds else None
results["losses"] = [(l["loss_plus"], l["loss_minus"]) for l in lines if l["type"] == "step"]
json.dump(results, open(dest, "w"), indent=1)
print("qzo: median step", results["median_step_seconds"], "s; peak bytes", results["peak_bytes"])
EOF
fi
# PROFILES="host 1": one more run per mode with QZO_PROFILE set (docs/kernels.md §8), PROFILE_STEPS steps (6) of which
# steps 2 to N-1 are profiled -> $OUT/profile-train-MODE.txt.
for mode in ${PROFILES:-}; do
  TAIL_LINES=60 timed "qzo-train-profile-$mode" env QZO_PROFILE="$mode" $qzo finetune "$work/nf4" --images "$work/cache" \
    --run "$work/run-profile-$mode" --steps "${PROFILE_STEPS:-6}" --batch-size "$batch" --eval-every 0 --validation-limit 8 \
    --sample-count 0 --no-save --device cuda --force
  cp "$work/qzo-train-profile-$mode.txt" "$out/profile-train-$mode.txt"
done
[ "${PEERS:-1}" = 0 ] && exit 0
cd "$root" || exit 1
tokens=154  # 77 CLIP tokens + 77 T5 tokens, as qzo prepare's default --max-sequence-length
timed peer-zo python3 bench/sd3_zo_peer.py "$work/nf4" --mode zo --batch "$batch" --resolution "$resolution" \
  --text-tokens $tokens --steps "${PEER_STEPS:-3}" --json "$out/peer-zo.json"
[ "${LORA:-1}" = 1 ] && timed peer-lora-checkpointed python3 bench/sd3_zo_peer.py "$work/dense" --mode lora --batch "$batch" --resolution "$resolution" \
  --text-tokens $tokens --steps "${PEER_STEPS:-3}" --gradient-checkpointing --json "$out/peer-lora-checkpointed.json"
[ "${LORA:-1}" = 1 ] && [ "${LORA_PLAIN:-1}" = 1 ] && timed peer-lora python3 bench/sd3_zo_peer.py "$work/dense" --mode lora --batch "$batch" \
  --resolution "$resolution" --text-tokens $tokens --steps "${PEER_STEPS:-3}" --json "$out/peer-lora.json"
exit 0
