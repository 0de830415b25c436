// gptq_fused.cu on the CPU (emulation.h): every tile variant, with g_idx = k / group_size (ORDERED) and with an act-order
// g_idx, on small shapes with several block tiles, ragged M, N and K, and K over several groups. Two checks per case:
//  - x = the identity (M = K): y must equal the dequantized weight exactly, i.e. each weight the kernel forms in
//    registers is bf16((q − zero)·scale) in fp32, the value the dequantization kernels write (streaming_kernels.cu);
//  - x random (and once with accumulate): y against Σ x·bf16(w) in double, within one bf16 rounding of the result plus
//    fp32 summation error.
// Exit code: failed cases.
#include "emulation.h"
#include <cstdio>
#include <random>
#include <vector>
typedef long long i64;
inline float __uint_as_float(u32 u) { float f; memcpy(&f, &u, 4); return f; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
template <typename T> inline T __ldg(const T* p) { return *p; }
#include "gptq_fused.inc" // gptq_fused.cu less its inline-PTX helpers and entry points (check.sh)

typedef unsigned short bf16;

struct Layer
{
    int K, N, groups, group_size, offset_by_one;
    std::vector<u32> qweight, qzeros;
    std::vector<float> scales;
    std::vector<int> g_idx;
    std::vector<float> weight; // [K, N], the bf16 values the dequantization kernels write

    Layer(int k, int n, int group_size_, bool act_order, int offset, unsigned seed)
        : K(k), N(n), groups((k + group_size_ - 1) / group_size_), group_size(group_size_), offset_by_one(offset)
    {
        std::mt19937 rng(seed);
        qweight.resize((size_t)K / 8 * N); qzeros.resize((size_t)groups * N / 8); scales.resize((size_t)groups * N);
        for (auto& w : qweight) w = rng();
        for (auto& w : qzeros) w = rng();
        std::uniform_real_distribution<float> u(0.001f, 0.02f);
        for (auto& s : scales) s = (rng() & 1 ? -1 : 1) * u(rng); // any fp32 value, as a perturbed scale is
        for (int i = 0; i < K; i++) g_idx.push_back(i / group_size);
        if (act_order) std::shuffle(g_idx.begin(), g_idx.end(), rng);
        weight.resize((size_t)K * N);
        for (int i = 0; i < K; i++)
            for (int o = 0; o < N; o++)
            {
                int g = g_idx[i];
                int q = (qweight[(size_t)(i / 8) * N + o] >> (4 * (i % 8))) & 15;
                int z = (qzeros[(size_t)g * (N / 8) + o / 8] >> (4 * (o % 8))) & 15;
                if (offset_by_one) z = (z + 1) & 15;
                weight[(size_t)i * N + o] = bf16_float(bf16_bits(scales[(size_t)g * N + o] * (float)(q - z)));
            }
    }
};

template <int WARPS_M, int WARPS_N, int MT, int NT, bool ORDERED>
static void run(const Layer& w, const std::vector<bf16>& x, std::vector<bf16>& y, int M, int accumulate)
{
    constexpr int BM = WARPS_M * MT * 16, BN = WARPS_N * NT * 8;
    std::vector<uint4> shared(FusedLayout<BM, BN>::SHARED_BYTES / 16 + 1);
    launch((M + BM - 1) / BM, (w.N + BN - 1) / BN, [&] {
        gptq_fused_4bit<WARPS_M, WARPS_N, MT, NT, ORDERED>((unsigned char*)shared.data(), x.data(), w.qweight.data(), w.qzeros.data(),
            w.scales.data(), w.g_idx.data(), y.data(), M, w.N, w.K, w.group_size, w.offset_by_one, accumulate);
    }, WARPS_M * WARPS_N * 32);
}

typedef void (*Runner)(const Layer&, const std::vector<bf16>&, std::vector<bf16>&, int, int);
struct Variant { const char* name; Runner ordered, any_gidx; };
static const Variant variants[] = {
    {"64x128", run<1, 4, 4, 4, true>, run<1, 4, 4, 4, false>},
    {"128x128", run<2, 4, 4, 4, true>, run<2, 4, 4, 4, false>},
    {"64x64", run<2, 2, 2, 4, true>, run<2, 2, 2, 4, false>},
};

static int identity_case(const Variant& v, const Layer& w, bool ordered, const char* what)
{
    int M = w.K;
    std::vector<bf16> x((size_t)M * w.K, 0), y((size_t)M * w.N, 0x7fc0);
    for (int i = 0; i < M; i++) x[(size_t)i * w.K + i] = 0x3f80; // 1.0
    (ordered ? v.ordered : v.any_gidx)(w, x, y, M, 0);
    size_t differ = 0;
    for (size_t i = 0; i < y.size(); i++) differ += bf16_float(y[i]) != w.weight[i]; // by value: ±0 alike
    printf("%s %-8s %-34s identity: %zu of %zu weights differ from the dequantized ones\n", differ ? "FAIL" : "PASS", v.name, what,
           differ, y.size());
    return differ != 0;
}

static int random_case(const Variant& v, const Layer& w, bool ordered, int M, int accumulate, const char* what)
{
    std::mt19937 rng(M * 31 + w.N);
    std::uniform_real_distribution<float> u(-1, 1);
    std::vector<bf16> x((size_t)M * w.K), y((size_t)M * w.N), before;
    for (auto& e : x) e = (bf16)bf16_bits(u(rng));
    for (auto& e : y) e = (bf16)bf16_bits(accumulate ? u(rng) : 0.f);
    before = y;
    (ordered ? v.ordered : v.any_gidx)(w, x, y, M, accumulate);
    size_t bad = 0; double worst = 0;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < w.N; n++)
        {
            double sum = accumulate ? bf16_float(before[(size_t)m * w.N + n]) : 0, magnitude = std::fabs(sum);
            for (int k = 0; k < w.K; k++)
            {
                double term = (double)bf16_float(x[(size_t)m * w.K + k]) * w.weight[(size_t)k * w.N + n];
                sum += term; magnitude += std::fabs(term);
            }
            double error = std::fabs(bf16_float(y[(size_t)m * w.N + n]) - sum);
            worst = std::max(worst, error / (std::fabs(sum) + 1e-3));
            bad += !(error <= std::fabs(sum) / 256 + 1e-5 * magnitude);
        }
    printf("%s %-8s %-34s M %3d%s: max |d|/(|ref|+1e-3) = %.2e, %zu of %zu outside |ref|/256 + 1e-5·Σ|x·w|\n", bad ? "FAIL" : "PASS",
           v.name, what, M, accumulate ? " accumulate" : "", worst, bad, (size_t)M * w.N);
    return bad != 0;
}

