# Sourced by the device benchmark scripts (bench/sd3-*-device.sh); they set $work (scratch) and $log first.
#   note TEXT...            : prints a line and appends it to $log
#   timed NAME COMMAND...   : runs COMMAND with its output in $work/NAME.txt, logs "ok|FAILED NAME: S s, nvidia-smi peak
#                             M MiB" (the GPU's memory sampled every 0.2 s) and the output's last ${TAIL_LINES:-25} lines
note() { echo "$*" | tee -a "$log"; }
timed() {
  local name=$1; shift
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$work/smi-$name.txt" 2>/dev/null &
  local smi=$! start=$(date +%s.%N)
  "$@" > "$work/$name.txt" 2>&1; local status=$?
  local end=$(date +%s.%N)
  kill $smi 2>/dev/null; wait $smi 2>/dev/null
  local peak=$(sort -n "$work/smi-$name.txt" | tail -1)
  note "$([ $status -eq 0 ] && echo ok || echo FAILED) $name: $(awk "BEGIN {printf \"%.1f\", $end - $start}") s, nvidia-smi peak ${peak:-?} MiB"
  tr '\r' '\n' < "$work/$name.txt" | grep -v '^\s*$' | tail -n "${TAIL_LINES:-25}" | sed 's/^/    /' >> "$log"
  return $status
}
