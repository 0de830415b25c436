#!/usr/bin/env bash
# Offline checks of the CUDA C kernels on a machine without a GPU (docs/kernels.md §4):
#  1. NVRTC compiles every src/Qzo/Compute/Cuda/Nvrtc/*.cu (and flash_attention.cu's -DFULL_ATTENTION module) for sm_80
#     and sm_90, with ptxas's register and spill report. libnvrtc comes from Debian's non-free archive (CUDA 11.8) into
#     the work folder; nothing is installed system-wide.
#  2. flash_attention.cu runs on the CPU (emulate_flash_attention.cpp): causal and full entries against a double reference.
#  3. streaming_kernels.cu's norms run on the CPU (emulate_norms.cpp) against a reference of their formula,
#     its image-model element-wise kernels (emulate_elementwise.cpp) against their formula,
#     and its bitsandbytes 4-bit dequantization (emulate_bnb4_dequantize.cpp) against the ILGPU kernel's formula, bit for bit.
#  4. gptq_fused.cu runs on the CPU (emulate_gptq_fused.cpp): every tile variant, ordered and act-order g_idx, its weights
#     bit for bit against the dequantization formula and its products against a double reference.
#  5. streaming_kernels.cu's FP8 section runs on the CPU (emulate_fp8.cpp): amax, the e4m3 codes plain and transposed
#     against a nearest-value search, and GPTQ's dequantization in bf16 and straight into e4m3 codes.
# Usage: bash tests/cuda-emulation/check.sh [WORK-FOLDER]   (the folder keeps the downloaded library for the next run)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sources="$here/../../src/Qzo/Compute/Cuda/Nvrtc"
work=${1:-${TMPDIR:-/tmp}/qzo-cuda-check}
mkdir -p "$work"

library=$(find "$work/root" -name 'libnvrtc.so.*.*' 2>/dev/null | head -1 || true)
if [ -z "$library" ]; then
  echo "fetching libnvrtc from Debian non-free into $work"
  apt="$work/apt"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources" "$work/debs"
  cat > "$apt/sources/non-free.sources" <<SOURCES
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  options=(-o Dir::Etc::sourcelist=/dev/null -o "Dir::Etc::sourceparts=$apt/sources" -o "Dir::State::Lists=$apt/lists"
           -o "Dir::Cache=$apt/cache")
  apt-get "${options[@]}" update > "$work/apt-update.log"
  (cd "$work/debs" && apt-get "${options[@]}" download libnvrtc11.2 libnvrtc-builtins11.8 > "$work/apt-download.log" 2>&1)
  for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$work/root"; done
  library=$(find "$work/root" -name 'libnvrtc.so.*.*' | head -1)
fi
export LD_LIBRARY_PATH="$(dirname "$library")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" # NVRTC opens its builtins library by name

