// GPTQ 4-bit linear on tensor cores, compiled at run time by NVRTC (Quantization/Gptq/Kernels/GptqFusedKernel.cs):
//   y[M, N] (+)= x[M, K] · W[K, N],  W[k, n] = bf16(scale[g_idx[k], n] · (q[k, n] − zero[g_idx[k], n]))
// with W formed in registers from the packed codes and never written to memory. Each weight is the value the
// dequantization kernels write (streaming_kernels.cu's gptq_dequantize, GptqDequantKernel.cs): q − zero exact in fp32,
// one fp32 product with the (already perturbed) fp32 scale, one rounding to bf16. So a fused product equals dequantize +
// GEMM up to the order of the fp32 sums. sm_80 or newer: cp.async, ldmatrix, mma.sync m16n8k16 bf16 with fp32 sums.
//
// Layouts (docs/formats.md §4): x bf16 [M, K] row-major; qweight u32 [K/8, N] (eight inputs of one output per word,
// input 8w + i at bits 4i); qzeros u32 [groups, N/8] (output n at bits 4·(n % 8) of word n / 8); scales fp32
// [groups, N]; g_idx int [K]; y bf16 [M, N]. K and N multiples of 8; M any. Rows, inputs and outputs past the ends
// are read as zeros (cp.async's zero fill) and never stored.
//
// Block tile BM × BN of y, warps WARPS_M × WARPS_N, each warp MT × NT fragments of 16 × 8 (its A fragments serve NT
// mma, its dequantized B fragments MT). The K loop moves BK = 64 inputs a stage through a ring of STAGES buffers in
// dynamic shared memory filled by cp.async, so the loads of stage kt + 2 overlap the products of stage kt. Per stage:
//   A  [BM][BK + 8] bf16 (rows padded by 16 bytes: ldmatrix's eight row addresses hit distinct banks)
//   Q  [BK / 8][BN] u32, the qweight rows of the stage
//   S  [BN] fp32 and Z [BN / 8] u32: the stage's group's scales and zeros (ORDERED)
//   G  [BK] int: the stage's g_idx (not ORDERED)
// ORDERED: g_idx[k] = k / group_size with group_size a multiple of BK, so a stage lies in one group and each thread
// keeps its NT scales and zeros in registers for the stage. Otherwise (act-order, or groups smaller than a stage) each
// weight looks its group up in G and reads its scale and zero from global memory (cached): correct at any g_idx, slower.
//
// B fragment of mma.m16n8k16 (.col): lane (g = lane / 4, t = lane % 4) holds W[2t, 2t+1; n = g] in b0 and
// W[2t+8, 2t+9; g] in b1 of the 16 × 8 tile. The 16 inputs are two qweight words of column g, and the thread's four
// values are nibbles 2t, 2t+1 of each: one shift by 8t per word, no data exchanged between lanes.
// No header is included: NVRTC on a bare driver install has none.

typedef unsigned short bf16_t;
typedef unsigned int u32;
typedef long long i64;

#define BK 64
#define STAGES 3
#define A_STRIDE (BK + 8)

// ---- device helpers: inline PTX (tests/cuda-emulation replaces this section with its emulation) ---------------------

__device__ __forceinline__ u32 shared_address(const void* pointer)
{
    u32 address;
    asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }" : "=r"(address) : "l"(pointer));
    return address;
}

// 16 bytes global → shared, bypassing L1; zeros when !valid (src-size 0: nothing is read).
__device__ __forceinline__ void cp_async_16(void* shared, const void* global, bool valid)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" :: "r"(shared_address(shared)), "l"(global), "r"(valid ? 16 : 0));
}

__device__ __forceinline__ void cp_async_4(void* shared, const void* global, bool valid)
{
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" :: "r"(shared_address(shared)), "l"(global), "r"(valid ? 4 : 0));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;"); }

template <int PENDING>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;" :: "n"(PENDING)); }

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

// ---- end of device helpers ------------------------------------------------------------------------------------------

