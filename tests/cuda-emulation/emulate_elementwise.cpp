// streaming_kernels.cu's image-model element-wise kernels on the CPU (emulation.h): modulate_bf16 and gated_add_bf16 against
// the formula the ILGPU kernels and the CPU backend compute (add_bias_bf16 too) (fp32, each step rounded, one bf16 rounding), bit for bit;
// activation_bf16 against each activation in double, within one bf16 step (or 1e-6); copy_rows_16b exactly, with the elements
// outside the destination's rows left as they were. Exit code: failed cases.
#include "emulation.h"
#include <cstdio>
#include <functional>
#include <random>
#include <thread>
#include <vector>
typedef long long i64;
inline dim3 blockDim{128, 1, 1};
inline i64 thread_index() { return (i64)blockIdx.x * blockDim.x + threadIdx.x; }
inline float __uint_as_float(u32 u) { float f; memcpy(&f, &u, 4); return f; }
inline unsigned short bf16_round(float v) { return (unsigned short)bf16_bits(v); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
#include "elementwise.inc" // streaming_kernels.cu's bf16 helpers and image-model element-wise section (check.sh)

static float value(const std::vector<u32>& pairs, size_t i) { return i % 2 ? hi(pairs[i / 2]) : lo(pairs[i / 2]); }
static unsigned blocks(i64 threads) { return (unsigned)((threads + 127) / 128); }

static long ulps(float a, float b)
{
    u32 x = bf16_bits(a), y = bf16_bits(b);
    if ((x ^ y) & 0x8000u) return (x & 0x7fffu) + (y & 0x7fffu);
    return std::labs((long)(x & 0x7fffu) - (long)(y & 0x7fffu));
}

static std::vector<u32> random_pairs(size_t values, std::mt19937& rng, float scale)
{
    std::normal_distribution<float> normal(0.0f, scale);
    std::vector<u32> v(values / 2);
    for (auto& p : v) p = pack_bf16x2(normal(rng), normal(rng));
    return v;
}

static int report(bool ok, const char* what)
{
    std::printf("%s %s\n", ok ? "PASS" : "FAIL", what);
    return !ok;
}

int main()
{
    int failed = 0;
    // batch 3 × tokens 5 × dim 48; the per-sample rows sit in a [3, 9·48] modulation matrix (chunks at k·48)
    const int batch = 3, tokens = 5, dim = 48, chunks = 9;
    std::mt19937 rng(7);
    auto x = random_pairs((size_t)batch * tokens * dim, rng, 2.0f), y = random_pairs(x.size() * 2, rng, 1.0f);
    auto m = random_pairs((size_t)batch * chunks * dim, rng, 0.5f);
    const i64 count8 = (i64)batch * tokens * dim / 8, stride = chunks * dim, shiftOffset = 6 * dim, scaleOffset = 7 * dim;
    std::vector<u32> out(x.size(), 0xDEADBEEFu);
    launch(blocks(count8), 1, [&] {
        modulate_bf16((const uint4*)x.data(), (const uint4*)m.data(), (const uint4*)m.data(), (uint4*)out.data(), count8, dim / 8,
                      tokens, shiftOffset / 8, stride / 8, scaleOffset / 8, stride / 8); });
    long wrong = 0;
    for (size_t i = 0; i < x.size() * 2; i++)
    {
        size_t j = i % dim, b = i / dim / tokens;
        float sh = value(m, shiftOffset + b * stride + j), sc = value(m, scaleOffset + b * stride + j);
        wrong += bf16_bits(value(x, i) * (1.0f + sc) + sh) != bf16_bits(value(out, i));
    }
    failed += report(wrong == 0, "modulate_bf16: every value equals x·(1 + scale) + shift, rounded once");

    std::vector<u32> sum = x;
    const i64 gateOffset = 2 * dim;
    launch(blocks(count8), 1, [&] {
        gated_add_bf16((uint4*)sum.data(), (const uint4*)m.data(), (const uint4*)y.data(), count8, dim / 8, tokens, gateOffset / 8,
                       stride / 8); });
    wrong = 0;
    for (size_t i = 0; i < x.size() * 2; i++)
    {
        size_t j = i % dim, b = i / dim / tokens;
        wrong += bf16_bits(value(x, i) + value(m, gateOffset + b * stride + j) * value(y, i)) != bf16_bits(value(sum, i));
    }
    failed += report(wrong == 0, "gated_add_bf16: every value equals x + gate·y, rounded once");

    std::vector<u32> biased = x;
    launch(blocks(count8), 1, [&] { add_bias_bf16((uint4*)biased.data(), (const uint4*)m.data(), count8, dim / 8); });
    wrong = 0;
    for (size_t i = 0; i < x.size() * 2; i++) wrong += bf16_bits(value(x, i) + value(m, i % dim)) != bf16_bits(value(biased, i));
    failed += report(wrong == 0, "add_bias_bf16: every value equals x + bias, rounded once");

    const char* names[] = {"SiLU", "GELU (tanh)", "GELU (erf)", "quick GELU"};
    for (int activation = 0; activation < 4; activation++)
    {
        auto a = random_pairs(4096, rng, 3.0f);
        auto before = a;
        launch(blocks(4096 / 8), 1, [&] { activation_bf16((uint4*)a.data(), 4096 / 8, activation); });
        long worst = 0;
        for (size_t i = 0; i < 4096; i++)
        {
            double v = value(before, i), r;
            if (activation == 0) r = v / (1 + std::exp(-v));
            else if (activation == 1) r = 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
            else if (activation == 2) r = 0.5 * v * std::erfc(-v / std::sqrt(2.0));
            else r = v / (1 + std::exp(-1.702 * v));
            // GELU's 1 + tanh(u) cancels to 0 in fp32 below u ≈ −9, as in torch: tails under 1e-6 count as equal
            if (std::fabs(r - value(a, i)) > 1e-6) worst = std::max(worst, ulps((float)r, value(a, i)));
        }
        char what[96];
        std::snprintf(what, sizeof what, "activation_bf16 %s: at most %ld bf16 step(s) from double", names[activation], worst);
        failed += report(worst <= 1, what);
    }

    // rows 4 × 40 bf16 (5 chunks of 16 bytes) from a stride-56 matrix at offset 16 into a stride-64 one at offset 8
    const int rows = 4, columns = 40;
    auto source = random_pairs(56 * 5, rng, 1.0f);
    std::vector<u32> destination(64 * 5 / 2, 0xDEADBEEFu);
    launch(1, rows, [&] { copy_rows_16b((const uint4*)source.data(), (uint4*)destination.data(), columns * 2 / 16, 16 * 2 / 16,
                                        56 * 2 / 16, 8 * 2 / 16, 64 * 2 / 16); });
    wrong = 0;
    long touched = 0;
    for (int i = 0; i < 64 * 5; i++)
    {
        int r = (i - 8) / 64, c = (i - 8) % 64;
        bool inside = i >= 8 && r < rows && c < columns;
        u32 half = i % 2 ? destination[i / 2] >> 16 : destination[i / 2] & 0xFFFFu;
        if (inside) wrong += bf16_bits(value(source, 16 + (size_t)r * 56 + c)) != half;
        else touched += half != (i % 2 ? 0xDEADu : 0xBEEFu);
    }
    failed += report(wrong == 0 && touched == 0, "copy_rows_16b: the rows copied exactly, nothing else written");
    return failed;
}
