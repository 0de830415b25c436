// The memory-bound kernels of every QZO forward pass and update, in CUDA C for NVRTC (StreamingKernels.cs).
// ILGPU keeps an equivalent of each (Compute/Cuda/Kernels) for other GPUs and for the CPU-accelerator tests.
//
// z must equal the CPU's bit for bit (docs/algorithm.md §5; Qzo.Numerics.GaussianDirection): the arithmetic below is the C#
// code's, operation for operation, with every rounding explicit (__dmul_rn & co. never contract into FMAs, and the
// file is compiled with --fmad=false besides). ILGPU's version of it keeps its inline-PTX FMA results in local memory,
// which made the z kernels latency-bound; here they stay in registers.
// No header is included: NVRTC on a bare driver install has none.

typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long i64;

// ---- z(seed, tensor, index): Box-Muller over Philox4x32-10 ------------------------------------------------------

__device__ __forceinline__ void philox4x32_10(u32 c[4], u32 k0, u32 k1)
{
#pragma unroll
    for (int round = 0; round < 10; round++)
    {
        if (round > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
        u64 p0 = (u64)0xD2511F53u * c[0];
        u64 p1 = (u64)0xCD9E8D57u * c[2];
        u32 n0 = (u32)(p1 >> 32) ^ c[1] ^ k0, n1 = (u32)p1, n2 = (u32)(p0 >> 32) ^ c[3] ^ k1, n3 = (u32)p0;
        c[0] = n0; c[1] = n1; c[2] = n2; c[3] = n3;
    }
}

// fdlibm's log (e_log.c), as Qzo.Numerics.DeterministicMath.Log.
__device__ __forceinline__ double deterministic_log(double x)
{
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    const double lg1 = 6.666666666666735130e-01, lg2 = 3.999999999940941908e-01, lg3 = 2.857142874366239149e-01,
                 lg4 = 2.222219843214978396e-01, lg5 = 1.818357216161805012e-01, lg6 = 1.531383769920937332e-01,
                 lg7 = 1.479819860511658591e-01;
    u64 bits = (u64)__double_as_longlong(x);
    int k = (int)((bits >> 52) & 0x7FF) - 1023;
    double m = __longlong_as_double((i64)((bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull));
    if (m > 1.41421356237309504880) { m = __dmul_rn(m, 0.5); k++; }
    double f = __dsub_rn(m, 1.0);
    double s = __ddiv_rn(f, __dadd_rn(2.0, f));
    double z = __dmul_rn(s, s), w = __dmul_rn(z, z);
    double t1 = __dmul_rn(w, __fma_rn(w, __fma_rn(w, lg6, lg4), lg2));
    double r = __fma_rn(z, __fma_rn(w, __fma_rn(w, __fma_rn(w, lg7, lg5), lg3), lg1), t1);
    double half_f = __dmul_rn(0.5, f);
    double kd = (double)k;
    double a = __fma_rn(s, __fma_rn(half_f, f, r), __dmul_rn(kd, ln2_lo));
    double b = __dsub_rn(__fma_rn(half_f, f, -a), f);
    return __fma_rn(kd, ln2_hi, -b);
}

// cos(2πu) for u in [0, 1), a multiple of 2^-24 (fdlibm's k_cos.c / k_sin.c), as DeterministicMath.CosTwoPi.
__device__ __forceinline__ double deterministic_cos_two_pi(double u)
{
    const double c1 = 4.16666666666666019037e-02, c2 = -1.38888888888741095749e-03, c3 = 2.48015872894767294178e-05,
                 c4 = -2.75573143513906633035e-07, c5 = 2.08757232129817482790e-09, c6 = -1.13596475577881948265e-11;
    const double s1 = -1.66666666666666324348e-01, s2 = 8.33333333332248946124e-03, s3 = -1.98412698298579493134e-04,
                 s4 = 2.75573137070700676789e-06, s5 = -2.50507602534068634195e-08, s6 = 1.58969099521155010221e-10;
    double v = u >= 0.5 ? __dsub_rn(u, 1.0) : u;
    if (v < 0) v = -v;
    int quadrant = (int)__dadd_rn(__dmul_rn(v, 4.0), 0.5);
    double x = __dmul_rn(__dsub_rn(v, __dmul_rn((double)quadrant, 0.25)), 6.28318530717958647692);
    double z = __dmul_rn(x, x);
    if (quadrant == 1)
        return -__fma_rn(__dmul_rn(x, z), __fma_rn(z, __fma_rn(z, __fma_rn(z, __fma_rn(z, __fma_rn(z, s6, s5), s4), s3), s2), s1), x);
    double c = __fma_rn(__dmul_rn(z, z), __fma_rn(z, __fma_rn(z, __fma_rn(z, __fma_rn(z, __fma_rn(z, c6, c5), c4), c3), c2), c1),
                        __fma_rn(-0.5, z, 1.0));
    return quadrant == 2 ? -c : c;
}

__device__ __forceinline__ float gaussian_z(u64 seed, int tensor, i64 index)
{
    u32 c[4] = { (u32)index, (u32)((u64)index >> 32), (u32)tensor, 0u };
    philox4x32_10(c, (u32)seed, (u32)(seed >> 32));
    const double two_pow_24_inv = 1.0 / 16777216.0;
    double u1 = __dmul_rn((double)((c[0] >> 8) + 1u), two_pow_24_inv);
    double u2 = __dmul_rn((double)(c[1] >> 8), two_pow_24_inv);
    return (float)__dmul_rn(__dsqrt_rn(__dmul_rn(-2.0, deterministic_log(u1))), deterministic_cos_two_pi(u2));
}

// value + scale·z rounded once to fp32 (GaussianDirection.Step).
__device__ __forceinline__ float z_step(float value, float scale, float z)
{
    return (float)__dadd_rn((double)value, __dmul_rn((double)scale, (double)z));
}

// .NET's MathF.Max: NaN wins, and +0 is larger than -0.
__device__ __forceinline__ float dotnet_max(float x, float y)
{
    if (x != x || y != y) return x + y;
    if (x == y) return (__float_as_uint(x) & 0x80000000u) ? y : x;
    return x > y ? x : y;
}

__device__ __forceinline__ unsigned short bf16_round(float value)
{
    unsigned short bits;
    asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(bits) : "f"(value));
    return bits;
}

__device__ __forceinline__ u32 pack_bf16x2(float low, float high)
{
    u32 packed;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(packed) : "f"(high), "f"(low));
    return packed;
}

__device__ __forceinline__ i64 thread_index() { return (i64)blockIdx.x * blockDim.x + threadIdx.x; }

