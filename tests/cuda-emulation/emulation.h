// CPU emulation of the CUDA features the Nvrtc/*.cu kernels use: one std::thread per CUDA thread of a block (up to 8
// warps), warp collectives (shuffles, ldmatrix, mma.sync) through per-warp exchange slots and barriers, and cp.async's
// copies deferred to the cp.async.wait_group that completes them (so a read before its wait sees stale data).
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>
using std::min; using std::max;
typedef unsigned int u32;
struct uint4 { u32 x, y, z, w; };
inline uint4 make_uint4(u32 a, u32 b, u32 c, u32 d) { return {a, b, c, d}; }
struct dim3 { unsigned x = 0, y = 0, z = 0; };
thread_local dim3 threadIdx, blockIdx;
inline std::barrier<>* block_barrier;
constexpr int MAX_WARPS = 8;
inline std::barrier<>* warp_barriers[MAX_WARPS];
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(x)
#define __restrict__ __restrict
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
inline void __syncthreads() { block_barrier->arrive_and_wait(); }
inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
struct LaneSlot { float f; const unsigned short* p; u32 a[4]; u32 b0, b1; };
inline LaneSlot lanes[MAX_WARPS][32];
inline void warp_sync() { warp_barriers[threadIdx.x / 32]->arrive_and_wait(); }
inline float __shfl_xor_sync(unsigned, float v, int m)
{
    int w = threadIdx.x / 32, l = threadIdx.x % 32;
    lanes[w][l].f = v; warp_sync();
    float r = lanes[w][l ^ m].f; warp_sync();
    return r;
}
inline u32 bf16_bits(float f)
{
    u32 u; memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0u;
    u += 0x7fffu + ((u >> 16) & 1u);
    return u >> 16;
}
inline float bf16_float(u32 h) { u32 u = h << 16; float f; memcpy(&f, &u, 4); return f; }
inline u32 pack_bf16x2(float low, float high) { return bf16_bits(low) | (bf16_bits(high) << 16); }
inline float lo(u32 x) { return bf16_float(x & 0xffffu); }
inline float hi(u32 x) { return bf16_float(x >> 16); }
// mma.sync.m16n8k16.row.col f32.bf16.bf16.f32, fragments as the PTX ISA lays them out
inline void mma_bf16(float (&d)[4], const u32 (&a)[4], u32 b0, u32 b1)
{
    int w = threadIdx.x / 32, l = threadIdx.x % 32;
    memcpy(lanes[w][l].a, a, sizeof(lanes[w][l].a)); lanes[w][l].b0 = b0; lanes[w][l].b1 = b1;
    warp_sync();
    float A[16][16], B[16][8];
    for (int L = 0; L < 32; L++)
    {
        int g = L / 4, t = L % 4; const LaneSlot& s = lanes[w][L];
        A[g][2 * t] = lo(s.a[0]); A[g][2 * t + 1] = hi(s.a[0]);
        A[g + 8][2 * t] = lo(s.a[1]); A[g + 8][2 * t + 1] = hi(s.a[1]);
        A[g][2 * t + 8] = lo(s.a[2]); A[g][2 * t + 9] = hi(s.a[2]);
        A[g + 8][2 * t + 8] = lo(s.a[3]); A[g + 8][2 * t + 9] = hi(s.a[3]);
        B[2 * t][g] = lo(s.b0); B[2 * t + 1][g] = hi(s.b0);
        B[2 * t + 8][g] = lo(s.b1); B[2 * t + 9][g] = hi(s.b1);
    }
    warp_sync();
    int g = l / 4, t = l % 4;
    float r[4] = {0, 0, 0, 0};
    for (int k = 0; k < 16; k++)
    {
        r[0] += A[g][k] * B[k][2 * t]; r[1] += A[g][k] * B[k][2 * t + 1];
        r[2] += A[g + 8][k] * B[k][2 * t]; r[3] += A[g + 8][k] * B[k][2 * t + 1];
    }
    for (int i = 0; i < 4; i++) d[i] += r[i];
}
// ldmatrix.m8n8.x4: lanes 8i..8i+7 address matrix i's rows; lane l gets row l/4, columns 2(l%4), 2(l%4)+1
inline void ldmatrix_any(u32 (&r)[4], const unsigned short* row, bool transposed)
{
    int w = threadIdx.x / 32, l = threadIdx.x % 32;
    lanes[w][l].p = row; warp_sync();
    for (int i = 0; i < 4; i++)
    {
        if (!transposed)
        {
            const unsigned short* p = lanes[w][8 * i + l / 4].p;
            r[i] = (u32)p[2 * (l % 4)] | ((u32)p[2 * (l % 4) + 1] << 16);
        }
        else
        {   // the transposed matrix's row l/4 = column l/4 of rows 2(l%4), 2(l%4)+1
            const unsigned short* p0 = lanes[w][8 * i + 2 * (l % 4)].p;
            const unsigned short* p1 = lanes[w][8 * i + 2 * (l % 4) + 1].p;
            r[i] = (u32)p0[l / 4] | ((u32)p1[l / 4] << 16);
        }
    }
    warp_sync();
}
inline void ldmatrix_x4(u32& r0, u32& r1, u32& r2, u32& r3, const unsigned short* row)
{ u32 r[4]; ldmatrix_any(r, row, false); r0 = r[0]; r1 = r[1]; r2 = r[2]; r3 = r[3]; }
inline void ldmatrix_x4_transposed(u32& r0, u32& r1, u32& r2, u32& r3, const unsigned short* row)
{ u32 r[4]; ldmatrix_any(r, row, true); r0 = r[0]; r1 = r[1]; r2 = r[2]; r3 = r[3]; }
// cp.async: each thread queues its copies; commit_group closes a group, wait_group<N> performs all but the N newest.
struct AsyncCopy { void* destination; const void* source; int bytes; bool valid; };
thread_local std::vector<AsyncCopy> open_copies;
thread_local std::deque<std::vector<AsyncCopy>> committed_copies;
inline void cp_async_16(void* shared, const void* global, bool valid) { open_copies.push_back({shared, global, 16, valid}); }
inline void cp_async_4(void* shared, const void* global, bool valid) { open_copies.push_back({shared, global, 4, valid}); }
inline void cp_async_commit() { committed_copies.push_back(std::move(open_copies)); open_copies.clear(); }
template <int PENDING> inline void cp_async_wait()
{
    while ((int)committed_copies.size() > PENDING)
    {
        for (const AsyncCopy& c : committed_copies.front())
            if (c.valid) memcpy(c.destination, c.source, c.bytes); else memset(c.destination, 0, c.bytes);
        committed_copies.pop_front();
    }
}
// Runs body once per CUDA thread of a gx × gy grid of blocks of `threads` (a multiple of 32, at most 256), one block at a time.
inline void launch(unsigned gx, unsigned gy, const std::function<void()>& body, unsigned threads = 128)
{
    for (unsigned by = 0; by < gy; by++)
        for (unsigned bx = 0; bx < gx; bx++)
        {
            std::barrier<> block(threads);
            std::vector<std::unique_ptr<std::barrier<>>> warps;
            for (unsigned w = 0; w < threads / 32; w++) warp_barriers[w] = warps.emplace_back(std::make_unique<std::barrier<>>(32)).get();
            block_barrier = &block;
            std::vector<std::thread> pool;
            for (unsigned t = 0; t < threads; t++)
                pool.emplace_back([&, t] { threadIdx.x = t; blockIdx.x = bx; blockIdx.y = by; body(); });
            for (auto& th : pool) th.join();
        }
}