__device__ __forceinline__ float bf16_low(u32 pair) { return __uint_as_float(pair << 16); }
__device__ __forceinline__ float bf16_high(u32 pair) { return __uint_as_float(pair & 0xFFFF0000u); }

// 2^23 + v as fp32: subtracting two of these gives v − w exactly, without an integer-to-float conversion.
__device__ __forceinline__ float offset_code(u32 v) { return __uint_as_float(0x4B000000u | v); }

// The two weights of nibbles 0 and 1 of `codes` (rows 2t and 2t+1 of a B fragment), as streaming_kernels.cu's
// gptq_dequantize rounds them: (q − zero)·scale in fp32 (the _rn intrinsics never contract), then bf16.
__device__ __forceinline__ u32 dequantize_pair(u32 codes, float scale0, float zero0, float scale1, float zero1)
{
    float w0 = __fmul_rn(__fsub_rn(offset_code(codes & 0xFu), zero0), scale0);
    float w1 = __fmul_rn(__fsub_rn(offset_code((codes >> 4) & 0xFu), zero1), scale1);
    return pack_bf16x2(w0, w1);
}

// The fp32 zero offset (2^23 + zero) of output n from its qzeros word.
__device__ __forceinline__ float zero_offset(u32 word, int n, int zeros_offset_by_one)
{
    u32 zero = (word >> (4 * (n & 7))) & 0xFu;
    if (zeros_offset_by_one) zero = (zero + 1u) & 0xFu;
    return offset_code(zero);
}

template <int BM, int BN>
struct FusedLayout
{
    static constexpr int A_BYTES = BM * A_STRIDE * 2, Q_BYTES = BK / 8 * BN * 4, S_BYTES = BN * 4, Z_BYTES = BN / 2, G_BYTES = BK * 4;
    static constexpr int STAGE_BYTES = A_BYTES + Q_BYTES + S_BYTES + Z_BYTES + G_BYTES; // each part a multiple of 16
    static constexpr int SHARED_BYTES = STAGES * STAGE_BYTES;                          // GptqFusedKernel.SharedBytes
};