// output = master + scale·z (or master when scale is 0), fp32.
extern "C" __global__ void perturbed_copy_f32(const float* master, float* output, i64 count, u64 seed, float scale, int tensor)
{
    i64 i = thread_index();
    if (i >= count) return;
    output[i] = scale == 0.0f ? master[i] : z_step(master[i], scale, gaussian_z(seed, tensor, i));
}

// The same, rounded to bf16.
extern "C" __global__ void perturbed_copy_bf16(const float* master, unsigned short* output, i64 count, u64 seed, float scale, int tensor)
{
    i64 i = thread_index();
    if (i >= count) return;
    output[i] = bf16_round(scale == 0.0f ? master[i] : z_step(master[i], scale, gaussian_z(seed, tensor, i)));
}

// master = max(master − step·z, floor): the QZO update, regenerating the z of the forward passes.
extern "C" __global__ void zeroth_order_update(float* master, i64 count, u64 seed, int tensor, float step, float floor)
{
    i64 i = thread_index();
    if (i >= count) return;
    master[i] = dotnet_max(z_step(master[i], -step, gaussian_z(seed, tensor, i)), floor);
}

// ---- GPTQ dequantization: weight[i, o] = scale[g_idx[i], o] · (q[i, o] − zero[g_idx[i], o]) in bf16 ---------------
// One thread per qweight word of four adjacent output columns (one 16-byte load), which holds 32/BITS consecutive
// inputs; each input's four weights leave as one 8-byte store. out_features must be a multiple of 4 (the host checks).
// q − zero is formed exactly as (2^23 + q) − (2^23 + zero) in fp32, without an integer-to-float conversion.

// gptq_word_weights visits the weights of one qweight word row and column quad (word, o..o+3) once each, in fp32 as the
// product rounds, and hands them to a sink: a row (one input) of four adjacent columns at a time, the word's rows in
// order; the sink then sees the end of the word. gptq_weights gives each thread one (word, quad): the bf16
// dequantization below and --compute fp8's e4m3 conversion (the FP8 section) share it.
// Adjacent threads take adjacent column quads of one word row (the loads of qweight coalesce, and so do the bf16
// stores, whose rows are inputs); with WORD_MAJOR they take adjacent words of one quad instead, for the e4m3 codes,
// whose rows are outputs: their stores then coalesce, where column-major threads would each write four rows apart.
template <int BITS, class Sink>
__device__ __forceinline__ void gptq_word_weights(const u32* qweight, const u32* qzeros, const float* scales, const int* g_idx,
                                                  int out_features, int zeros_offset_by_one, int word, int o, Sink& sink);

template <int BITS, bool WORD_MAJOR = false, class Sink>
__device__ __forceinline__ void gptq_weights(const u32* qweight, const u32* qzeros, const float* scales, const int* g_idx,
                                             int in_features, int out_features, int zeros_offset_by_one, Sink& sink)
{
    const int quads = out_features / 4, words = in_features / (32 / BITS);
    i64 t = thread_index();
    if (t >= (i64)words * quads) return;
    int word, o;
    if (WORD_MAJOR) { int quad = (int)(t / words); word = (int)(t - (i64)quad * words); o = quad * 4; }
    else { word = (int)(t / quads); o = (int)(t - (i64)word * quads) * 4; }
    gptq_word_weights<BITS>(qweight, qzeros, scales, g_idx, out_features, zeros_offset_by_one, word, o, sink);
}

template <int BITS, class Sink>
__device__ __forceinline__ void gptq_word_weights(const u32* qweight, const u32* qzeros, const float* scales, const int* g_idx,
                                                  int out_features, int zeros_offset_by_one, int word, int o, Sink& sink)
{
    const int per_word = 32 / BITS;
    const u32 mask = (1u << BITS) - 1u;
    uint4 packed = *(const uint4*)(qweight + (i64)word * out_features + o);
    const int zero_words = out_features * BITS / 32;
    const int zero_bit = o * BITS, zero_shift = zero_bit & 31; // four zeros never straddle a word (o is a multiple of 4)
    int group = -1;
    float scale[4], offset[4];
#pragma unroll
    for (int k = 0; k < per_word; k++)
    {
        int row = word * per_word + k;
        int g = g_idx[row];
        if (g != group) // rows of a word usually share a group
        {
            group = g;
            float4 s = *(const float4*)(scales + (i64)g * out_features + o);
            u32 zeros = qzeros[(i64)g * zero_words + (zero_bit >> 5)];
            scale[0] = s.x; scale[1] = s.y; scale[2] = s.z; scale[3] = s.w;
#pragma unroll
            for (int j = 0; j < 4; j++)
            {
                u32 zero = (zeros >> (zero_shift + j * BITS)) & mask;
                if (zeros_offset_by_one) zero = (zero + 1u) & mask;
                offset[j] = __uint_as_float(0x4B000000u | zero);
            }
        }
        const int shift = k * BITS;
        float w0 = (__uint_as_float(0x4B000000u | ((packed.x >> shift) & mask)) - offset[0]) * scale[0];
        float w1 = (__uint_as_float(0x4B000000u | ((packed.y >> shift) & mask)) - offset[1]) * scale[1];
        float w2 = (__uint_as_float(0x4B000000u | ((packed.z >> shift) & mask)) - offset[2]) * scale[2];
        float w3 = (__uint_as_float(0x4B000000u | ((packed.w >> shift) & mask)) - offset[3]) * scale[3];
        sink.row(row, k, o, w0, w1, w2, w3);
    }
    sink.word(word, o);
}

// Each input's four weights leave as one 8-byte bf16 store.
struct GptqBf16Sink
{
    uint2* weight;
    int quads;
    __device__ __forceinline__ void row(int row, int, int o, float w0, float w1, float w2, float w3)
    {
        weight[(i64)row * quads + (o >> 2)] = make_uint2(pack_bf16x2(w0, w1), pack_bf16x2(w2, w3));
    }
    __device__ __forceinline__ void word(int, int) {}
};

#define GPTQ_ENTRY(BITS)                                                                                                   \
    extern "C" __global__ void gptq_dequantize_##BITS##bit(const u32* qweight, const u32* qzeros, const float* scales,    \
                                                           const int* g_idx, uint2* weight, int in_features,              \
                                                           int out_features, int zeros_offset_by_one)                     \
    {                                                                                                                      \
        GptqBf16Sink sink{weight, out_features / 4};                                                                       \
        gptq_weights<BITS>(qweight, qzeros, scales, g_idx, in_features, out_features, zeros_offset_by_one, sink);         \
    }
GPTQ_ENTRY(2)
GPTQ_ENTRY(4)
GPTQ_ENTRY(8)

// ---- Activations: bf16 eight at a time (16-byte accesses); the hosts check the alignment of every size -----------

