// Attention on tensor cores (FlashAttention-2 style), compiled at run time by NVRTC for the GPU at hand
// (sm_80 or newer: mma.sync m16n8k16 bf16 and ldmatrix). No headers: bf16 is handled as raw bits.
//
// Causal GQA (flash_attention_hd*, the language models): q, out [batch, seq, heads, HD]; k, v [batch, seq,
// kv_heads, HD]; key_mask [batch, seq] (nonzero = real token). Query i sees key j iff j <= i, key_mask[b, j] != 0
// and, with a sliding window w > 0, i - j < w. A query that sees no key gets 0.
// Full (full_attention_hd*, the image models and text encoders): q, out [batch, queries, heads, HD]; k, v
// [batch, keys, heads, HD]; every query sees every key. full_attention_bias_hd* adds bias[h, i, j] (fp32
// [heads, queries, keys], shared by the batch; −∞ masks) to the scaled score. A query whose keys are all −∞ gets 0.
//
// One block of 4 warps serves 64 queries of one (batch, head); each warp owns 16 query rows and keeps
// their Q fragments, running max/sum and output accumulators in registers. K/V tiles of 64 keys pass
// through shared memory, rows padded by 8 elements so ldmatrix reads hit 32 distinct banks.
// Scores are kept in the log2 domain (scale folded with log2 e) so the softmax uses exp2.

typedef unsigned short bf16_t;
typedef unsigned int u32;

#define BLOCK_Q 64
#define BLOCK_K 64
#define WARPS 4
#define NEG_INF (-__int_as_float(0x7f800000))
#define LOG2_E 1.4426950408889634f

__device__ __forceinline__ u32 shared_address(const void* pointer)
{
    u32 address;
    asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }" : "=r"(address) : "l"(pointer));
    return address;
}

__device__ __forceinline__ u32 pack_bf16x2(float low, float high)
{
    u32 packed;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(packed) : "f"(high), "f"(low));
    return packed;
}

__device__ __forceinline__ void mma_bf16(float (&d)[4], const u32 (&a)[4], u32 b0, u32 b1)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ void ldmatrix_x4(u32& r0, u32& r1, u32& r2, u32& r3, const bf16_t* row)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(shared_address(row)));
}

__device__ __forceinline__ void ldmatrix_x4_transposed(u32& r0, u32& r1, u32& r2, u32& r3, const bf16_t* row)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(shared_address(row)));
}

