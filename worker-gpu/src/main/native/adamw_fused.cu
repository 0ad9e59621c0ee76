// One-launch AdamW over every LoRA parameter (the GPU twin of AdamW.java's step; Java stays the
// reference). Two kernels, one per moment layout AdamW.java uses:
//  * 8-bit blockwise moments (bitsandbytes' layout, AdamW.java's flat buffers): thread t of CUDA
//    block b owns flat element b * 256 + t. Each parameter's segment is padded to whole 256-value
//    blocks, so a block belongs to exactly one parameter (found by binary search over the segments'
//    first blocks). The block dequantizes m and v (code value * absmax), updates them in float32,
//    applies the update to the parameter in place, and re-quantizes: absmax = max |x| over the
//    block, code = number of code midpoints strictly below x / max(absmax, 1e-30) clipped to
//    [-1, 1] (Codebook8.nearest's rule, ties to the lower code). Padding elements see g = 0.
//  * float32 moments (parameters under 4096 values): the same update, elementwise.
// Gradients are read through a pointer table (null = no gradient reached the parameter: g = 0) and
// multiplied by *coef (unscale x clip) first, exactly as Trainer does before AdamW.step. Every
// float op is written with the _rn intrinsics, so nvcc cannot contract it into an FMA: the result
// follows the plain path's op order (m * b1 + g * (1 - b1), ...). No temporaries: state, gradients
// and parameters are read and written in place.
#include <cstdint>
#include <cuda_runtime.h>

namespace {

constexpr int kBlock = 256;  // AdamW.BLOCK: values per quantization block = threads per CUDA block

struct Hyper {
  float beta1, oneMinusBeta1, beta2, oneMinusBeta2, stepSize, epsHat, decay;
  bool applyDecay;
};

// index of the segment holding flat block b: the last i with firstBlock[i] <= b
__device__ inline int segmentOf(const int64_t* firstBlock, int n, int64_t b) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) >> 1;
    if (firstBlock[mid] <= b) lo = mid; else hi = mid - 1;
  }
  return lo;
}

// m, v <- updated moments; returns stepSize * m / (sqrt(v) + epsHat)
__device__ inline float adamUpdate(float& m, float& v, float g, const Hyper& h) {
  m = __fadd_rn(__fmul_rn(m, h.beta1), __fmul_rn(g, h.oneMinusBeta1));
  v = __fadd_rn(__fmul_rn(v, h.beta2), __fmul_rn(__fmul_rn(g, g), h.oneMinusBeta2));
  return __fmul_rn(__fdiv_rn(m, __fadd_rn(__fsqrt_rn(v), h.epsHat)), h.stepSize);
}

__device__ inline void applyToParam(float* p, float update, const Hyper& h) {
  float x = *p;
  if (h.applyDecay) x = __fmul_rn(x, h.decay);
  *p = __fsub_rn(x, update);
}

__device__ inline float blockMax(float x, float* scratch) {
  for (int off = 16; off > 0; off >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, off));
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  if (lane == 0) scratch[warp] = x;
  __syncthreads();
  float r = scratch[0];
  for (int w = 1; w < kBlock / 32; w++) r = fmaxf(r, scratch[w]);
  __syncthreads();  // scratch is reused by the next reduction
  return r;
}