__device__ __forceinline__ float bf16_low(u32 pair) { return __uint_as_float(pair << 16); }
__device__ __forceinline__ float bf16_high(u32 pair) { return __uint_as_float(pair & 0xFFFF0000u); }
__device__ __forceinline__ float bf16_rounded(float v) { return __uint_as_float((u32)bf16_round(v) << 16); }

// x += y (bf16, one rounding per element); count8 = count / 8.
extern "C" __global__ void add_bf16(uint4* x, const uint4* y, i64 count8)
{
    i64 i = thread_index();
    if (i >= count8) return;
    uint4 a = x[i], b = y[i];
    a.x = pack_bf16x2(bf16_low(a.x) + bf16_low(b.x), bf16_high(a.x) + bf16_high(b.x));
    a.y = pack_bf16x2(bf16_low(a.y) + bf16_low(b.y), bf16_high(a.y) + bf16_high(b.y));
    a.z = pack_bf16x2(bf16_low(a.z) + bf16_low(b.z), bf16_high(a.z) + bf16_high(b.z));
    a.w = pack_bf16x2(bf16_low(a.w) + bf16_low(b.w), bf16_high(a.w) + bf16_high(b.w));
    x[i] = a;
}

__device__ __forceinline__ float silu_times(float g, float u) { return g / (1.0f + expf(-g)) * u; }

__device__ __forceinline__ u32 silu_mul_pair(u32 g, u32 u)
{
    return pack_bf16x2(silu_times(bf16_low(g), bf16_low(u)), silu_times(bf16_high(g), bf16_high(u)));
}

// gate = silu(gate)·up (SwiGLU), in place; count8 = count / 8.
extern "C" __global__ void silu_mul_bf16(uint4* gate, const uint4* up, i64 count8)
{
    i64 i = thread_index();
    if (i >= count8) return;
    uint4 g = gate[i], u = up[i];
    gate[i] = make_uint4(silu_mul_pair(g.x, u.x), silu_mul_pair(g.y, u.y), silu_mul_pair(g.z, u.z), silu_mul_pair(g.w, u.w));
}

// The sum of v over the block (blockDim.x a multiple of 32), returned to every thread: shuffles within each warp, then
// across the warps' partial sums (32 floats of shared memory, free for the next call when it returns).
__device__ __forceinline__ float block_sum(float v, float* partial)
{
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xFFFFFFFFu, v, offset);
    if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
    __syncthreads();
    if (threadIdx.x < 32)
    {
        float s = threadIdx.x < (blockDim.x >> 5) ? partial[threadIdx.x] : 0.0f;
#pragma unroll
        for (int offset = 16; offset > 0; offset >>= 1) s += __shfl_xor_sync(0xFFFFFFFFu, s, offset);
        if (threadIdx.x == 0) partial[0] = s;
    }
    __syncthreads();
    const float total = partial[0];
    __syncthreads();
    return total;
}

// RMSNorm as transformers computes it: normalize in fp32, round to bf16, multiply by the bf16 weight, round again.
__device__ __forceinline__ float add_squares(float sum, uint4 v)
{
    u32 words[4] = { v.x, v.y, v.z, v.w };
#pragma unroll
    for (int w = 0; w < 4; w++)
    {
        float lo = bf16_low(words[w]), hi = bf16_high(words[w]);
        sum += lo * lo + hi * hi;
    }
    return sum;
}

__device__ __forceinline__ uint4 rms_scaled_chunk(uint4 v, uint4 wv, float inverse)
{
    u32 words[4] = { v.x, v.y, v.z, v.w }, ws[4] = { wv.x, wv.y, wv.z, wv.w }, r[4];
#pragma unroll
    for (int w = 0; w < 4; w++)
        r[w] = pack_bf16x2(bf16_rounded(bf16_low(words[w]) * inverse) * bf16_low(ws[w]),
                           bf16_rounded(bf16_high(words[w]) * inverse) * bf16_high(ws[w]));
    return make_uint4(r[0], r[1], r[2], r[3]);
}

// One block per row; each thread keeps its chunks of the row in registers between the two passes. dim % 8 == 0 and
// dim / 8 ≤ RMS_CHUNKS · blockDim.x.
#define RMS_CHUNKS 4
extern "C" __global__ void rms_norm_bf16(const uint4* x, const uint4* weight, uint4* y, int dim, float eps)
{
    __shared__ float partial[32];
    const int chunks = dim / 8;
    const uint4* row = x + (i64)blockIdx.x * chunks;
    uint4 v[RMS_CHUNKS];
    float sum = 0.0f;
#pragma unroll
    for (int c = 0; c < RMS_CHUNKS; c++)
    {
        int j = threadIdx.x + c * blockDim.x;
        v[c] = j < chunks ? row[j] : make_uint4(0, 0, 0, 0);
        sum = add_squares(sum, v[c]);
    }
    const float inverse = 1.0f / sqrtf(block_sum(sum, partial) / dim + eps);
    uint4* out = y + (i64)blockIdx.x * chunks;
#pragma unroll
    for (int c = 0; c < RMS_CHUNKS; c++)
    {
        int j = threadIdx.x + c * blockDim.x;
        if (j < chunks) out[j] = rms_scaled_chunk(v[c], weight[j], inverse);
    }
}

// The same for short rows (the q/k norms over heads: 64 or 128 values), where a block per row would leave most of its
// threads idle: lanes = dim / 8 threads per row (a power of two ≤ 32, so a row's lanes sit in one warp), blockDim.x /
// lanes rows per block, the sum reduced by shuffles among a row's lanes. Threads past the last row take part in the
// shuffles with zeros and store nothing.
extern "C" __global__ void rms_norm_short_bf16(const uint4* x, const uint4* weight, uint4* y, int dim, int rows, float eps)
{
    const int lanes = dim / 8, lane = threadIdx.x % lanes;
    const i64 row = (i64)blockIdx.x * (blockDim.x / lanes) + threadIdx.x / lanes;
    const uint4 v = row < rows ? x[row * lanes + lane] : make_uint4(0, 0, 0, 0);
    float sum = add_squares(0.0f, v);
    for (int offset = lanes / 2; offset > 0; offset >>= 1) sum += __shfl_xor_sync(0xFFFFFFFFu, sum, offset);
    if (row >= rows) return;
    y[row * lanes + lane] = rms_scaled_chunk(v, weight[lane], 1.0f / sqrtf(sum / dim + eps));
}

// LayerNorm as torch computes it on bf16: mean and variance in fp32 (two passes over the row, kept in registers), then
// (x − mean)·rsqrt(var + eps), times the weight and plus the bias where present, rounded once. One block per row;
// dim % 8 == 0 and dim / 8 ≤ RMS_CHUNKS · blockDim.x. No contraction into FMA, as the ILGPU kernel rounds each step.
__device__ __forceinline__ float add_values(float sum, uint4 v)
{
    u32 words[4] = { v.x, v.y, v.z, v.w };
#pragma unroll
    for (int w = 0; w < 4; w++) sum += bf16_low(words[w]) + bf16_high(words[w]);
    return sum;
}

