# Sourced by the SD3 device scripts (bench/sd3-*-device.sh) after they set $root (the repository): the CUDA libraries,
# the unpacked device binary ($qzo), the scratch folder $work (WORK, default /tmp/qzo-sd3-large: the checkpoints one
# call writes stay for the next while the machine is warm), $out ($OUT, what comes back), and, once the script sets $log:
#   note TEXT...            : prints a line and appends it to $log
#   timed NAME COMMAND...   : runs COMMAND with its output in $work/NAME.txt, logs "ok|FAILED NAME: S s, nvidia-smi peak
#                             M MiB" (the GPU's memory sampled every 0.2 s) and the output's last ${TAIL_LINES:-25} lines
set -u
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
bash "$root/bench/unpack-device.sh" "$root/.gpu" || exit 1
qzo="$root/.gpu/qzo-device qzo"
work=${WORK:-/tmp/qzo-sd3-large}
out=${OUT:?OUT must name the folder whose files come back}
mkdir -p "$work"
note() { echo "$*" | tee -a "$log"; }
timed() {
  local name=$1; shift
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$work/smi-$name.txt" 2>/dev/null &
  local smi=$! start=$(date +%s%N)
  "$@" > "$work/$name.txt" 2>&1; local status=$?
  local elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  kill $smi 2>/dev/null; wait $smi 2>/dev/null
  local peak=$(sort -n "$work/smi-$name.txt" | tail -1)
  note "$([ $status -eq 0 ] && echo ok || echo FAILED) $name: $((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000))) s, nvidia-smi peak ${peak:-?} MiB"
  tr '\r' '\n' < "$work/$name.txt" | grep -v '^\s*$' | tail -n "${TAIL_LINES:-25}" | sed 's/^/    /' >> "$log"
  return $status
}