// CAUSAL: the language models' masks (key_mask, the window; seq_q = seq_k). Otherwise every key is visible, and BIAS
// adds bias[h, i, j]·log2 e to the scaled score (the log2 domain of the softmax below).
template <int HD, bool CAUSAL, bool BIAS>
__device__ __forceinline__ void flash_attention(const bf16_t* __restrict__ q, const bf16_t* __restrict__ k,
    const bf16_t* __restrict__ v, const int* __restrict__ key_mask, const float* __restrict__ bias, bf16_t* __restrict__ out,
    int seq_q, int seq_k, int heads, int kv_heads, float scale_log2, int window)
{
    constexpr int STRIDE = HD + 8;     // shared row length in elements (16-byte aligned, bank-conflict free)
    constexpr int K_STEPS = HD / 16;   // k-steps of Q·Kᵀ
    constexpr int D_TILES = HD / 8;    // n-tiles of the output
    constexpr int S_TILES = BLOCK_K / 8;
    __shared__ __align__(16) bf16_t keys[BLOCK_K * STRIDE];
    __shared__ __align__(16) bf16_t values[BLOCK_K * STRIDE];
    __shared__ int visible_key[BLOCK_K];

    const int tiles = (seq_q + BLOCK_Q - 1) / BLOCK_Q;
    const int tile = tiles - 1 - blockIdx.x;   // the longest (last) query tiles start first
    const int b = blockIdx.y / heads, h = blockIdx.y % heads, kvh = h / (heads / kv_heads);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    const int q0 = tile * BLOCK_Q + warp * 16;          // this warp's first query
    const int row0 = q0 + g, row1 = q0 + g + 8;         // the two query rows this thread holds
    const long q_stride = (long)heads * HD, kv_stride = (long)kv_heads * HD;
    const bf16_t* q_base = q + (long)b * seq_q * q_stride + (long)h * HD;
    const bf16_t* k_base = k + (long)b * seq_k * kv_stride + (long)kvh * HD;
    const bf16_t* v_base = v + (long)b * seq_k * kv_stride + (long)kvh * HD;
    // Rows past the last query read the last query's bias (their results are never stored).
    const float* bias_row0 = BIAS ? bias + ((long)h * seq_q + min(row0, seq_q - 1)) * seq_k : nullptr;
    const float* bias_row1 = BIAS ? bias + ((long)h * seq_q + min(row1, seq_q - 1)) * seq_k : nullptr;

    u32 qf[K_STEPS][4];
#pragma unroll
    for (int kk = 0; kk < K_STEPS; kk++)
    {
        int c = kk * 16 + 2 * t;
        qf[kk][0] = row0 < seq_q ? *(const u32*)(q_base + row0 * q_stride + c) : 0u;
        qf[kk][1] = row1 < seq_q ? *(const u32*)(q_base + row1 * q_stride + c) : 0u;
        qf[kk][2] = row0 < seq_q ? *(const u32*)(q_base + row0 * q_stride + c + 8) : 0u;
        qf[kk][3] = row1 < seq_q ? *(const u32*)(q_base + row1 * q_stride + c + 8) : 0u;
    }

    float o[D_TILES][4];
#pragma unroll
    for (int d = 0; d < D_TILES; d++) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.f;
    float m0 = NEG_INF, m1 = NEG_INF, l0 = 0.f, l1 = 0.f;

    const int block_first = tile * BLOCK_Q;
    const int block_last = min(block_first + BLOCK_Q, seq_q) - 1;
    const int first_key = CAUSAL && window > 0 ? max(0, block_first - window + 1) : 0;
    const int last_key = CAUSAL ? block_last : seq_k - 1;
    const bool warp_active = q0 < seq_q;

    for (int kt = first_key / BLOCK_K; kt <= last_key / BLOCK_K; kt++)
    {
        const int key0 = kt * BLOCK_K;
        __syncthreads();   // the previous tile is no longer read
        for (int chunk = threadIdx.x; chunk < BLOCK_K * HD / 8; chunk += WARPS * 32)
        {
            int r = chunk / (HD / 8), c = (chunk % (HD / 8)) * 8, j = key0 + r;
            uint4 kx = make_uint4(0, 0, 0, 0), vx = make_uint4(0, 0, 0, 0);
            if (j < seq_k)
            {
                kx = *(const uint4*)(k_base + j * kv_stride + c);
                vx = *(const uint4*)(v_base + j * kv_stride + c);
            }
            *(uint4*)(keys + r * STRIDE + c) = kx;
            *(uint4*)(values + r * STRIDE + c) = vx;
        }
        if (CAUSAL && threadIdx.x < BLOCK_K)
            visible_key[threadIdx.x] = key0 + threadIdx.x < seq_k && key_mask[(long)b * seq_k + key0 + threadIdx.x] != 0;
        __syncthreads();

        // Skip tiles wholly in this warp's future or wholly outside its window.
        if (!warp_active) continue;
        if (CAUSAL && (key0 > q0 + 15 || (window > 0 && key0 + BLOCK_K - 1 <= q0 - window))) continue;

        float s[S_TILES][4];
#pragma unroll
        for (int n = 0; n < S_TILES; n++)
        {
            s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
#pragma unroll
            for (int kk = 0; kk < K_STEPS; kk += 2)
            {
                u32 b0, b1, b2, b3;
                ldmatrix_x4(b0, b1, b2, b3, keys + (n * 8 + lane % 8) * STRIDE + kk * 16 + (lane / 8) * 8);
                mma_bf16(s[n], qf[kk], b0, b1);
                mma_bf16(s[n], qf[kk + 1], b2, b3);
            }
        }

        float tile_max0 = NEG_INF, tile_max1 = NEG_INF;
#pragma unroll
        for (int n = 0; n < S_TILES; n++)
#pragma unroll
            for (int e = 0; e < 4; e++)
            {
                int jl = n * 8 + 2 * t + (e & 1), j = key0 + jl, i = e < 2 ? row0 : row1;
                if (CAUSAL)
                {
                    bool visible = visible_key[jl] && j <= i && (window <= 0 || i - j < window);
                    s[n][e] = visible ? s[n][e] * scale_log2 : NEG_INF;
                }
                else if (j >= seq_k) s[n][e] = NEG_INF;
                else if (BIAS) s[n][e] = fmaf(s[n][e], scale_log2, (e < 2 ? bias_row0 : bias_row1)[j] * LOG2_E);
                else s[n][e] *= scale_log2;
                if (e < 2) tile_max0 = fmaxf(tile_max0, s[n][e]); else tile_max1 = fmaxf(tile_max1, s[n][e]);
            }
        tile_max0 = fmaxf(tile_max0, __shfl_xor_sync(0xffffffffu, tile_max0, 1));
        tile_max0 = fmaxf(tile_max0, __shfl_xor_sync(0xffffffffu, tile_max0, 2));
        tile_max1 = fmaxf(tile_max1, __shfl_xor_sync(0xffffffffu, tile_max1, 1));
        tile_max1 = fmaxf(tile_max1, __shfl_xor_sync(0xffffffffu, tile_max1, 2));

        // A row that has seen no visible key yet keeps max −∞; subtracting 0 instead keeps exp2 at 0, not NaN.
        float new_m0 = fmaxf(m0, tile_max0), new_m1 = fmaxf(m1, tile_max1);
        float base0 = new_m0 == NEG_INF ? 0.f : new_m0, base1 = new_m1 == NEG_INF ? 0.f : new_m1;
        float correction0 = exp2f(m0 - base0), correction1 = exp2f(m1 - base1);
        m0 = new_m0; m1 = new_m1;
        float sum0 = 0.f, sum1 = 0.f;
#pragma unroll
        for (int n = 0; n < S_TILES; n++)
        {
            s[n][0] = exp2f(s[n][0] - base0); s[n][1] = exp2f(s[n][1] - base0);
            s[n][2] = exp2f(s[n][2] - base1); s[n][3] = exp2f(s[n][3] - base1);
            sum0 += s[n][0] + s[n][1]; sum1 += s[n][2] + s[n][3];
        }
        l0 = l0 * correction0 + sum0; l1 = l1 * correction1 + sum1;
#pragma unroll
        for (int d = 0; d < D_TILES; d++)
        {
            o[d][0] *= correction0; o[d][1] *= correction0;
            o[d][2] *= correction1; o[d][3] *= correction1;
        }

        // P·V: the score accumulators of two adjacent key n-tiles are exactly an A fragment of 16 keys.
#pragma unroll
        for (int kk = 0; kk < BLOCK_K / 16; kk++)
        {
            u32 p[4] = { pack_bf16x2(s[2 * kk][0], s[2 * kk][1]), pack_bf16x2(s[2 * kk][2], s[2 * kk][3]),
                         pack_bf16x2(s[2 * kk + 1][0], s[2 * kk + 1][1]), pack_bf16x2(s[2 * kk + 1][2], s[2 * kk + 1][3]) };
#pragma unroll
            for (int d = 0; d < D_TILES; d += 2)
            {
                u32 b0, b1, b2, b3;
                int matrix = lane / 8;
                ldmatrix_x4_transposed(b0, b1, b2, b3,
                    values + (kk * 16 + (matrix & 1) * 8 + lane % 8) * STRIDE + (d + (matrix >> 1)) * 8);
                mma_bf16(o[d], p, b0, b1);
                mma_bf16(o[d + 1], p, b2, b3);
            }
        }
    }

    l0 += __shfl_xor_sync(0xffffffffu, l0, 1); l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 1); l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
    float inverse0 = l0 > 0.f ? 1.f / l0 : 0.f, inverse1 = l1 > 0.f ? 1.f / l1 : 0.f;
    bf16_t* out_base = out + (long)b * seq_q * q_stride + (long)h * HD;