gcc -O1 -o "$work/nvrtc_compile" "$here/nvrtc_compile.c" "$library"
for arch in sm_80 sm_90; do
  for file in "$sources"/*.cu; do "$work/nvrtc_compile" "$file" $arch --ptxas-options=-v | grep -E "Compiling|Used|spill|cubin|error" ; done
  "$work/nvrtc_compile" "$sources/flash_attention.cu" $arch --ptxas-options=-v -DFULL_ATTENTION | grep -E "Compiling|Used|spill|cubin|error"
done

# flash_attention.cu less its inline-asm helpers, which emulation.h replaces
awk '/^__device__ __forceinline__ u32 shared_address/ { skip = 1 } /^\/\/ CAUSAL: the language models/ { skip = 0 } !skip' \
  "$sources/flash_attention.cu" > "$work/kernel.inc"
grep -q "ldmatrix_x4_transposed" "$work/kernel.inc" || { echo "kernel.inc: no kernel left"; exit 1; }
! grep -q "asm(\|asm volatile" "$work/kernel.inc" || { echo "kernel.inc still holds inline assembly: update the awk markers"; exit 1; }
g++ -std=c++20 -O2 -pthread -I "$here" -I "$work" -o "$work/causal" "$here/emulate_flash_attention.cpp"
g++ -std=c++20 -O2 -pthread -I "$here" -I "$work" -DFULL_ATTENTION -o "$work/full" "$here/emulate_flash_attention.cpp"
"$work/causal"
"$work/full"

# streaming_kernels.cu's bf16 helpers and its norm section (the rest needs inline assembly or is checked on the GPU)
awk '/^__device__ __forceinline__ float bf16_(low|high|rounded)/ { print } /^\/\/ The sum of v over the block/ { keep = 1 }
     /^\/\/ Rotary embedding/ { keep = 0 } keep' "$sources/streaming_kernels.cu" > "$work/norms.inc"
grep -q "layer_norm_bf16" "$work/norms.inc" || { echo "norms.inc: no kernel extracted"; exit 1; }
g++ -std=c++20 -O2 -pthread -I "$here" -I "$work" -o "$work/norms" "$here/emulate_norms.cpp"
"$work/norms"
awk '/^__device__ __forceinline__ float bf16_(low|high|rounded)/ { print } /^\/\/ The image models. element-wise kernels/ { keep = 1 }
     /^\/\/ ---- FP8 e4m3 operands/ { keep = 0 } /^\/\/ bitsandbytes 4-bit dequantization/ { keep = 0 } keep' \
  "$sources/streaming_kernels.cu" > "$work/elementwise.inc"
grep -q "copy_rows_16b" "$work/elementwise.inc" || { echo "elementwise.inc: no kernel extracted"; exit 1; }
g++ -std=c++20 -O2 -pthread -I "$here" -I "$work" -o "$work/elementwise" "$here/emulate_elementwise.cpp"
"$work/elementwise"
sed -n '/^\/\/ bitsandbytes 4-bit dequantization into bf16/,$p' "$sources/streaming_kernels.cu" > "$work/bnb4.inc"
grep -q "bnb4_dequantize_bf16" "$work/bnb4.inc" || { echo "bnb4.inc: no kernel extracted"; exit 1; }
g++ -std=c++20 -O2 -pthread -I "$here" -I "$work" -o "$work/bnb4" "$here/emulate_bnb4_dequantize.cpp"
"$work/bnb4"
# gptq_fused.cu less its inline-PTX helpers (emulation.h replaces them) and its entry points (extern __shared__)
awk '/^\/\/ ---- device helpers/ { skip = 1 } /^\/\/ ---- entry points/ { exit } !skip; /^\/\/ ---- end of device helpers/ { skip = 0 }' \
  "$sources/gptq_fused.cu" > "$work/gptq_fused.inc"
grep -q "gptq_fused_4bit" "$work/gptq_fused.inc" || { echo "gptq_fused.inc: no kernel extracted"; exit 1; }
! grep -q "asm(\|asm volatile" "$work/gptq_fused.inc" || { echo "gptq_fused.inc holds inline assembly: update the awk markers"; exit 1; }
g++ -std=c++20 -O2 -pthread -I "$here" -I "$work" -o "$work/gptq_fused" "$here/emulate_gptq_fused.cpp"
"$work/gptq_fused"
# streaming_kernels.cu's bf16 helpers (bf16_rounded over emulate_fp8.cpp's bf16_round), its GPTQ section and its FP8 section
{ grep -E "^__device__ __forceinline__ float bf16_(low|high|rounded)" "$sources/streaming_kernels.cu"
  sed -n '/^\/\/ ---- GPTQ dequantization/,/^\/\/ ---- Activations/p' "$sources/streaming_kernels.cu"
  sed -n '/^\/\/ ---- FP8 e4m3 operands/,/^\/\/ bitsandbytes 4-bit dequantization into bf16/p' "$sources/streaming_kernels.cu"; } > "$work/fp8.inc"
grep -q "GPTQ_E4M3_ENTRIES(4)" "$work/fp8.inc" && grep -q "bnb4_dequantize_e4m3" "$work/fp8.inc" || { echo "fp8.inc: no kernel extracted"; exit 1; }
g++ -std=c++20 -O2 -pthread -I "$here" -I "$work" -o "$work/fp8" "$here/emulate_fp8.cpp"
"$work/fp8"
