// streaming_kernels.cu's norms on the CPU (emulation.h): rms_norm_short_bf16 (several short rows to a warp) and
// rms_norm_bf16 (a block per row) against a reference of their formula with the sum in double, and against each other;
// layer_norm_bf16 with and without weight and bias likewise. Each output may differ from the reference by one bf16 step
// (the fp32 sums' order). Exit code: failed cases.
#include "emulation.h"
#include <cstdio>
#include <functional>
#include <random>
#include <thread>
#include <vector>
typedef long long i64;
inline dim3 blockDim{128, 1, 1};
inline float __uint_as_float(u32 u) { float f; memcpy(&f, &u, 4); return f; }
inline unsigned short bf16_round(float v) { return (unsigned short)bf16_bits(v); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
#include "norms.inc" // streaming_kernels.cu's bf16 helpers, block_sum and norm section (check.sh)

static float value(const std::vector<u32>& pairs, size_t i) { return i % 2 ? hi(pairs[i / 2]) : lo(pairs[i / 2]); }

// ulps between two bf16 values of the same sign; a large number otherwise
static long ulps(float a, float b)
{
    u32 x = bf16_bits(a), y = bf16_bits(b);
    if ((x ^ y) & 0x8000u) return (x & 0x7fffu) + (y & 0x7fffu);
    return std::labs((long)(x & 0x7fffu) - (long)(y & 0x7fffu));
}

int main()
{
    int failed = 0;
    const float eps = 1e-6f;
    // dim 8 puts 128 rows in a block: 300 rows cross blocks there (the block-per-row kernel then runs on the first 37)
    for (int dim : {8, 16, 32, 64, 128, 256})
        for (int rows : {1, 37, dim == 8 ? 300 : 0})
        {
            if (rows == 0) continue;
            int compared = std::min(rows, 37);
            std::mt19937 rng(dim * 1000 + rows);
            std::normal_distribution<float> normal(0.0f, 1.0f);
            std::vector<u32> x((size_t)rows * dim / 2), w(dim / 2), yShort(x.size()), yBlock(x.size());
            for (auto& p : x) p = pack_bf16x2(normal(rng) * 3, normal(rng) * 3);
            for (auto& p : w) p = pack_bf16x2(1 + normal(rng) * 0.1f, 1 + normal(rng) * 0.1f);
            int lanes = dim / 8, perBlock = 128 / lanes;
            launch((rows + perBlock - 1) / perBlock, 1, [&] {
                rms_norm_short_bf16((const uint4*)x.data(), (const uint4*)w.data(), (uint4*)yShort.data(), dim, rows, eps); });
            launch(compared, 1, [&] { rms_norm_bf16((const uint4*)x.data(), (const uint4*)w.data(), (uint4*)yBlock.data(), dim, eps); });
            long worst = 0, worstPair = 0;
            for (int r = 0; r < rows; r++)
            {
                double sum = 0;
                for (int i = 0; i < dim; i++) sum += (double)value(x, (size_t)r * dim + i) * value(x, (size_t)r * dim + i);
                float inverse = (float)(1.0 / std::sqrt(sum / dim + eps));
                for (int i = 0; i < dim; i++)
                {
                    size_t k = (size_t)r * dim + i;
                    float normalized = bf16_float(bf16_bits(value(x, k) * inverse));
                    float expected = bf16_float(bf16_bits(normalized * value(w, i)));
                    worst = std::max(worst, ulps(expected, value(yShort, k)));
                    if (r >= compared) continue;
                    worst = std::max(worst, ulps(expected, value(yBlock, k)));
                    worstPair = std::max(worstPair, ulps(value(yShort, k), value(yBlock, k)));
                }
            }
            bool ok = worst <= 1 && worstPair <= 1;
            failed += !ok;
            std::printf("%s rms_norm dim %3d rows %3d: at most %ld bf16 step(s) from the reference, %ld between the kernels\n",
                        ok ? "PASS" : "FAIL", dim, rows, worst, worstPair);
        }
    for (int dim : {64, 768, 2432})
        for (int affine = 0; affine < 3; affine++) // none, weight, weight and bias
        {
            const int rows = 5;
            std::mt19937 rng(dim * 10 + affine);
            std::normal_distribution<float> normal(0.0f, 1.0f);
            std::vector<u32> x((size_t)rows * dim / 2), w(dim / 2), b(dim / 2), y(x.size());
            for (auto& p : x) p = pack_bf16x2(0.5f + normal(rng) * 2, 0.5f + normal(rng) * 2);
            for (auto& p : w) p = pack_bf16x2(1 + normal(rng) * 0.1f, 1 + normal(rng) * 0.1f);
            for (auto& p : b) p = pack_bf16x2(normal(rng) * 0.1f, normal(rng) * 0.1f);
            const uint4* weight = affine >= 1 ? (const uint4*)w.data() : nullptr;
            const uint4* bias = affine == 2 ? (const uint4*)b.data() : nullptr;
            launch(rows, 1, [&] { layer_norm_bf16((const uint4*)x.data(), weight, bias, (uint4*)y.data(), dim, eps); });
            long worst = 0;
            for (int r = 0; r < rows; r++)
            {
                double mean = 0, variance = 0;
                for (int i = 0; i < dim; i++) mean += value(x, (size_t)r * dim + i);
                mean /= dim;
                for (int i = 0; i < dim; i++) variance += std::pow(value(x, (size_t)r * dim + i) - mean, 2);
                double inverse = 1.0 / std::sqrt(variance / dim + eps);
                for (int i = 0; i < dim; i++)
                {
                    double v = (value(x, (size_t)r * dim + i) - mean) * inverse;
                    if (weight) v *= value(w, i);
                    if (bias) v += value(b, i);
                    worst = std::max(worst, ulps((float)v, value(y, (size_t)r * dim + i)));
                }
            }
            bool ok = worst <= 1;
            failed += !ok;
            std::printf("%s layer_norm dim %4d %-15s: at most %ld bf16 step(s) from the reference\n", ok ? "PASS" : "FAIL", dim,
                        affine == 0 ? "no affine" : affine == 1 ? "weight" : "weight and bias", worst);
        }
    return failed;
}