__device__ __forceinline__ float add_centered_squares(float sum, uint4 v, float mean)
{
    u32 words[4] = { v.x, v.y, v.z, v.w };
#pragma unroll
    for (int w = 0; w < 4; w++)
    {
        float lo = __fsub_rn(bf16_low(words[w]), mean), hi = __fsub_rn(bf16_high(words[w]), mean);
        sum = __fadd_rn(sum, __fadd_rn(__fmul_rn(lo, lo), __fmul_rn(hi, hi)));
    }
    return sum;
}

__device__ __forceinline__ float layer_normed(float x, float mean, float inverse, const float* w, const float* b)
{
    float v = __fmul_rn(__fsub_rn(x, mean), inverse);
    if (w) v = __fmul_rn(v, *w);
    if (b) v = __fadd_rn(v, *b);
    return v;
}

extern "C" __global__ void layer_norm_bf16(const uint4* x, const uint4* weight, const uint4* bias, uint4* y, int dim, float eps)
{
    __shared__ float partial[32];
    const int chunks = dim / 8;
    const uint4* row = x + (i64)blockIdx.x * chunks;
    uint4 v[RMS_CHUNKS];
    float sum = 0.0f;
#pragma unroll
    for (int c = 0; c < RMS_CHUNKS; c++)
    {
        int j = threadIdx.x + c * blockDim.x;
        v[c] = j < chunks ? row[j] : make_uint4(0, 0, 0, 0);
        sum = add_values(sum, v[c]);
    }
    const float mean = block_sum(sum, partial) / dim;
    float squares = 0.0f;
#pragma unroll
    for (int c = 0; c < RMS_CHUNKS; c++)
        if (threadIdx.x + c * blockDim.x < chunks) squares = add_centered_squares(squares, v[c], mean);
    const float inverse = 1.0f / sqrtf(block_sum(squares, partial) / dim + eps);
    uint4* out = y + (i64)blockIdx.x * chunks;
#pragma unroll
    for (int c = 0; c < RMS_CHUNKS; c++)
    {
        int j = threadIdx.x + c * blockDim.x;
        if (j >= chunks) continue;
        uint4 wv = weight ? weight[j] : make_uint4(0, 0, 0, 0), bv = bias ? bias[j] : make_uint4(0, 0, 0, 0);
        u32 words[4] = { v[c].x, v[c].y, v[c].z, v[c].w }, ws[4] = { wv.x, wv.y, wv.z, wv.w }, bs[4] = { bv.x, bv.y, bv.z, bv.w };
        u32 r[4];
#pragma unroll
        for (int w = 0; w < 4; w++)
        {
            float wl = bf16_low(ws[w]), wh = bf16_high(ws[w]), bl = bf16_low(bs[w]), bh = bf16_high(bs[w]);
            r[w] = pack_bf16x2(layer_normed(bf16_low(words[w]), mean, inverse, weight ? &wl : nullptr, bias ? &bl : nullptr),
                               layer_normed(bf16_high(words[w]), mean, inverse, weight ? &wh : nullptr, bias ? &bh : nullptr));
        }
        out[j] = make_uint4(r[0], r[1], r[2], r[3]);
    }
}

// Rotary embedding (halves convention) in place on x [rows, heads, head_dim], eight rotation pairs per thread:
// a' = a·cos − b·sin, b' = b·cos + a·sin with cos/sin from the host's tables [position, head_dim / 2].
// Block y = row; x threads cover heads · (head_dim / 16). head_dim % 16 == 0.
extern "C" __global__ void rope_bf16(uint4* x, const int* positions, const float4* cos_table, const float4* sin_table,
                                     int heads, int head_dim)
{
    const int per_head = head_dim / 16;
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= heads * per_head) return;
    int row = blockIdx.y, head = t / per_head, chunk = t - head * per_head;
    i64 first = ((i64)row * heads + head) * (head_dim / 8) + chunk, second = first + per_head;
    i64 table = ((i64)positions[row] * (head_dim / 2)) / 4 + chunk * 2;
    float4 c0 = cos_table[table], c1 = cos_table[table + 1], s0 = sin_table[table], s1 = sin_table[table + 1];
    float c[8] = { c0.x, c0.y, c0.z, c0.w, c1.x, c1.y, c1.z, c1.w }, s[8] = { s0.x, s0.y, s0.z, s0.w, s1.x, s1.y, s1.z, s1.w };
    uint4 av = x[first], bv = x[second];
    u32 a[4] = { av.x, av.y, av.z, av.w }, b[4] = { bv.x, bv.y, bv.z, bv.w }, ra[4], rb[4];
#pragma unroll
    for (int w = 0; w < 4; w++)
    {
        float a0 = bf16_low(a[w]), a1 = bf16_high(a[w]), b0 = bf16_low(b[w]), b1 = bf16_high(b[w]);
        float cl = c[2 * w], ch = c[2 * w + 1], sl = s[2 * w], sh = s[2 * w + 1];
        ra[w] = pack_bf16x2(a0 * cl - b0 * sl, a1 * ch - b1 * sh);
        rb[w] = pack_bf16x2(b0 * cl + a0 * sl, b1 * ch + a1 * sh);
    }
    x[first] = make_uint4(ra[0], ra[1], ra[2], ra[3]);
    x[second] = make_uint4(rb[0], rb[1], rb[2], rb[3]);
}

// ---- AQLM dequantization, in-group 8 and out-group 1 (the Hub's 1x16 and 2x8): weight [out, in] in bf16 ----------
// weight[o, 8k + j] = scale[o] · Σ_c codebooks[c, code(o, k, c), j], summed in fp32 in codebook order. One thread per
// (o, k): each codebook entry is one 16-byte load, the eight weights one 16-byte store. Codes are the stored bytes
// (1 or 2 per code, little-endian) modulo 2^bits.