template <int WARPS_M, int WARPS_N, int MT, int NT, bool ORDERED>
__device__ __forceinline__ void gptq_fused_4bit(unsigned char* shared, const bf16_t* __restrict__ x, const u32* __restrict__ qweight,
    const u32* __restrict__ qzeros, const float* __restrict__ scales, const int* __restrict__ g_idx, bf16_t* __restrict__ y,
    int M, int N, int K, int group_size, int zeros_offset_by_one, int accumulate)
{
    constexpr int BM = WARPS_M * MT * 16, BN = WARPS_N * NT * 8, THREADS = WARPS_M * WARPS_N * 32;
    typedef FusedLayout<BM, BN> L;
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, t = lane % 4;
    const int warp_row = (warp / WARPS_N) * MT * 16, warp_col = (warp % WARPS_N) * NT * 8;
    const int m0 = blockIdx.x * BM, n0 = blockIdx.y * BN;   // x fastest: the blocks sharing a weight tile run together
    const int tiles = (K + BK - 1) / BK, zero_words = N / 8;

    auto load_stage = [&](int tile, int stage)
    {
        unsigned char* base = shared + stage * L::STAGE_BYTES;
        bf16_t* a = (bf16_t*)base;
        u32* q = (u32*)(base + L::A_BYTES);
        const int k0 = tile * BK;
        for (int c = tid; c < BM * (BK / 8); c += THREADS)
        {
            int r = c / (BK / 8), col = c % (BK / 8) * 8, m = m0 + r, k = k0 + col;
            bool valid = m < M && k < K;
            cp_async_16(a + r * A_STRIDE + col, valid ? x + (i64)m * K + k : x, valid);
        }
        for (int c = tid; c < BK / 8 * (BN / 4); c += THREADS)
        {
            int r = c / (BN / 4), col = c % (BN / 4) * 4, word_row = k0 / 8 + r, n = n0 + col;
            bool valid = word_row < K / 8 && n < N;
            cp_async_16(q + r * BN + col, valid ? qweight + (i64)word_row * N + n : qweight, valid);
        }
        if (ORDERED)
        {
            float* s = (float*)(base + L::A_BYTES + L::Q_BYTES);
            u32* z = (u32*)(base + L::A_BYTES + L::Q_BYTES + L::S_BYTES);
            const i64 group = k0 / group_size;
            for (int c = tid; c < BN / 4; c += THREADS)
            {
                int n = n0 + 4 * c;
                cp_async_16(s + 4 * c, n < N ? scales + group * N + n : scales, n < N);
            }
            for (int c = tid; c < BN / 8; c += THREADS)
            {
                int word = n0 / 8 + c;
                cp_async_4(z + c, word < zero_words ? qzeros + group * zero_words + word : qzeros, word < zero_words);
            }
        }
        else
        {
            int* groups = (int*)(base + L::A_BYTES + L::Q_BYTES + L::S_BYTES + L::Z_BYTES);
            for (int c = tid; c < BK / 4; c += THREADS)
            {
                int k = k0 + 4 * c;
                cp_async_16(groups + 4 * c, k < K ? g_idx + k : g_idx, k < K); // past K: group 0, times zero inputs
            }
        }
    };

    float acc[MT][NT][4];
#pragma unroll
    for (int i = 0; i < MT; i++)
#pragma unroll
        for (int j = 0; j < NT; j++) acc[i][j][0] = acc[i][j][1] = acc[i][j][2] = acc[i][j][3] = 0.f;

#pragma unroll
    for (int s = 0; s < STAGES - 1; s++)
    {
        if (s < tiles) load_stage(s, s);
        cp_async_commit();   // an empty group past the last tile keeps the count that cp_async_wait relies on
    }

    for (int tile = 0; tile < tiles; tile++)
    {
        cp_async_wait<STAGES - 2>();   // this tile's group has landed (for this thread) ...
        __syncthreads();               // ... for every thread, and nobody still reads the stage refilled below
        if (tile + STAGES - 1 < tiles) load_stage(tile + STAGES - 1, (tile + STAGES - 1) % STAGES);
        cp_async_commit();

        const unsigned char* base = shared + tile % STAGES * L::STAGE_BYTES;
        const bf16_t* a_tile = (const bf16_t*)base;
        const u32* q_tile = (const u32*)(base + L::A_BYTES);
        float scale[NT], zero[NT];
        if (ORDERED)
        {
            const float* s = (const float*)(base + L::A_BYTES + L::Q_BYTES);
            const u32* z = (const u32*)(base + L::A_BYTES + L::Q_BYTES + L::S_BYTES);
#pragma unroll
            for (int j = 0; j < NT; j++)
            {
                int col = warp_col + j * 8 + g;
                scale[j] = s[col];
                zero[j] = zero_offset(z[col / 8], col, zeros_offset_by_one);
            }
        }
        const int* tile_groups = (const int*)(base + L::A_BYTES + L::Q_BYTES + L::S_BYTES + L::Z_BYTES);

#pragma unroll
        for (int step = 0; step < BK / 16; step++)
        {
            u32 a[MT][4];
#pragma unroll
            for (int i = 0; i < MT; i++)
                ldmatrix_x4(a[i][0], a[i][1], a[i][2], a[i][3],
                            a_tile + (warp_row + i * 16 + lane % 16) * A_STRIDE + step * 16 + lane / 16 * 8);
#pragma unroll
            for (int j = 0; j < NT; j++)
            {
                const int col = warp_col + j * 8 + g;
                const u32 low = q_tile[2 * step * BN + col] >> (8 * t), high = q_tile[(2 * step + 1) * BN + col] >> (8 * t);
                u32 b0, b1;
                if (ORDERED)
                {
                    b0 = dequantize_pair(low, scale[j], zero[j], scale[j], zero[j]);
                    b1 = dequantize_pair(high, scale[j], zero[j], scale[j], zero[j]);
                }
                else
                {
                    const int n = min(n0 + col, N - 1), row = step * 16 + 2 * t;  // columns past N are never stored
                    float s[4], z[4];
                    const int rows[4] = { row, row + 1, row + 8, row + 9 };
#pragma unroll
                    for (int e = 0; e < 4; e++)
                    {
                        const i64 group = tile_groups[rows[e]];
                        s[e] = __ldg(scales + group * N + n);
                        z[e] = zero_offset(__ldg(qzeros + group * zero_words + n / 8), n, zeros_offset_by_one);
                    }
                    b0 = dequantize_pair(low, s[0], z[0], s[1], z[1]);
                    b1 = dequantize_pair(high, s[2], z[2], s[3], z[3]);
                }
#pragma unroll
                for (int i = 0; i < MT; i++) mma_bf16(acc[i][j], a[i], b0, b1);
            }
        }
    }

    // The accumulators of fragment (i, j): rows g and g + 8, outputs 2t and 2t + 1; with accumulate, y's old value is
    // added in fp32 before the one rounding (as cuBLAS's beta = 1).
#pragma unroll
    for (int i = 0; i < MT; i++)
#pragma unroll
        for (int j = 0; j < NT; j++)
        {
            const int row = m0 + warp_row + i * 16 + g, col = n0 + warp_col + j * 8 + 2 * t;
            if (col >= N) continue;
#pragma unroll
            for (int half = 0; half < 2; half++)
            {
                if (row + 8 * half >= M) continue;
                u32* out = (u32*)(y + (i64)(row + 8 * half) * N + col);
                float v0 = acc[i][j][2 * half], v1 = acc[i][j][2 * half + 1];
                if (accumulate)
                {
                    u32 old = *out;
                    v0 += bf16_low(old);
                    v1 += bf16_high(old);
                }
                *out = pack_bf16x2(v0, v1);
            }
        }
}

