// streaming_kernels.cu's bnb4_dequantize_bf16 on the CPU (emulation.h) against the formula the ILGPU kernel
// (Quantization/Bnb/Kernels/Bnb4BitDequantKernel.cs) computes: pair j = (code[byte j >> 4] · s, code[byte j & 15] · s),
// s = absmax[2j / block_size], each rounded to bf16. Every bit must agree. Exit code: failed cases.
#include "emulation.h"
#include <cstdio>
#include <functional>
#include <random>
#include <thread>
#include <vector>
typedef long long i64;
inline dim3 blockDim{128, 1, 1};
inline i64 thread_index() { return (i64)blockIdx.x * blockDim.x + threadIdx.x; }
#include "bnb4.inc" // streaming_kernels.cu's bitsandbytes section (check.sh)

int main()
{
    const float nf4[16] = {-1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
                           -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
                           0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f,
                           0.7229568362236023f, 1.0f};
    int failed = 0;
    for (int blockSize : {32, 64, 256})
        for (long count : {32L * 5, 64L * 96 + 32, 4096L * 3})
        {
            std::mt19937 rng((unsigned)(blockSize * 7919 + count));
            long blocks = (count + blockSize - 1) / blockSize;
            std::vector<unsigned char> packed(count / 2);
            std::vector<float> absmax(blocks);
            for (auto& b : packed) b = (unsigned char)(rng() & 0xFF);
            std::uniform_real_distribution<float> u(0.01f, 3.0f);
            for (auto& a : absmax) a = u(rng);
            std::vector<u32> weight(count / 2, 0xDEADBEEFu);
            i64 count32 = count / 32;
            launch((unsigned)((count32 + 127) / 128), 1, [&] {
                bnb4_dequantize_bf16((const uint4*)packed.data(), nf4, absmax.data(), (uint4*)weight.data(), count32, blockSize); });
            long wrong = 0;
            for (long j = 0; j < count / 2; j++)
            {
                float s = absmax[2 * j / blockSize];
                u32 expected = pack_bf16x2(nf4[packed[j] >> 4] * s, nf4[packed[j] & 15] * s);
                wrong += weight[j] != expected;
            }
            failed += wrong != 0;
            std::printf("%s bnb4_dequantize block %3d, %6ld values: %ld of %ld pairs differ\n", wrong ? "FAIL" : "PASS", blockSize, count,
                        wrong, count / 2);
        }
    return failed;
}