__device__ __forceinline__ float fp16_to_float(u32 bits)
{
    float f;
    unsigned short h = (unsigned short)bits;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

extern "C" __global__ void aqlm_dequantize_in8(const unsigned char* codes, const uint4* codebooks, const float* scales, uint4* weight,
                                               i64 groups, int in_groups, int codebook_count, int codebook_size,
                                               int bytes_per_code, int code_mask)
{
    i64 t = thread_index();
    if (t >= groups) return;
    const unsigned char* code = codes + t * codebook_count * bytes_per_code;
    float sum[8] = { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f };
    for (int c = 0; c < codebook_count; c++)
    {
        int value = bytes_per_code == 1 ? code[c] : (code[2 * c] | (code[2 * c + 1] << 8));
        uint4 entry = codebooks[(i64)c * codebook_size + (value & code_mask)];
        u32 halves[4] = { entry.x, entry.y, entry.z, entry.w };
#pragma unroll
        for (int w = 0; w < 4; w++)
        {
            sum[2 * w] += fp16_to_float(halves[w] & 0xFFFFu);
            sum[2 * w + 1] += fp16_to_float(halves[w] >> 16);
        }
    }
    float scale = scales[t / in_groups];
    weight[t] = make_uint4(pack_bf16x2(scale * sum[0], scale * sum[1]), pack_bf16x2(scale * sum[2], scale * sum[3]),
                           pack_bf16x2(scale * sum[4], scale * sum[5]), pack_bf16x2(scale * sum[6], scale * sum[7]));
}

// The image models' element-wise kernels (SD3 blocks): adaptive-norm modulation, gated residual adds, activations and
// strided copies, eight bf16 values (16 bytes) a thread. fp32 inside, each step rounded as the ILGPU kernels and the CPU
// round it (no contraction into FMA), one bf16 rounding at the end. A per-sample row (shift, scale, gate) of sample b
// starts at offset8 + b·stride8, in units of eight values; a sample is tokens rows of dim8 chunks.
__device__ __forceinline__ float modulated(float x, float scale, float shift)
{
    return __fadd_rn(__fmul_rn(x, __fadd_rn(1.0f, scale)), shift);
}

__device__ __forceinline__ u32 modulated_pair(u32 x, u32 scale, u32 shift)
{
    return pack_bf16x2(modulated(bf16_low(x), bf16_low(scale), bf16_low(shift)),
                       modulated(bf16_high(x), bf16_high(scale), bf16_high(shift)));
}

// y = x·(1 + scale[b]) + shift[b] over [batch, tokens, dim]; count8 = values / 8.
extern "C" __global__ void modulate_bf16(const uint4* x, const uint4* shift, const uint4* scale, uint4* y, i64 count8, int dim8,
                                         int tokens, i64 shift_offset8, i64 shift_stride8, i64 scale_offset8, i64 scale_stride8)
{
    const i64 i = thread_index();
    if (i >= count8) return;
    const i64 j = i % dim8, b = i / dim8 / tokens;
    const uint4 v = x[i], sh = shift[shift_offset8 + b * shift_stride8 + j], sc = scale[scale_offset8 + b * scale_stride8 + j];
    y[i] = make_uint4(modulated_pair(v.x, sc.x, sh.x), modulated_pair(v.y, sc.y, sh.y), modulated_pair(v.z, sc.z, sh.z),
                      modulated_pair(v.w, sc.w, sh.w));
}

__device__ __forceinline__ u32 sum_pair(u32 x, u32 y) { return pack_bf16x2(bf16_low(x) + bf16_low(y), bf16_high(x) + bf16_high(y)); }

// x[r, :] += bias over rows of dim values (a linear's bias after its GEMM); count8 = values / 8.
extern "C" __global__ void add_bias_bf16(uint4* x, const uint4* bias, i64 count8, int dim8)
{
    const i64 i = thread_index();
    if (i >= count8) return;
    const uint4 v = x[i], b = bias[i % dim8];
    x[i] = make_uint4(sum_pair(v.x, b.x), sum_pair(v.y, b.y), sum_pair(v.z, b.z), sum_pair(v.w, b.w));
}

__device__ __forceinline__ u32 gated_sum_pair(u32 x, u32 gate, u32 y)
{
    return pack_bf16x2(__fadd_rn(bf16_low(x), __fmul_rn(bf16_low(gate), bf16_low(y))),
                       __fadd_rn(bf16_high(x), __fmul_rn(bf16_high(gate), bf16_high(y))));
}

// x += gate[b]·y over [batch, tokens, dim]; count8 = values / 8.
extern "C" __global__ void gated_add_bf16(uint4* x, const uint4* gate, const uint4* y, i64 count8, int dim8, int tokens,
                                          i64 gate_offset8, i64 gate_stride8)
{
    const i64 i = thread_index();
    if (i >= count8) return;
    const i64 j = i % dim8, b = i / dim8 / tokens;
    const uint4 v = x[i], g = gate[gate_offset8 + b * gate_stride8 + j], u = y[i];
    x[i] = make_uint4(gated_sum_pair(v.x, g.x, u.x), gated_sum_pair(v.y, g.y, u.y), gated_sum_pair(v.z, g.z, u.z),
                      gated_sum_pair(v.w, g.w, u.w));
}

// The activations of IBackend.ActivationInPlace, numbered as Qzo.Compute.Activation: 0 SiLU, 1 GELU (tanh), 2 GELU (erf),
// 3 quick GELU, each with torch's definition.
__device__ __forceinline__ float activated(float v, int activation)
{
    if (activation == 0) return v / (1.0f + expf(-v));
    if (activation == 1) return 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    if (activation == 2) return 0.5f * v * erfcf(-0.70710678118654752f * v);
    return v / (1.0f + expf(-1.702f * v));
}

__device__ __forceinline__ u32 activated_pair(u32 x, int activation)
{
    return pack_bf16x2(activated(bf16_low(x), activation), activated(bf16_high(x), activation));
}

// x = activation(x) in place; count8 = values / 8.
extern "C" __global__ void activation_bf16(uint4* x, i64 count8, int activation)
{
    const i64 i = thread_index();
    if (i >= count8) return;
    const uint4 v = x[i];
    x[i] = make_uint4(activated_pair(v.x, activation), activated_pair(v.y, activation), activated_pair(v.z, activation),
                      activated_pair(v.w, activation));
}

// destination[r, c] = source[r, c] for rows × columns16 chunks of 16 bytes, the matrices' offsets and row strides in chunks
// too: one thread a chunk, blockIdx.y the row (rows ≤ 65,535).
extern "C" __global__ void copy_rows_16b(const uint4* source, uint4* destination, i64 columns16, i64 source_offset16,
                                         i64 source_stride16, i64 destination_offset16, i64 destination_stride16)
{
    const i64 c = thread_index(), r = blockIdx.y;
    if (c >= columns16) return;
    destination[destination_offset16 + r * destination_stride16 + c] = source[source_offset16 + r * source_stride16 + c];
}

// ---- FP8 e4m3 operands (--compute fp8, Fp8Kernels.cs, docs/kernels.md §9) ----------------------------------------------
// A tensor's largest magnitude, then its values scaled by 448 / amax and rounded to e4m3 (round to nearest even,
// saturated to ±448), transposed where a weight is stored [k, n] so that cuBLASLt's fp8 kernels get the [n, k] they take.
// e4m3() is Qzo.Numerics.Fp8E4M3.Encode operation for operation, so the bytes equal the CPU's. GPTQ's weights are
// converted straight from their codes: the same bf16-rounded values as gptq_dequantize writes, never stored as bf16.

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
__device__ __forceinline__ float e4m3_inverse(float amax) { return amax == 0.0f ? 1.0f : __fdiv_rn(448.0f, amax); }
__device__ __forceinline__ float e4m3_scale(float amax) { return amax == 0.0f ? 1.0f : __fdiv_rn(amax, 448.0f); }

// The block's maximum into *amax_bits (atomicMax on the float bits: magnitudes order as their bits do), one atomic a
// block: a warp's each, on one address, queue at the L2 (thousands a product). Every thread of the (1-D) block calls it.
__device__ __forceinline__ void amax_publish(float m, u32* amax_bits)
{
    __shared__ float warp_maxima[32];
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) m = fmaxf(m, __shfl_xor_sync(0xFFFFFFFFu, m, offset));
    const int warp = threadIdx.x / 32, lane = threadIdx.x & 31;
    if (lane == 0) warp_maxima[warp] = m;
    __syncthreads();
    if (warp != 0) return;
    m = lane < (int)(blockDim.x + 31) / 32 ? warp_maxima[lane] : 0.0f;
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) m = fmaxf(m, __shfl_xor_sync(0xFFFFFFFFu, m, offset));
    if (lane == 0) atomicMax(amax_bits, __float_as_uint(m));
}

