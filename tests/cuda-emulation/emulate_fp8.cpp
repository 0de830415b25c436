// streaming_kernels.cu's FP8 section on the CPU (emulation.h), with the GPTQ section it builds on: amax_bf16 against the
// largest magnitude; quantize_e4m3_bf16 and its transposed form against an encoder written apart from the kernel's (the
// nearest of the 126 finite e4m3 values by search, ties to the even code, saturated at 448), bit for bit, and the scales
// amax / 448; gptq_dequantize_*bit against (q − zero)·scale rounded to bf16, gptq_code_span_*bit against |q − zero|,
// and gptq_amax_from_span with gptq_dequantize_e4m3_*bit (and its tiled form) against the same search over those bf16
// weights, transposed to [out, in]; bnb4_amax with
// bnb4_dequantize_e4m3 against code[nibble]·absmax rounded to bf16, searched the same way. Exit code: failed cases.
#include "emulation.h"
#include <cstdio>
#include <random>
#include <vector>
typedef unsigned short u16;
typedef long long i64;
struct uint2 { u32 x, y; };
struct float4 { float x, y, z, w; };
inline uint2 make_uint2(u32 a, u32 b) { return {a, b}; }
inline dim3 blockDim{128, 1, 1}, gridDim{1, 1, 1};
inline i64 thread_index() { return (i64)blockIdx.x * blockDim.x + threadIdx.x; }
inline float __uint_as_float(u32 u) { float f; memcpy(&f, &u, 4); return f; }
inline u32 __float_as_uint(float f) { u32 u; memcpy(&u, &f, 4); return u; }
inline unsigned short bf16_round(float v) { return (unsigned short)bf16_bits(v); }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline u32 atomicMax(u32* address, u32 value)
{
    u32 old = __atomic_load_n(address, __ATOMIC_SEQ_CST);
    while (old < value && !__atomic_compare_exchange_n(address, &old, value, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
    return old;
}
#include "fp8.inc" // streaming_kernels.cu's bf16 helpers, GPTQ section and FP8 section (check.sh extracts them)

static float decode(u32 code)
{
    int e = (code >> 3) & 15, m = code & 7;
    float v = e == 0 ? std::ldexp((float)m, -9) : std::ldexp((float)(8 + m), e - 10);
    return (code & 0x80) ? -v : v;
}

static u32 nearest(float x)
{
    float a = std::fabs(x);
    u32 sign = std::signbit(x) ? 0x80u : 0u;
    if (std::isnan(x)) return sign | 0x7Fu;
    if (a > 448.0f) return sign | 0x7Eu;
    u32 best = 0;
    for (u32 c = 1; c < 0x7F; c++)
    {
        double d = std::fabs((double)decode(c) - a), e = std::fabs((double)decode(best) - a);
        if (d < e || (d == e && (c & 1) == 0 && (best & 1) == 1)) best = c;
    }
    return sign | best;
}

static int report(bool ok, const char* what)
{
    std::printf("%s %s\n", ok ? "PASS" : "FAIL", what);
    return ok ? 0 : 1;
}

// One GPTQ layer (act-order g_idx, zeros stored less one) through gptq_dequantize, gptq_code_span, gptq_amax_from_span
// and gptq_dequantize_e4m3 (both kernels).
static int check_gptq(int bits, std::mt19937& rng, const int in, const int out, const int group_size)
{
    const int groups = in / group_size, per_word = 32 / bits;
    const u32 mask = (1u << bits) - 1u;
    std::uniform_int_distribution<u32> word;
    std::uniform_real_distribution<float> positive(0.001f, 0.03f);
    std::vector<u32> qweight(in / per_word * out), qzeros(groups * out * bits / 32);
    for (auto& w : qweight) w = word(rng);
    for (auto& z : qzeros) z = word(rng);
    std::vector<float> scales(groups * out);
    for (auto& v : scales) v = positive(rng);
    std::vector<int> g_idx(in);
    for (int i = 0; i < in; i++) g_idx[i] = i / group_size;
    std::shuffle(g_idx.begin(), g_idx.end(), rng);
    std::vector<float> w(in * out);
    float amax = 0;
    for (int i = 0; i < in; i++)
        for (int o = 0; o < out; o++)
        {
            u32 q = (qweight[(i / per_word) * out + o] >> ((i % per_word) * bits)) & mask;
            int g = g_idx[i];
            u32 zero = ((qzeros[(g * out * bits + o * bits) / 32] >> ((o * bits) % 32)) & mask) + 1u & mask;
            w[i * out + o] = bf16_float(bf16_bits((float)((int)q - (int)zero) * scales[g * out + o]));
            amax = std::max(amax, std::fabs(w[i * out + o]));
        }
    i64 threads = (i64)(in / per_word) * (out / 4);
    unsigned blocks = (unsigned)((threads + 127) / 128);
    blockDim = {128, 1, 1};
    std::vector<uint2> weight(in * out / 4);
    auto dequantize = bits == 2 ? gptq_dequantize_2bit : bits == 4 ? gptq_dequantize_4bit : gptq_dequantize_8bit;
    launch(blocks, 1, [&] { dequantize(qweight.data(), qzeros.data(), scales.data(), g_idx.data(), weight.data(), in, out, 1); });
    int differ = 0;
    for (int i = 0; i < in * out; i += 2)
    {
        u32 pair = i % 4 == 0 ? weight[i / 4].x : weight[i / 4].y;
        differ += pair != (bf16_bits(w[i]) | (bf16_bits(w[i + 1]) << 16));
    }
    char what[160];
    std::snprintf(what, sizeof what, "gptq_dequantize_%dbit (act-order): (q - zero) * scale in bf16, %d of %d differ", bits, differ,
                  in * out / 2);
    int failed = report(differ == 0, what);

    // gptq_code_span_*bit once: |q − zero|'s largest per group and output, against the formula
    std::vector<u32> expected_span(groups * out, 0);
    for (int i = 0; i < in; i++)
        for (int o = 0; o < out; o++)
        {
            int q = (int)((qweight[(i / per_word) * out + o] >> ((i % per_word) * bits)) & mask), g = g_idx[i];
            int zero = (int)((((qzeros[(g * out * bits + o * bits) / 32] >> ((o * bits) % 32)) & mask) + 1u) & mask);
            expected_span[g * out + o] = std::max(expected_span[g * out + o], (u32)std::abs(q - zero));
        }
    std::vector<u32> span(groups * out, 0);
    auto span_kernel = bits == 2 ? gptq_code_span_2bit : bits == 4 ? gptq_code_span_4bit : gptq_code_span_8bit;
    launch(blocks, 1, [&] { span_kernel(qweight.data(), qzeros.data(), g_idx.data(), in, out, 1, span.data()); });
    int span_differ = 0;
    for (int i = 0; i < groups * out; i++) span_differ += span[i] != expected_span[i];
    std::snprintf(what, sizeof what, "gptq_code_span_%dbit (act-order): the largest |q - zero| of each group and output, %d of %d differ",
                  bits, span_differ, groups * out);
    failed += report(span_differ == 0, what);

    // then per pass gptq_amax_from_span (two blocks: the one atomic of each) and gptq_dequantize_e4m3_*bit
    u32 amax_bits = 0; float scale = 0;
    std::vector<unsigned char> codes(in * out, 0xAA);
    auto codes_kernel = bits == 2 ? gptq_dequantize_e4m3_2bit : bits == 4 ? gptq_dequantize_e4m3_4bit : gptq_dequantize_e4m3_8bit;
    gridDim = {2, 1, 1};
    launch(2, 1, [&] { gptq_amax_from_span(scales.data(), span.data(), (i64)groups * out, &amax_bits); });
    gridDim = {1, 1, 1};
    launch(blocks, 1, [&] {
        codes_kernel(qweight.data(), qzeros.data(), scales.data(), g_idx.data(), in, out, 1, &amax_bits, codes.data(), &scale);
    });
    float inverse = 448.0f / amax;
    differ = 0;
    for (int i = 0; i < in; i++)
        for (int o = 0; o < out; o++) differ += codes[o * in + i] != nearest(w[i * out + o] * inverse);
    std::snprintf(what, sizeof what, "gptq_amax_from_span, gptq_dequantize_e4m3_%dbit: amax, scale and [out, in] codes, %d of %d differ",
                  bits, differ, in * out);
    failed += report(__uint_as_float(amax_bits) == amax && scale == amax / 448.0f && differ == 0, what);

    // the tiled kernel: the same codes, 128 inputs × 64 outputs a block of 256 threads (partial tiles at both ends)
    std::vector<unsigned char> tiled(in * out, 0xAA);
    float tiled_scale = 0;
    auto tiled_kernel = bits == 2 ? gptq_dequantize_e4m3_tiled_2bit : bits == 4 ? gptq_dequantize_e4m3_tiled_4bit
                                                                                : gptq_dequantize_e4m3_tiled_8bit;
    blockDim = {256, 1, 1};
    launch((in + 127) / 128, (out + 63) / 64, [&] {
        tiled_kernel(qweight.data(), qzeros.data(), scales.data(), g_idx.data(), in, out, 1, &amax_bits, tiled.data(), &tiled_scale);
    }, 256);
    blockDim = {128, 1, 1};
    differ = 0;
    for (int i = 0; i < in * out; i++) differ += tiled[i] != codes[i];
    std::snprintf(what, sizeof what, "gptq_dequantize_e4m3_tiled_%dbit (%d x %d): the codes of gptq_dequantize_e4m3_%dbit, %d of %d differ",
                  bits, in, out, bits, differ, in * out);
    failed += report(differ == 0 && tiled_scale == scale, what);

    // Zero and negative scales, then an infinite one too: the weights' amax (NaN products, q = zero under the infinite
    // scale, skipped as fmaxf skips them)
    for (int variant = 0; variant < 2; variant++)
    {
        std::vector<float> special = scales;
        special[3] = 0.0f; special[5] = -0.02f; special[9] = -0.5f;
        if (variant == 1) special[7] = INFINITY;
        float special_amax = 0;
        for (int i = 0; i < in; i++)
            for (int o = 0; o < out; o++)
            {
                int q = (int)((qweight[(i / per_word) * out + o] >> ((i % per_word) * bits)) & mask), g = g_idx[i];
                int zero = (int)((((qzeros[(g * out * bits + o * bits) / 32] >> ((o * bits) % 32)) & mask) + 1u) & mask);
                float v = std::fabs(bf16_float(bf16_bits((float)(q - zero) * special[g * out + o])));
                if (!std::isnan(v)) special_amax = std::max(special_amax, v);
            }
        u32 special_bits = 0;
        gridDim = {2, 1, 1};
        launch(2, 1, [&] { gptq_amax_from_span(special.data(), span.data(), (i64)groups * out, &special_bits); });
        gridDim = {1, 1, 1};
        std::snprintf(what, sizeof what, "gptq_amax_from_span (%d bits), zero and negative%s scales: %g, the weights' %g", bits,
                      variant == 1 ? " and infinite" : "", __uint_as_float(special_bits), special_amax);
        failed += report(__uint_as_float(special_bits) == special_amax, what);
    }
    return failed;
}

// bitsandbytes 4-bit through bnb4_amax and bnb4_dequantize_e4m3 against code[nibble] · absmax rounded to bf16.
static int check_bnb4(std::mt19937& rng)
{
    const int count = 4096, block_size = 64;
    std::uniform_int_distribution<u32> word;
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f), positive(0.001f, 0.05f);
    std::vector<u32> packed(count / 8);
    for (auto& w : packed) w = word(rng);
    float code[16];
    for (auto& c : code) c = unit(rng);
    std::vector<float> absmax(count / block_size);
    for (auto& a : absmax) a = positive(rng);
    std::vector<float> w(count);
    float amax = 0;
    for (int k = 0; k < count; k++)
    {
        u32 byte = (packed[k / 8] >> (8 * ((k / 2) % 4))) & 0xFFu;
        u32 nibble = k % 2 == 0 ? byte >> 4 : byte & 0xFu;
        w[k] = bf16_float(bf16_bits(code[nibble] * absmax[k / block_size]));
        amax = std::max(amax, std::fabs(w[k]));
    }
    i64 count32 = count / 32;
    u32 amax_bits = 0; float scale = 0;
    std::vector<unsigned char> codes(count, 0xAA);
    blockDim = {128, 1, 1};
    launch(1, 1, [&] { bnb4_amax((const uint4*)packed.data(), code, absmax.data(), count32, block_size, &amax_bits); });
    launch(1, 1, [&] {
        bnb4_dequantize_e4m3((const uint4*)packed.data(), code, absmax.data(), count32, block_size, &amax_bits, (uint4*)codes.data(),
                             &scale);
    });
    float inverse = 448.0f / amax;
    int differ = 0;
    for (int k = 0; k < count; k++) differ += codes[k] != nearest(w[k] * inverse);
    char what[160];
    std::snprintf(what, sizeof what, "bnb4_amax, bnb4_dequantize_e4m3: amax, scale and codes, %d of %d differ", differ, count);
    return report(__uint_as_float(amax_bits) == amax && scale == amax / 448.0f && differ == 0, what);
}

int main()
{
    int failed = 0;
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f), exponent(-12.0f, 1.0f);
    const int rows = 48, cols = 80; // the transposed case's shape; rows × cols values in all
    std::vector<u16> x(rows * cols);
    float amax = 0;
    for (size_t i = 0; i < x.size(); i++)
    {
        float v = unit(rng) * std::exp2(exponent(rng)) * 0.03f;
        if (i % 97 == 0) v = 0.0f;
        x[i] = (u16)bf16_bits(v);
        amax = std::max(amax, std::fabs(bf16_float(x[i])));
    }
    u32 amax_bits = 0;
    gridDim = {3, 1, 1}; blockDim = {128, 1, 1};
    launch(3, 1, [&] { amax_bf16(x.data(), (i64)x.size(), &amax_bits); });
    failed += report(__uint_as_float(amax_bits) == amax, "amax_bf16 is the largest magnitude");
    u32 odd_bits = 0;
    launch(3, 1, [&] { amax_bf16(x.data(), (i64)x.size() - 3, &odd_bits); }); // not a multiple of 8: the scalar loop
    float odd = 0;
    for (size_t i = 0; i + 3 < x.size(); i++) odd = std::max(odd, std::fabs(bf16_float(x[i])));
    failed += report(__uint_as_float(odd_bits) == odd, "amax_bf16 over a count that is not a multiple of 8");

    float inverse = 448.0f / amax, scale = 0;
    std::vector<unsigned char> q(x.size()), t(x.size());
    i64 count8 = (i64)x.size() / 8;
    launch((unsigned)((count8 + 127) / 128), 1, [&] { quantize_e4m3_bf16((const uint4*)x.data(), count8, &amax_bits, (uint2*)q.data(), &scale); });
    int differ = 0;
    for (size_t i = 0; i < x.size(); i++) differ += q[i] != nearest(bf16_float(x[i]) * inverse);
    failed += report(differ == 0 && scale == amax / 448.0f, "quantize_e4m3_bf16: the nearest codes, ties to even, and amax / 448");

    float transposed_scale = 0;
    blockDim = {32, 8, 1};
    launch((cols + 31) / 32, (rows + 31) / 32, [&] {
        u32 flat = threadIdx.x; threadIdx.x = flat % 32; threadIdx.y = flat / 32;
        quantize_e4m3_transposed_bf16(x.data(), rows, cols, &amax_bits, t.data(), &transposed_scale);
    }, 256);
    differ = 0;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) differ += t[c * rows + r] != nearest(bf16_float(x[r * cols + c]) * inverse);
    failed += report(differ == 0 && transposed_scale == scale, "quantize_e4m3_transposed_bf16: [rows, cols] -> [cols, rows] codes");

    // Ties, where the rounding rule decides: amax 448 makes the scaling 1, so these reach the encoder as they are.
    std::vector<float> ties = {448.0f, 1.0625f, 1.1875f, 0.0009765625f, 0.0029296875f, 0.0146484375f, 3.25f, -6.5f, 0.0f, 1.0f,
                               -0.0009765625f, 0.3125f, 0.4375f, 104.0f, 120.0f, 232.0f};
    std::vector<u16> tie_bits(ties.size());
    for (size_t i = 0; i < ties.size(); i++) tie_bits[i] = (u16)bf16_bits(ties[i]);
    u32 tie_amax = __float_as_uint(448.0f); float tie_scale = 0;
    std::vector<unsigned char> tq(ties.size());
    launch(1, 1, [&] { quantize_e4m3_bf16((const uint4*)tie_bits.data(), (i64)ties.size() / 8, &tie_amax, (uint2*)tq.data(), &tie_scale); });
    differ = 0;
    for (size_t i = 0; i < ties.size(); i++) differ += tq[i] != nearest(ties[i]);
    failed += report(differ == 0 && tq[1] == 0x38 && tq[2] == 0x3A && tq[5] == 0x08, "ties round to the even code");

    u32 zero_bits = 0; float zero_scale = 0; std::vector<u16> zeros(64, 0); std::vector<unsigned char> zq(64, 0xAA);
    blockDim = {128, 1, 1};
    launch(1, 1, [&] { quantize_e4m3_bf16((const uint4*)zeros.data(), 8, &zero_bits, (uint2*)zq.data(), &zero_scale); });
    failed += report(zero_scale == 1.0f && std::all_of(zq.begin(), zq.end(), [](unsigned char c) { return c == 0; }),
                     "a tensor of zeros: codes 0, scale 1");
    for (int bits : {2, 4, 8}) failed += check_gptq(bits, rng, 128, 32, 32);
    for (int bits : {2, 4, 8}) failed += check_gptq(bits, rng, 272, 80, 16); // two input tiles and a 16-input one; 64 + 16 outputs
    failed += check_bnb4(rng);
    return failed;
}