int main()
{
    int failed = 0;
    // g_idx = k / group: K over five groups of 64 (a stage each), N over two 128-wide tiles, the second ragged
    Layer five_groups(320, 136, 64, false, 1, 1);
    // a ragged last stage (K = 328) and groups of 128 (two stages each), gptq_v2 zeros
    Layer ragged_k(328, 72, 128, false, 0, 2);
    // one group over all inputs (group_size -1)
    Layer one_group(192, 64, 192, false, 1, 3);
    // act-order: groups of 32 scattered over the inputs, two to a stage on average
    Layer act_order(200, 136, 32, true, 1, 4);
    for (const Variant& v : variants)
    {
        failed += identity_case(v, five_groups, true, "K 320 N 136 g 64");
        failed += random_case(v, five_groups, true, 70, 0, "K 320 N 136 g 64");
        failed += random_case(v, ragged_k, true, 129, 0, "K 328 N 72 g 128 v2 zeros");
        failed += identity_case(v, act_order, false, "K 200 N 136 g 32 act-order");
        failed += random_case(v, act_order, false, 37, 0, "K 200 N 136 g 32 act-order");
    }
    failed += identity_case(variants[0], ragged_k, true, "K 328 N 72 g 128 v2 zeros");
    failed += identity_case(variants[2], one_group, true, "K 192 N 64 one group");
    failed += random_case(variants[1], five_groups, true, 150, 1, "K 320 N 136 g 64");
    failed += random_case(variants[2], five_groups, false, 20, 1, "K 320 N 136 g 64 (any g_idx)");
    printf("%d failures\n", failed);
    return failed;
}