// ---- entry points: gptq_fused_4bit_<BM>x<BN> (g_idx = k / group_size, group_size % 64 == 0) and ..._gidx (any g_idx) -
// Grid (ceil(M / BM), ceil(N / BN)), WARPS_M · WARPS_N · 32 threads, FusedLayout<BM, BN>::SHARED_BYTES of dynamic shared
// memory (checked: a launch with less traps rather than overrunning it).

__device__ __forceinline__ void require_shared_bytes(u32 needed)
{
    u32 available;
    asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(available));
    if (available < needed) __trap();
}

#define GPTQ_FUSED_ENTRY(NAME, WARPS_M, WARPS_N, MT, NT, ORDERED)                                                         \
    extern "C" __global__ void __launch_bounds__(WARPS_M * WARPS_N * 32) gptq_fused_4bit_##NAME(                           \
        const bf16_t* x, const u32* qweight, const u32* qzeros, const float* scales, const int* g_idx, bf16_t* y, int M,  \
        int N, int K, int group_size, int zeros_offset_by_one, int accumulate)                                            \
    {                                                                                                                      \
        extern __shared__ __align__(16) unsigned char shared[];                                                           \
        require_shared_bytes(FusedLayout<WARPS_M * MT * 16, WARPS_N * NT * 8>::SHARED_BYTES);                             \
        gptq_fused_4bit<WARPS_M, WARPS_N, MT, NT, ORDERED>(shared, x, qweight, qzeros, scales, g_idx, y, M, N, K, group_size, \
                                                           zeros_offset_by_one, accumulate);                              \
    }

GPTQ_FUSED_ENTRY(64x128, 1, 4, 4, 4, true)
GPTQ_FUSED_ENTRY(64x128_gidx, 1, 4, 4, 4, false)
GPTQ_FUSED_ENTRY(128x128, 2, 4, 4, 4, true)
GPTQ_FUSED_ENTRY(128x128_gidx, 2, 4, 4, 4, false)
GPTQ_FUSED_ENTRY(64x64, 2, 2, 2, 4, true)
GPTQ_FUSED_ENTRY(64x64_gidx, 2, 2, 2, 4, false)