// *amax_bits = max(*amax_bits, |x[i]| as float bits) over i < count (the caller zeroes it first). NaNs are skipped:
// they become NaN codes in the conversion all the same. Grid-stride; 8 values per step where count is a multiple of 8.
extern "C" __global__ void amax_bf16(const unsigned short* __restrict__ x, i64 count, u32* __restrict__ amax_bits)
{
    float m = 0.0f;
    i64 stride = (i64)gridDim.x * blockDim.x;
    if ((count & 7) == 0)
    {
        const uint4* x8 = (const uint4*)x;
        for (i64 i = thread_index(); i < count / 8; i += stride)
        {
            uint4 v = x8[i];
            u32 words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
            for (int j = 0; j < 4; j++) m = fmaxf(m, fmaxf(fabsf(bf16_low(words[j])), fabsf(bf16_high(words[j]))));
        }
    }
    else
        for (i64 i = thread_index(); i < count; i += stride) m = fmaxf(m, fabsf(__uint_as_float((u32)x[i] << 16)));
    amax_publish(m, amax_bits);
}

// q[i] = e4m3(x[i] * 448 / amax), 8 values a thread (count a multiple of 8); *scale = amax / 448 for cuBLASLt.
extern "C" __global__ void quantize_e4m3_bf16(const uint4* __restrict__ x, i64 count8, const u32* __restrict__ amax_bits,
                                              uint2* __restrict__ q, float* __restrict__ scale)
{
    float amax = __uint_as_float(*amax_bits);
    i64 i = thread_index();
    if (i == 0) *scale = e4m3_scale(amax);
    if (i >= count8) return;
    float inverse = e4m3_inverse(amax);
    uint4 v = x[i];
    u32 words[4] = {v.x, v.y, v.z, v.w};
    u32 out[2] = {0u, 0u};
#pragma unroll
    for (int j = 0; j < 4; j++)
        out[j >> 1] |= (e4m3(bf16_low(words[j]) * inverse) | (e4m3(bf16_high(words[j]) * inverse) << 8)) << ((j & 1) * 16);
    q[i] = make_uint2(out[0], out[1]);
}

// q[c, r] = e4m3(x[r, c] * 448 / amax) for x [rows, cols]: 32 × 32 tiles through shared memory, blocks of 32 × 8
// threads, grid (cols / 32, rows / 32) rounded up; *scale = amax / 448.
extern "C" __global__ void quantize_e4m3_transposed_bf16(const unsigned short* __restrict__ x, int rows, int cols,
                                                         const u32* __restrict__ amax_bits, unsigned char* __restrict__ q,
                                                         float* __restrict__ scale)
{
    __shared__ float tile[32][33];
    float amax = __uint_as_float(*amax_bits);
    if (blockIdx.x == 0 && blockIdx.y == 0 && threadIdx.x == 0 && threadIdx.y == 0) *scale = e4m3_scale(amax);
    float inverse = e4m3_inverse(amax);
    int c0 = blockIdx.x * 32, r0 = blockIdx.y * 32;
#pragma unroll
    for (int j = 0; j < 32; j += 8)
    {
        int r = r0 + threadIdx.y + j, c = c0 + threadIdx.x;
        if (r < rows && c < cols) tile[threadIdx.y + j][threadIdx.x] = __uint_as_float((u32)x[(i64)r * cols + c] << 16);
    }
    __syncthreads();
#pragma unroll
    for (int j = 0; j < 32; j += 8)
    {
        int c = c0 + threadIdx.y + j, r = r0 + threadIdx.x;
        if (r < rows && c < cols) q[(i64)c * rows + r] = (unsigned char)e4m3(tile[threadIdx.x][threadIdx.y + j] * inverse);
    }
}

// GPTQ straight into e4m3 codes [out, in]: gptq_amax_from_span (below) finds the largest magnitude of the bf16-rounded
// weights from the scales, then gptq_dequantize_e4m3_*bit (the default) or gptq_dequantize_e4m3_tiled_*bit (below;
// QZO_FP8_GPTQ_CODES=tiled) writes the codes. The former writes each column's 32/BITS codes of a word as one store
// (8 bytes at 4 bits), a warp's threads on adjacent words of the same four rows (WORD_MAJOR). Codes equal
// quantize_e4m3_transposed_bf16's over gptq_dequantize's output, bit for bit, without the bf16 weight's write and reads.
template <int BITS>
struct GptqE4m3Sink
{
    static constexpr int WORDS = 32 / BITS / 4; // code bytes of one column and word, in u32s
    unsigned char* codes; // [out, in] codes, rows of `stride` bytes, whose first row is output o0 and first byte word0's
    i64 stride;
    int word0, o0;
    float inverse;
    u32 packed[4][WORDS];
    __device__ __forceinline__ void row(int, int k, int, float w0, float w1, float w2, float w3)
    {
        const float w[4] = {w0, w1, w2, w3};
#pragma unroll
        for (int j = 0; j < 4; j++)
        {
            u32 code = e4m3(bf16_rounded(w[j]) * inverse) << ((k & 3) * 8);
            packed[j][k >> 2] = (k & 3) == 0 ? code : packed[j][k >> 2] | code;
        }
    }
    __device__ __forceinline__ void word(int word, int o)
    {
#pragma unroll
        for (int j = 0; j < 4; j++)
        {
            u32* column = (u32*)(codes + (o - o0 + j) * stride + (i64)(word - word0) * (32 / BITS));
#pragma unroll
            for (int w = 0; w < WORDS; w++) column[w] = packed[j][w];
        }
    }
};