#pragma unroll
    for (int d = 0; d < D_TILES; d++)
    {
        int c = d * 8 + 2 * t;
        if (row0 < seq_q) *(u32*)(out_base + row0 * q_stride + c) = pack_bf16x2(o[d][0] * inverse0, o[d][1] * inverse0);
        if (row1 < seq_q) *(u32*)(out_base + row1 * q_stride + c) = pack_bf16x2(o[d][2] * inverse1, o[d][3] * inverse1);
    }
}

#define ENTRY(HD) \
    extern "C" __global__ void __launch_bounds__(WARPS * 32) flash_attention_hd##HD( \
        const bf16_t* q, const bf16_t* k, const bf16_t* v, const int* key_mask, bf16_t* out, \
        int seq, int heads, int kv_heads, float scale_log2, int window) \
    { flash_attention<HD, true, false>(q, k, v, key_mask, nullptr, out, seq, seq, heads, kv_heads, scale_log2, window); }

#define FULL_ENTRY(HD) \
    extern "C" __global__ void __launch_bounds__(WARPS * 32) full_attention_hd##HD( \
        const bf16_t* q, const bf16_t* k, const bf16_t* v, bf16_t* out, int queries, int keys, int heads, float scale_log2) \
    { flash_attention<HD, false, false>(q, k, v, nullptr, nullptr, out, queries, keys, heads, heads, scale_log2, 0); } \
    extern "C" __global__ void __launch_bounds__(WARPS * 32) full_attention_bias_hd##HD( \
        const bf16_t* q, const bf16_t* k, const bf16_t* v, const float* bias, bf16_t* out, int queries, int keys, int heads, \
        float scale_log2) \
    { flash_attention<HD, false, true>(q, k, v, nullptr, bias, out, queries, keys, heads, heads, scale_log2, 0); }

// Two modules from this file: the causal kernels at start-up, the full ones (-DFULL_ATTENTION) when an image model
// first needs them, so a language model does not wait for eight more kernels to compile.
#ifndef FULL_ATTENTION
ENTRY(32)
ENTRY(64)
ENTRY(96)
ENTRY(128)
#else
FULL_ENTRY(32)
FULL_ENTRY(64)
FULL_ENTRY(96)
FULL_ENTRY(128)
#endif
