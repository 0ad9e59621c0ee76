// One-launch NF4 dequantization (bitsandbytes layout, see Nf4Tensor.java): every thread turns 8
// packed bytes (16 weights, a quarter of one 64-value block) into 16 outputs. The block's absmax is
// decoded inline: stored float32, or with double quantization dynamicMap[code] * scale[block / 256]
// + offset, in float32 exactly as the plain DJL path computes it (no fused multiply-add, so the
// float32 result is bit-identical to it). Each output is code * absmax rounded once to the output
// type. Bytes moved per weight: 0.5 read + 2 (fp16) or 4 (fp32) written; the absmax streams are
// 1/64 and 1/16384 of that. Compiled without torch headers: the host side passes raw pointers.
#include <cstdint>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace {

constexpr int kThreads = 256;

template <typename Out>
__device__ inline void store16(Out* out, int64_t e0, int64_t numel, const float* v);

template <>
__device__ inline void store16<__half>(__half* out, int64_t e0, int64_t numel, const float* v) {
  if (e0 + 16 <= numel) {
    __align__(16) __half h[16];
#pragma unroll
    for (int i = 0; i < 16; i++) h[i] = __float2half_rn(v[i]);
    uint4* dst = reinterpret_cast<uint4*>(out + e0);  // 32-byte aligned: e0 is a multiple of 16
    dst[0] = reinterpret_cast<const uint4*>(h)[0];
    dst[1] = reinterpret_cast<const uint4*>(h)[1];
  } else {
    for (int i = 0; i < 16 && e0 + i < numel; i++) out[e0 + i] = __float2half_rn(v[i]);
  }
}

template <>
__device__ inline void store16<float>(float* out, int64_t e0, int64_t numel, const float* v) {
  if (e0 + 16 <= numel) {
    float4* dst = reinterpret_cast<float4*>(out + e0);
#pragma unroll
    for (int i = 0; i < 4; i++) dst[i] = make_float4(v[4 * i], v[4 * i + 1], v[4 * i + 2], v[4 * i + 3]);
  } else {
    for (int i = 0; i < 16 && e0 + i < numel; i++) out[e0 + i] = v[i];
  }
}

template <typename Out>
__global__ void __launch_bounds__(kThreads) nf4_dequant_kernel(
    const uint2* __restrict__ packed,        // (blocks * 32) bytes as 8-byte words
    const float* __restrict__ absmax,        // (blocks) or null when double-quantized
    const uint8_t* __restrict__ absmaxCodes, // (paddedBlocks)
    const float* __restrict__ absmaxScales,  // (paddedBlocks / 256)
    float offset,
    const float* __restrict__ pairTable,     // (256, 2): byte -> {code[b >> 4], code[b & 15]}
    const float* __restrict__ dynamicMap,    // (256)
    int64_t words,                           // blocks * 4
    int64_t numel, Out* __restrict__ out) {
  __shared__ float pairs[512];
  __shared__ float dyn[256];
  for (int i = threadIdx.x; i < 512; i += kThreads) pairs[i] = pairTable[i];
  if (absmax == nullptr) {
    for (int i = threadIdx.x; i < 256; i += kThreads) dyn[i] = dynamicMap[i];
  }
  __syncthreads();
  for (int64_t w = blockIdx.x * (int64_t)kThreads + threadIdx.x; w < words;
       w += (int64_t)gridDim.x * kThreads) {
    const int64_t block = w >> 2;  // 4 words of 8 bytes per 64-value block
    float a;
    if (absmax != nullptr) {
      a = absmax[block];
    } else {
      a = __fadd_rn(__fmul_rn(dyn[absmaxCodes[block]], absmaxScales[block >> 8]), offset);
    }
    const uint2 word = packed[w];
    float v[16];
#pragma unroll
    for (int i = 0; i < 8; i++) {
      const uint32_t part = i < 4 ? word.x : word.y;
      const uint32_t byte = (part >> (8 * (i & 3))) & 0xFF;  // little endian: byte i of the word
      v[2 * i] = __fmul_rn(pairs[2 * byte], a);
      v[2 * i + 1] = __fmul_rn(pairs[2 * byte + 1], a);
    }
    store16<Out>(out, w * 16, numel, v);
  }
}

}  // namespace

extern "C" cudaError_t loraflow_nf4_dequant(const uint8_t* packed, const float* absmax,
                                            const uint8_t* absmaxCodes, const float* absmaxScales,
                                            float offset, const float* pairTable,
                                            const float* dynamicMap, int64_t blocks, int64_t numel,
                                            void* out, int outHalf, int smCount,
                                            cudaStream_t stream) {
  const int64_t words = blocks * 4;
  int64_t grid = (words + kThreads - 1) / kThreads;
  const int64_t cap = (int64_t)smCount * 16;  // grid-stride beyond ~16 blocks per SM
  if (grid > cap) grid = cap;
  if (grid < 1) grid = 1;
  const uint2* words8 = reinterpret_cast<const uint2*>(packed);
  if (outHalf) {
    nf4_dequant_kernel<__half><<<(unsigned)grid, kThreads, 0, stream>>>(
        words8, absmax, absmaxCodes, absmaxScales, offset, pairTable, dynamicMap, words, numel,
        reinterpret_cast<__half*>(out));
  } else {
    nf4_dequant_kernel<float><<<(unsigned)grid, kThreads, 0, stream>>>(
        words8, absmax, absmaxCodes, absmaxScales, offset, pairTable, dynamicMap, words, numel,
        reinterpret_cast<float*>(out));
  }
  return cudaGetLastError();
}
