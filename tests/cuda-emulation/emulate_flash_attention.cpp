// flash_attention.cu on the CPU (emulation.h) against a double-precision reference: the causal entries (already verified
// on the H100, so they check the emulation) and, built with -DFULL_ATTENTION, the full ones. Exit code: failed cases.
#include "emulation.h"
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>
#include <random>
#include <functional>
#include "kernel.inc" // flash_attention.cu less its inline-asm helpers (check.sh)

typedef unsigned short bf16;
static std::vector<bf16> random_bf16(size_t n, unsigned seed, float scale)
{
    std::mt19937 rng(seed); std::uniform_real_distribution<float> u(-scale, scale);
    std::vector<bf16> v(n); for (auto& x : v) x = (bf16)bf16_bits(u(rng)); return v;
}
// Reference in double: visible(b, i, j) decides masking; bias (may be empty) added to the scaled score.
static std::vector<double> reference(const std::vector<bf16>& q, const std::vector<bf16>& k, const std::vector<bf16>& v,
    const std::vector<float>& bias, int batch, int nq, int nk, int heads, int kvh, int hd, double scale,
    const std::function<bool(int, int, int)>& visible)
{
    std::vector<double> out((size_t)batch * nq * heads * hd, 0.0);
    for (int b = 0; b < batch; b++) for (int h = 0; h < heads; h++) for (int i = 0; i < nq; i++)
    {
        int kh = h / (heads / kvh);
        std::vector<double> s(nk); double m = -INFINITY;
        for (int j = 0; j < nk; j++)
        {
            if (!visible(b, i, j)) { s[j] = -INFINITY; continue; }
            double dot = 0;
            for (int d = 0; d < hd; d++)
                dot += (double)bf16_float(q[(((size_t)b * nq + i) * heads + h) * hd + d]) *
                       bf16_float(k[(((size_t)b * nk + j) * kvh + kh) * hd + d]);
            s[j] = dot * scale + (bias.empty() ? 0.0 : bias[((size_t)h * nq + i) * nk + j]);
            m = std::max(m, s[j]);
        }
        if (m == -INFINITY) continue;
        double sum = 0; for (int j = 0; j < nk; j++) { s[j] = s[j] == -INFINITY ? 0 : std::exp(s[j] - m); sum += s[j]; }
        for (int d = 0; d < hd; d++)
        {
            double o = 0;
            for (int j = 0; j < nk; j++) if (s[j] != 0) o += s[j] * bf16_float(v[(((size_t)b * nk + j) * kvh + kh) * hd + d]);
            out[(((size_t)b * nq + i) * heads + h) * hd + d] = o / sum;
        }
    }
    return out;
}
static int compare(const char* name, const std::vector<bf16>& got, const std::vector<double>& want)
{
    double worst = 0; size_t bad = 0;
    for (size_t i = 0; i < want.size(); i++)
    {
        double g = bf16_float(got[i]), e = std::fabs(g - want[i]);
        worst = std::max(worst, e / (std::fabs(want[i]) + 0.02));
        if (!(e <= 2.0 / 128 * std::fabs(want[i]) + 2e-3)) bad++;
    }
    printf("%-60s max |d|/(|ref|+0.02) = %.2e, %zu of %zu outside 2/128·|ref|+2e-3 %s\n", name, worst, bad, want.size(),
           bad ? "FAIL" : "ok");
    return bad ? 1 : 0;
}
int main()
{
    int failures = 0;
#ifndef FULL_ATTENTION
    struct Case { int batch, seq, heads, kvh, hd, window; };
    for (Case c : {Case{2, 70, 4, 2, 64, 0}, Case{1, 131, 2, 1, 96, 7}, Case{2, 65, 2, 2, 32, 0}, Case{1, 100, 2, 1, 128, 30}})
    {
        size_t nq = (size_t)c.batch * c.seq * c.heads * c.hd, nk = (size_t)c.batch * c.seq * c.kvh * c.hd;
        auto q = random_bf16(nq, 1, 3), k = random_bf16(nk, 2, 3), v = random_bf16(nk, 3, 1);
        std::vector<int> mask((size_t)c.batch * c.seq, 1);
        for (int i = 0; i < c.seq; i++) mask[(c.batch - 1) * c.seq + i] = i >= 11;   // the last row left-padded
        std::vector<bf16> out(nq, 0x7fc0);
        float scale = 1.0f / std::sqrt((float)c.hd);
        int tiles = (c.seq + 63) / 64;
        launch(tiles, c.batch * c.heads, [&] {
            float s2 = scale * 1.4426950408889634f;
#define CAUSAL_CASE(HD) case HD: \
    flash_attention_hd##HD(q.data(), k.data(), v.data(), mask.data(), out.data(), c.seq, c.heads, c.kvh, s2, c.window); break;
            switch (c.hd) { CAUSAL_CASE(32) CAUSAL_CASE(64) CAUSAL_CASE(96) CAUSAL_CASE(128) }
            });
        auto want = reference(q, k, v, {}, c.batch, c.seq, c.seq, c.heads, c.kvh, c.hd, scale, [&](int b, int i, int j) {
            return j <= i && mask[(size_t)b * c.seq + j] && (c.window <= 0 || i - j < c.window); });
        char name[128];
        snprintf(name, sizeof name, "causal b%d seq %d heads %d/%d hd %d window %d", c.batch, c.seq, c.heads, c.kvh, c.hd, c.window);
        failures += compare(name, out, want);
    }
#else
    struct Case { int batch, nq, nk, heads, hd, bias; float scale; int masked; };
    for (Case c : {Case{2, 77, 150, 3, 64, 0, 0, 0}, Case{2, 130, 130, 2, 64, 1, 1, 0}, Case{1, 70, 45, 2, 128, 1, 0, 0},
                   Case{2, 19, 70, 2, 32, 0, 0, 0}, Case{1, 66, 129, 1, 96, 0, 0.3f, 0}, Case{2, 21, 67, 2, 64, 1, 0, 1},
                   Case{1, 200, 64, 2, 128, 0, 0, 0}, Case{1, 64, 1, 1, 32, 1, 0, 0}})
    {
        size_t nq = (size_t)c.batch * c.nq * c.heads * c.hd, nk = (size_t)c.batch * c.nk * c.heads * c.hd;
        auto q = random_bf16(nq, 4, 1.5f), k = random_bf16(nk, 5, 1.5f), v = random_bf16(nk, 6, 1);
        std::vector<float> bias;
        if (c.bias)
        {
            std::mt19937 rng(7); std::uniform_real_distribution<float> u(-3, 3);
            bias.resize((size_t)c.heads * c.nq * c.nk);
            for (size_t i = 0; i < bias.size(); i++)
            {
                bias[i] = u(rng);
                size_t j = i % c.nk, row = i / c.nk % c.nq;
                if (c.masked && (row == 5 || (j + row) % 3 == 0)) bias[i] = -INFINITY;
            }
        }
        std::vector<bf16> out(nq, 0x7fc0);
        float scale = c.scale == 0 ? 1.0f / std::sqrt((float)c.hd) : c.scale;
        float scale_log2 = (float)(1.4426950408889634 * scale);
        int tiles = (c.nq + 63) / 64;
        const float* bp = c.bias ? bias.data() : nullptr;
        launch(tiles, c.batch * c.heads, [&] {
#define FULL_CASE(HD) \
    case 2 * HD: full_attention_hd##HD(q.data(), k.data(), v.data(), out.data(), c.nq, c.nk, c.heads, scale_log2); break; \
    case 2 * HD + 1: full_attention_bias_hd##HD(q.data(), k.data(), v.data(), bp, out.data(), c.nq, c.nk, c.heads, scale_log2); break;
            switch (c.hd * 2 + c.bias) { FULL_CASE(32) FULL_CASE(64) FULL_CASE(96) FULL_CASE(128) }
            });
        auto want = reference(q, k, v, bias, c.batch, c.nq, c.nk, c.heads, c.heads, c.hd, scale, [](int, int, int) { return true; });
        char name[128]; snprintf(name, sizeof name, "full b%d %d×%d keys heads %d hd %d bias %d scale %g masked %d", c.batch, c.nq, c.nk,
                                 c.heads, c.hd, c.bias, c.scale, c.masked);
        failures += compare(name, out, want);
        if (c.masked)
        {
            bool zero = true;
            for (int b = 0; b < c.batch; b++) for (int x = 0; x < c.heads * c.hd; x++)
                zero &= out[(((size_t)b * c.nq + 5) * c.heads) * c.hd + x] == 0;
            printf("  fully masked query 5 outputs zeros: %s\n", zero ? "ok" : "FAIL"); failures += !zero;
        }
    }
#endif
    printf("%d failures\n", failures);
    return failures;
}
