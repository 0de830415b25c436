#!/usr/bin/env bash
# Nsight Compute details (speed of light, launch configuration, occupancy, memory) for the first launches of the
# non-GEMM kernels of a 7B-shape forward + QZO step, to see which are below the memory roofline and why.
# Run on the GPU machine with the published binary in .gpu/ and OUT set; writes $OUT/kernel-details.txt.
set -u
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/bench/unpack-device.sh" "$root/.gpu"
sections="--section SpeedOfLight --section LaunchStats --section Occupancy --section MemoryWorkloadAnalysis"
run() {
  timeout 200 ncu --clock-control none $sections -k "regex:$1" -c "$2" \
    "$root/.gpu/qzo-device" qzo bench --shape llama2-7b --batch 16 --seq 256 --device cuda --steps 1 --warmup 0 2>&1 \
    | grep -v "^==PROF==\|^│\|^┌\|^└\|^├" >> "$OUT/kernel-details.txt"
}
: > "$OUT/kernel-details.txt"
run "DequantizePairsPerWord|Kernel_Pairs|SiluMulPairs|AddPairs|flash_attention|GatherRows" 16
run "PerturbedCopyToF32|ZerothOrderUpdate" 4
grep -E "^  [A-Za-z_]+.*\(|Duration|Memory Throughput|DRAM Throughput|Compute \(SM\) Throughput|Block Size|Grid Size|Registers Per|Achieved Occupancy|Theoretical Occupancy" "$OUT/kernel-details.txt" | head -200