#define GPTQ_E4M3_ENTRIES(BITS)                                                                                             \
    extern "C" __global__ void gptq_dequantize_e4m3_##BITS##bit(const u32* qweight, const u32* qzeros, const float* scales, \
                                                                const int* g_idx, int in_features, int out_features,      \
                                                                int zeros_offset_by_one, const u32* amax_bits,            \
                                                                unsigned char* codes, float* scale)                       \
    {                                                                                                                      \
        float amax = __uint_as_float(*amax_bits);                                                                          \
        if (thread_index() == 0) *scale = e4m3_scale(amax);                                                                \
        GptqE4m3Sink<BITS> sink{codes, in_features, 0, 0, e4m3_inverse(amax)};                                             \
        gptq_weights<BITS, true>(qweight, qzeros, scales, g_idx, in_features, out_features, zeros_offset_by_one, sink);   \
    }
GPTQ_E4M3_ENTRIES(2)
GPTQ_E4M3_ENTRIES(4)
GPTQ_E4M3_ENTRIES(8)

// The same codes through a shared-memory tile, so that both the loads and the stores coalesce: a block of 256 threads
// takes 128 inputs (TILE_WORDS word rows) × 64 outputs; its threads read whole 16-byte column quads of word rows (a warp:
// two 256-byte row pieces), write each quad's codes into the tile's [out, in] rows, and then store the tile's 64 rows
// of 128 code bytes as 16-byte pieces, eight threads a row. WORD_MAJOR's loads, one word row apart from lane to lane,
// read a sector for every 16 bytes. Grid (ceil(in / 128), ceil(out / 64)); in a multiple of 16, out of 4 (the host checks).
#define E4M3_TILE_INPUTS 128
#define E4M3_TILE_OUTPUTS 64
#define E4M3_TILE_STRIDE (E4M3_TILE_INPUTS + 16) // bytes a tile row; 16 more keep the rows' banks apart

template <int BITS>
__device__ __forceinline__ void gptq_e4m3_tiled(const u32* qweight, const u32* qzeros, const float* scales, const int* g_idx,
                                                int in_features, int out_features, int zeros_offset_by_one, const u32* amax_bits,
                                                unsigned char* codes, float* scale)
{
    __shared__ __align__(16) unsigned char tile[E4M3_TILE_OUTPUTS * E4M3_TILE_STRIDE];
    constexpr int PER_WORD = 32 / BITS, TILE_WORDS = E4M3_TILE_INPUTS / PER_WORD, QUADS = E4M3_TILE_OUTPUTS / 4;
    const float amax = __uint_as_float(*amax_bits);
    if (blockIdx.x == 0 && blockIdx.y == 0 && threadIdx.x == 0) *scale = e4m3_scale(amax);
    const int word0 = blockIdx.x * TILE_WORDS, o0 = blockIdx.y * E4M3_TILE_OUTPUTS, words = in_features / PER_WORD;
    GptqE4m3Sink<BITS> sink{tile, E4M3_TILE_STRIDE, word0, o0, e4m3_inverse(amax)};
    for (int c = threadIdx.x; c < TILE_WORDS * QUADS; c += blockDim.x)
    {
        const int word = word0 + c / QUADS, o = o0 + (c % QUADS) * 4;
        if (word < words && o < out_features)
            gptq_word_weights<BITS>(qweight, qzeros, scales, g_idx, out_features, zeros_offset_by_one, word, o, sink);
    }
    __syncthreads();
    const int row_bytes = min(E4M3_TILE_INPUTS, in_features - word0 * PER_WORD); // a multiple of 16
    for (int c = threadIdx.x; c < E4M3_TILE_OUTPUTS * (E4M3_TILE_INPUTS / 16); c += blockDim.x)
    {
        const int r = c / (E4M3_TILE_INPUTS / 16), piece = c % (E4M3_TILE_INPUTS / 16);
        if (o0 + r < out_features && piece * 16 < row_bytes)
            *(uint4*)(codes + (i64)(o0 + r) * in_features + (i64)word0 * PER_WORD + piece * 16) =
                *(const uint4*)(tile + r * E4M3_TILE_STRIDE + piece * 16);
    }
}

#define GPTQ_E4M3_TILED_ENTRY(BITS)                                                                                       \
    extern "C" __global__ void gptq_dequantize_e4m3_tiled_##BITS##bit(const u32* qweight, const u32* qzeros,              \
        const float* scales, const int* g_idx, int in_features, int out_features, int zeros_offset_by_one,               \
        const u32* amax_bits, unsigned char* codes, float* scale)                                                         \
    {                                                                                                                    \
        gptq_e4m3_tiled<BITS>(qweight, qzeros, scales, g_idx, in_features, out_features, zeros_offset_by_one, amax_bits,   \
                              codes, scale);                                                                             \
    }
GPTQ_E4M3_TILED_ENTRY(2)
GPTQ_E4M3_TILED_ENTRY(4)
GPTQ_E4M3_TILED_ENTRY(8)

// The amax of a pass's GPTQ weights without reading the codes. gptq_code_span_*bit, once per linear: span[g·out + o] =
// the largest |q − zero| of group g and output o (the caller zeroes span). Then per pass gptq_amax_from_span: the largest
// bf16(span · |scale|) over the effective scales, which equals the largest |weight| of the pass: |fl((q − zero)·s)| and its
// bf16 rounding never shrink as |q − zero| grows, and a group's NaN or infinite products are NaN in both (skipped).
template <int BITS>
__device__ __forceinline__ void gptq_code_span(const u32* qweight, const u32* qzeros, const int* g_idx, int in_features,
                                               int out_features, int zeros_offset_by_one, u32* span)
{
    const int per_word = 32 / BITS;
    const u32 mask = (1u << BITS) - 1u;
    const int quads = out_features / 4, words = in_features / per_word;
    i64 t = thread_index();
    if (t >= (i64)words * quads) return;
    const int word = (int)(t / quads), o = (int)(t - (i64)word * quads) * 4;
    const uint4 packed = *(const uint4*)(qweight + (i64)word * out_features + o);
    const u32 columns[4] = {packed.x, packed.y, packed.z, packed.w};
    const int zero_words = out_features * BITS / 32, zero_bit = o * BITS, zero_shift = zero_bit & 31;
    int group = -1;
    u32 zero[4], widest[4];
#pragma unroll
    for (int k = 0; k < per_word; k++)
    {
        int g = g_idx[word * per_word + k];
        if (g != group)
        {
            if (group >= 0)
                for (int j = 0; j < 4; j++) atomicMax(span + (i64)group * out_features + o + j, widest[j]);
            group = g;
            u32 zeros = qzeros[(i64)g * zero_words + (zero_bit >> 5)];
#pragma unroll
            for (int j = 0; j < 4; j++)
            {
                zero[j] = (zeros >> (zero_shift + j * BITS)) & mask;
                if (zeros_offset_by_one) zero[j] = (zero[j] + 1u) & mask;
                widest[j] = 0u;
            }
        }
#pragma unroll
        for (int j = 0; j < 4; j++)
        {
            u32 q = (columns[j] >> (k * BITS)) & mask;
            widest[j] = max(widest[j], q > zero[j] ? q - zero[j] : zero[j] - q);
        }
    }
    for (int j = 0; j < 4; j++) atomicMax(span + (i64)group * out_features + o + j, widest[j]);
}