// number of the 255 ascending midpoints strictly below x
__device__ inline int codeOf(float x, const float* mids) {
  int lo = 0, hi = 255;
  while (lo < hi) {
    const int mid = (lo + hi) >> 1;
    if (mids[mid] < x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

__device__ inline uint8_t requantize(float x, float absmax, const float* mids) {
  const float safe = fmaxf(absmax, 1e-30f);
  float s = __fdiv_rn(x, safe);
  s = fminf(fmaxf(s, -1.0f), 1.0f);
  return (uint8_t)codeOf(s, mids);
}

__global__ void __launch_bounds__(kBlock) adamw8bit_kernel(
    float* const* __restrict__ params, const float* const* __restrict__ grads,
    const int64_t* __restrict__ numel, const int64_t* __restrict__ firstBlock, int nParams,
    int64_t blocks, uint8_t* __restrict__ mCodes, float* __restrict__ mAbsmax,
    uint8_t* __restrict__ vCodes, float* __restrict__ vAbsmax,
    const float* __restrict__ signedValues, const float* __restrict__ signedMids,
    const float* __restrict__ unsignedValues, const float* __restrict__ unsignedMids,
    const float* __restrict__ coef, Hyper h) {
  __shared__ float sVal[256], sMid[255], uVal[256], uMid[255];
  __shared__ float scratch[kBlock / 32];
  for (int i = threadIdx.x; i < 256; i += kBlock) {
    sVal[i] = signedValues[i];
    uVal[i] = unsignedValues[i];
    if (i < 255) {
      sMid[i] = signedMids[i];
      uMid[i] = unsignedMids[i];
    }
  }
  __syncthreads();
  const float c = *coef;
  for (int64_t b = blockIdx.x; b < blocks; b += gridDim.x) {
    const int seg = segmentOf(firstBlock, nParams, b);
    const int64_t local = (b - firstBlock[seg]) * kBlock + threadIdx.x;
    const bool real = local < numel[seg];
    const float* g = grads[seg];
    const float grad = (real && g != nullptr) ? __fmul_rn(g[local], c) : 0.0f;
    const int64_t e = b * kBlock + threadIdx.x;
    float m = __fmul_rn(sVal[mCodes[e]], mAbsmax[b]);
    float v = __fmul_rn(uVal[vCodes[e]], vAbsmax[b]);
    const float update = adamUpdate(m, v, grad, h);
    if (real) applyToParam(params[seg] + local, update, h);
    const float mMax = blockMax(fabsf(m), scratch);
    const float vMax = blockMax(fabsf(v), scratch);
    mCodes[e] = requantize(m, mMax, sMid);
    vCodes[e] = requantize(v, vMax, uMid);
    if (threadIdx.x == 0) {
      mAbsmax[b] = mMax;
      vAbsmax[b] = vMax;
    }
  }
}

__global__ void __launch_bounds__(kBlock) adamw32_kernel(
    float* const* __restrict__ params, const float* const* __restrict__ grads,
    const int64_t* __restrict__ numel, const int64_t* __restrict__ firstBlock,
    float* const* __restrict__ ms, float* const* __restrict__ vs, int nParams, int64_t blocks,
    const float* __restrict__ coef, Hyper h) {
  const float c = *coef;
  for (int64_t b = blockIdx.x; b < blocks; b += gridDim.x) {
    const int seg = segmentOf(firstBlock, nParams, b);
    const int64_t local = (b - firstBlock[seg]) * kBlock + threadIdx.x;
    if (local >= numel[seg]) continue;
    const float* g = grads[seg];
    const float grad = g != nullptr ? __fmul_rn(g[local], c) : 0.0f;
    float m = ms[seg][local];
    float v = vs[seg][local];
    const float update = adamUpdate(m, v, grad, h);
    ms[seg][local] = m;
    vs[seg][local] = v;
    applyToParam(params[seg] + local, update, h);
  }
}

unsigned gridFor(int64_t blocks, int smCount) {
  int64_t grid = blocks;
  const int64_t cap = (int64_t)smCount * 32;
  if (grid > cap) grid = cap;
  if (grid < 1) grid = 1;
  return (unsigned)grid;
}

}  // namespace

// table: device int64[4 * n]: params, grads, numel, firstBlock (pointers as int64)
extern "C" cudaError_t loraflow_adamw8bit(const int64_t* table, int n, int64_t blocks,
                                          uint8_t* mCodes, float* mAbsmax, uint8_t* vCodes,
                                          float* vAbsmax, const float* signedValues,
                                          const float* signedMids, const float* unsignedValues,
                                          const float* unsignedMids, const float* coef,
                                          const float* hyper, int applyDecay, int smCount,
                                          cudaStream_t stream) {
  if (n <= 0 || blocks <= 0) return cudaSuccess;
  Hyper h{hyper[0], hyper[1], hyper[2], hyper[3], hyper[4], hyper[5], hyper[6], applyDecay != 0};
  adamw8bit_kernel<<<gridFor(blocks, smCount), kBlock, 0, stream>>>(
      reinterpret_cast<float* const*>(table), reinterpret_cast<const float* const*>(table + n),
      table + 2 * n, table + 3 * n, n, blocks, mCodes, mAbsmax, vCodes, vAbsmax, signedValues,
      signedMids, unsignedValues, unsignedMids, coef, h);
  return cudaGetLastError();
}

// table: device int64[6 * n]: params, grads, numel, firstBlock, m, v
extern "C" cudaError_t loraflow_adamw32(const int64_t* table, int n, int64_t blocks,
                                        const float* coef, const float* hyper, int applyDecay,
                                        int smCount, cudaStream_t stream) {
  if (n <= 0 || blocks <= 0) return cudaSuccess;
  Hyper h{hyper[0], hyper[1], hyper[2], hyper[3], hyper[4], hyper[5], hyper[6], applyDecay != 0};
  adamw32_kernel<<<gridFor(blocks, smCount), kBlock, 0, stream>>>(
      reinterpret_cast<float* const*>(table), reinterpret_cast<const float* const*>(table + n),
      table + 2 * n, table + 3 * n, reinterpret_cast<float* const*>(table + 4 * n),
      reinterpret_cast<float* const*>(table + 5 * n), n, blocks, coef, h);
  return cudaGetLastError();
}
