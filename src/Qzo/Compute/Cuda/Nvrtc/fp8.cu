// The operands of an fp8 product (--compute fp8, Fp8Kernels.cs, docs/kernels.md §9): a bf16 tensor's largest magnitude,
// then its values scaled by 448 / amax and rounded to e4m3 (round to nearest even, saturated to ±448), optionally
// transposed so that a weight stored [k, n] reaches cuBLASLt as the [n, k] its fp8 kernels require.
// e4m3() is Qzo.Numerics.Fp8E4M3.Encode operation for operation, so the bytes equal the CPU's.
// No header is included: NVRTC on a bare driver install has none.

typedef unsigned int u32;
typedef unsigned short u16;
typedef long long i64;

__device__ __forceinline__ float bf16_to_float(u16 h) { return __uint_as_float(((u32)h) << 16); }

__device__ __forceinline__ u32 e4m3(float x)
{
    u32 sign = (__float_as_uint(x) >> 24) & 0x80u;
    float a = fabsf(x);
    if (a != a) return sign | 0x7Fu;
    if (a > 448.0f) return sign | 0x7Eu;
    int e = (int)((__float_as_uint(a) >> 23) & 0xFFu) - 127;
    // Below 2^-6 the codes are the multiples of 2^-9; rounding up to 8 * 2^-9 lands on the smallest normal's code 0x08.
    if (e < -6) return sign | (u32)rintf(a * 512.0f);
    // a * 2^(3 - e) lies in [8, 16): its even rounding is 8 + the mantissa, and 16 carries into the exponent by itself.
    int q = (int)rintf(a * __uint_as_float((u32)(127 + 3 - e) << 23));
    return sign | (u32)(((e + 7) << 3) + q - 8);
}

// Fp8E4M3.Scaling: a tensor of zeros keeps 1 and 1.
__device__ __forceinline__ float inverse_of(float amax) { return amax == 0.0f ? 1.0f : __fdiv_rn(448.0f, amax); }
__device__ __forceinline__ float scale_of(float amax) { return amax == 0.0f ? 1.0f : __fdiv_rn(amax, 448.0f); }

// *amax_bits = max(*amax_bits, |x[i]| as float bits) over i < count (the caller zeroes it first). NaNs are skipped:
// they become NaN codes in the conversion all the same. Grid-stride; 8 values per step where count is a multiple of 8.
extern "C" __global__ void amax_bf16(const u16* __restrict__ x, i64 count, u32* __restrict__ amax_bits)
{
    float m = 0.0f;
    i64 stride = (i64)gridDim.x * blockDim.x;
    if ((count & 7) == 0)
    {
        const uint4* x8 = (const uint4*)x;
        for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < count / 8; i += stride)
        {
            uint4 v = x8[i];
            u32 words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
            for (int j = 0; j < 4; j++)
                m = fmaxf(m, fmaxf(fabsf(bf16_to_float((u16)words[j])), fabsf(bf16_to_float((u16)(words[j] >> 16)))));
        }
    }
    else
        for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride) m = fmaxf(m, fabsf(bf16_to_float(x[i])));
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) m = fmaxf(m, __shfl_xor_sync(0xFFFFFFFFu, m, offset));
    if ((threadIdx.x & 31) == 0) atomicMax(amax_bits, __float_as_uint(m));
}

// q[i] = e4m3(x[i] * 448 / amax), 8 values a thread (count a multiple of 8); *scale = amax / 448 for cuBLASLt.
extern "C" __global__ void quantize_e4m3_bf16(const u16* __restrict__ x, i64 count8, const u32* __restrict__ amax_bits,
                                              unsigned char* __restrict__ q, float* __restrict__ scale)
{
    float amax = __uint_as_float(*amax_bits);
    i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i == 0) *scale = scale_of(amax);
    if (i >= count8) return;
    float inverse = inverse_of(amax);
    uint4 v = ((const uint4*)x)[i];
    u32 words[4] = {v.x, v.y, v.z, v.w};
    u32 out[2] = {0u, 0u};
#pragma unroll
    for (int j = 0; j < 4; j++)
    {
        u32 low = e4m3(bf16_to_float((u16)words[j]) * inverse), high = e4m3(bf16_to_float((u16)(words[j] >> 16)) * inverse);
        out[j >> 1] |= (low | (high << 8)) << ((j & 1) * 16);
    }
    ((uint2*)q)[i] = make_uint2(out[0], out[1]);
}

// q[c, r] = e4m3(x[r, c] * 448 / amax) for x [rows, cols]: 32 × 32 tiles through shared memory, blocks of 32 × 8
// threads, grid (cols / 32, rows / 32) rounded up; *scale = amax / 448.
extern "C" __global__ void quantize_e4m3_transposed_bf16(const u16* __restrict__ x, int rows, int cols,
                                                         const u32* __restrict__ amax_bits, unsigned char* __restrict__ q,
                                                         float* __restrict__ scale)
{
    __shared__ float tile[32][33];
    float amax = __uint_as_float(*amax_bits);
    if (blockIdx.x == 0 && blockIdx.y == 0 && threadIdx.x == 0 && threadIdx.y == 0) *scale = scale_of(amax);
    float inverse = inverse_of(amax);
    int c0 = blockIdx.x * 32, r0 = blockIdx.y * 32;
#pragma unroll
    for (int j = 0; j < 32; j += 8)
    {
        int r = r0 + threadIdx.y + j, c = c0 + threadIdx.x;
        if (r < rows && c < cols) tile[threadIdx.y + j][threadIdx.x] = bf16_to_float(x[(i64)r * cols + c]);
    }
    __syncthreads();
#pragma unroll
    for (int j = 0; j < 32; j += 8)
    {
        int c = c0 + threadIdx.y + j, r = r0 + threadIdx.x;
        if (r < rows && c < cols) q[(i64)c * rows + r] = (unsigned char)e4m3(tile[threadIdx.x][threadIdx.y + j] * inverse);
    }
}