#define GPTQ_SPAN_ENTRY(BITS)                                                                                             \
    extern "C" __global__ void gptq_code_span_##BITS##bit(const u32* qweight, const u32* qzeros, const int* g_idx,       \
                                                          int in_features, int out_features, int zeros_offset_by_one,   \
                                                          u32* span)                                                    \
    {                                                                                                                    \
        gptq_code_span<BITS>(qweight, qzeros, g_idx, in_features, out_features, zeros_offset_by_one, span);             \
    }
GPTQ_SPAN_ENTRY(2)
GPTQ_SPAN_ENTRY(4)
GPTQ_SPAN_ENTRY(8)

// *amax_bits = max(*amax_bits, bf16(span[i] · |scales[i]|)) over i < count (grid-stride; the caller zeroes it first).
extern "C" __global__ void gptq_amax_from_span(const float* __restrict__ scales, const u32* __restrict__ span, i64 count,
                                               u32* __restrict__ amax_bits)
{
    float m = 0.0f;
    const i64 stride = (i64)gridDim.x * blockDim.x;
    for (i64 i = thread_index(); i < count; i += stride)
        m = fmaxf(m, bf16_rounded(__fmul_rn((float)span[i], fabsf(scales[i]))));
    amax_publish(m, amax_bits);
}

// bitsandbytes 4-bit straight into e4m3 codes, [out, in] as stored: bnb4_amax takes the largest magnitude of the
// bf16-rounded weights (bnb4_dequantize_bf16's values), bnb4_dequantize_e4m3 writes a thread's 32 codes as two 16-byte
// stores. Value 2j of a thread is byte j's high nibble, 2j + 1 its low one; the 32 share one absmax block.
__device__ __forceinline__ void bnb4_values(const uint4* packed, const float* code, const float* absmax, i64 t, int block_size,
                                            float (&v)[32])
{
    const float scale = absmax[t * 32 / block_size];
    const uint4 p = packed[t];
    const u32 words[4] = {p.x, p.y, p.z, p.w};
#pragma unroll
    for (int j = 0; j < 16; j++)
    {
        u32 byte = (words[j >> 2] >> (8 * (j & 3))) & 0xFFu;
        v[2 * j] = bf16_rounded(code[byte >> 4] * scale);
        v[2 * j + 1] = bf16_rounded(code[byte & 0xFu] * scale);
    }
}

extern "C" __global__ void bnb4_amax(const uint4* packed, const float* code, const float* absmax, i64 count32, int block_size,
                                     u32* amax_bits)
{
    float m = 0.0f;
    i64 t = thread_index();
    if (t < count32)
    {
        float v[32];
        bnb4_values(packed, code, absmax, t, block_size, v);
#pragma unroll
        for (int j = 0; j < 32; j++) m = fmaxf(m, fabsf(v[j]));
    }
    amax_publish(m, amax_bits);
}

extern "C" __global__ void bnb4_dequantize_e4m3(const uint4* packed, const float* code, const float* absmax, i64 count32,
                                                int block_size, const u32* amax_bits, uint4* codes, float* scale)
{
    float amax = __uint_as_float(*amax_bits);
    i64 t = thread_index();
    if (t == 0) *scale = e4m3_scale(amax);
    if (t >= count32) return;
    float inverse = e4m3_inverse(amax), v[32];
    bnb4_values(packed, code, absmax, t, block_size, v);
    u32 out[8];
#pragma unroll
    for (int w = 0; w < 8; w++)
        out[w] = e4m3(v[4 * w] * inverse) | (e4m3(v[4 * w + 1] * inverse) << 8) | (e4m3(v[4 * w + 2] * inverse) << 16)
               | (e4m3(v[4 * w + 3] * inverse) << 24);
    codes[2 * t] = make_uint4(out[0], out[1], out[2], out[3]);
    codes[2 * t + 1] = make_uint4(out[4], out[5], out[6], out[7]);
}

// bitsandbytes 4-bit dequantization into bf16 [out, in]: value k = code[nibble k] · absmax[k / block_size], the nibbles
// of a byte high first; the absmax arrive already perturbed (fp32). Sixteen packed bytes, 32 values, per thread: one
// block's absmax serves them all (block_size % 32 == 0), the 16-entry table sits in shared memory. A thread's 64 output
// bytes are staged in shared memory and the group stores them contiguously (a thread's own four 16-byte stores would
// each touch every other 64 bytes of a warp's span). count32 = values / 32; at most 256 threads a group.
extern "C" __global__ void bnb4_dequantize_bf16(const uint4* packed, const float* code, const float* absmax, uint4* weight,
                                                i64 count32, int block_size)
{
    __shared__ float table[16];
    __shared__ uint4 staged[4 * 256];
    if (threadIdx.x < 16) table[threadIdx.x] = code[threadIdx.x];
    __syncthreads();
    const i64 first = (i64)blockIdx.x * blockDim.x, t = first + threadIdx.x;
    if (t < count32)
    {
        const float scale = absmax[t * 32 / block_size];
        const uint4 p = packed[t];
        const u32 words[4] = { p.x, p.y, p.z, p.w };
        u32 pairs[16];
#pragma unroll
        for (int w = 0; w < 4; w++)
#pragma unroll
            for (int b = 0; b < 4; b++)
            {
                u32 byte = (words[w] >> (8 * b)) & 0xFFu;
                pairs[4 * w + b] = pack_bf16x2(table[byte >> 4] * scale, table[byte & 0xFu] * scale);
            }
#pragma unroll
        for (int q = 0; q < 4; q++)
            staged[4 * threadIdx.x + q] = make_uint4(pairs[4 * q], pairs[4 * q + 1], pairs[4 * q + 2], pairs[4 * q + 3]);
    }
    __syncthreads();
    const i64 rest = count32 - first, chunks = 4 * (rest < (i64)blockDim.x ? rest : (i64)blockDim.x);
    for (i64 j = threadIdx.x; j < chunks; j += blockDim.x) weight[4 * first + j] = staged[j];
}
