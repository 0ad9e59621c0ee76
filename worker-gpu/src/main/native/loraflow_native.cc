// JNI entry points of the GPU fast path (Java side: io.loraflow.engine.nativeops.NativeOps).
//
// Handles are DJL PtNDArray handles, i.e. torch::Tensor* (see DJL's pytorch-native sources). Every
// entry point reads its inputs through the handles and returns a new torch::Tensor* that the Java
// side wraps in a PtNDArray of the caller's manager (which deletes it on close, as for any DJL op).
// All ops are ATen calls on the calling thread, so autograd records them when grad mode is on, like
// the ops DJL issues; the one custom kernel (NF4 dequantization) only produces a frozen weight.
#include <jni.h>

#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <ATen/cuda/Sleep.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>
#include <mutex>
#include <vector>
#include <atomic>
#include <optional>
#include <string>

extern "C" cudaError_t loraflow_nf4_dequant(const uint8_t* packed, const float* absmax,
                                            const uint8_t* absmaxCodes, const float* absmaxScales,
                                            float offset, const float* pairTable,
                                            const float* dynamicMap, int64_t blocks, int64_t numel,
                                            void* out, int outHalf, int smCount,
                                            cudaStream_t stream);
extern "C" cudaError_t loraflow_adamw8bit(const int64_t* table, int n, int64_t blocks,
                                          uint8_t* mCodes, float* mAbsmax, uint8_t* vCodes,
                                          float* vAbsmax, const float* signedValues,
                                          const float* signedMids, const float* unsignedValues,
                                          const float* unsignedMids, const float* coef,
                                          const float* hyper, int applyDecay, int smCount,
                                          cudaStream_t stream);
extern "C" cudaError_t loraflow_adamw32(const int64_t* table, int n, int64_t blocks,
                                        const float* coef, const float* hyper, int applyDecay,
                                        int smCount, cudaStream_t stream);

namespace {

// Bumped when an entry point's signature or meaning changes; NativeOps checks it.
constexpr int kAbiVersion = 8;

const at::Tensor& tensor(jlong handle) { return *reinterpret_cast<at::Tensor*>(handle); }

std::optional<at::Tensor> optionalTensor(jlong handle) {
  if (handle == 0) return std::nullopt;
  return tensor(handle);
}

jlong wrap(at::Tensor t) { return reinterpret_cast<jlong>(new at::Tensor(std::move(t))); }

void throwJava(JNIEnv* env, const char* message) {
  jclass cls = env->FindClass("java/lang/IllegalStateException");
  if (cls != nullptr) env->ThrowNew(cls, message);
}

template <typename F>
jlong guarded(JNIEnv* env, F&& body) {
  try {
    return body();
  } catch (const c10::Error& e) {
    throwJava(env, e.what_without_backtrace());
  } catch (const std::exception& e) {
    throwJava(env, e.what());
  }
  return 0;
}

int smCount(int device) {
  static int cached[64] = {0};
  if (device < 0 || device >= 64) return 132;
  if (cached[device] == 0) {
    int n = 0;
    if (cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || n <= 0)
      n = 132;
    cached[device] = n;
  }
  return cached[device];
}

void requireCudaBytes(const at::Tensor& t, const char* what) {
  TORCH_CHECK(t.is_cuda(), what, " must be on a CUDA device, got ", t.device());
  TORCH_CHECK(t.scalar_type() == at::kByte, what, " must be uint8, got ", t.scalar_type());
  TORCH_CHECK(t.is_contiguous(), what, " must be contiguous");
}

void requireCudaFloats(const at::Tensor& t, const char* what) {
  TORCH_CHECK(t.is_cuda(), what, " must be on a CUDA device, got ", t.device());
  TORCH_CHECK(t.scalar_type() == at::kFloat, what, " must be float32, got ", t.scalar_type());
  TORCH_CHECK(t.is_contiguous(), what, " must be contiguous");
}

// NF4 (+ double-quantized absmax) -> dtype weight of `shape`, one kernel launch, no autograd.
at::Tensor nf4Dequantize(const at::Tensor& packed, const std::optional<at::Tensor>& absmax,
                         const std::optional<at::Tensor>& codes,
                         const std::optional<at::Tensor>& scales, float offset,
                         const at::Tensor& pairTable, const std::optional<at::Tensor>& dynamicMap,
                         std::vector<int64_t> shape, bool half) {
  requireCudaBytes(packed, "packed NF4 codes");
  requireCudaFloats(pairTable, "pair table");
  TORCH_CHECK(pairTable.numel() == 512, "pair table must be (256, 2), got ", pairTable.sizes());
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  const int64_t blocks = (numel + 63) / 64;
  TORCH_CHECK(packed.numel() >= blocks * 32, "packed codes hold ", packed.numel(),
              " bytes, shape ", c10::IntArrayRef(shape), " needs ", blocks * 32);
  TORCH_CHECK(reinterpret_cast<uintptr_t>(packed.data_ptr()) % 8 == 0,
              "packed codes must be 8-byte aligned");
  const float* absmaxPtr = nullptr;
  const uint8_t* codesPtr = nullptr;
  const float* scalesPtr = nullptr;
  const float* dynPtr = nullptr;
  if (absmax.has_value()) {
    requireCudaFloats(*absmax, "absmax");
    TORCH_CHECK(absmax->numel() >= blocks, "absmax has ", absmax->numel(), " values, need ", blocks);
    absmaxPtr = absmax->data_ptr<float>();
  } else {
    TORCH_CHECK(codes.has_value() && scales.has_value() && dynamicMap.has_value(),
                "double-quantized NF4 needs absmax codes, scales and the dynamic map");
    requireCudaBytes(*codes, "absmax codes");
    requireCudaFloats(*scales, "absmax scales");
    requireCudaFloats(*dynamicMap, "dynamic map");
    TORCH_CHECK(codes->numel() >= blocks, "absmax codes: ", codes->numel(), " < ", blocks);
    TORCH_CHECK(scales->numel() * 256 >= blocks, "absmax scales: ", scales->numel(), " * 256 < ",
                blocks);
    TORCH_CHECK(dynamicMap->numel() == 256, "dynamic map must have 256 values");
    codesPtr = codes->data_ptr<uint8_t>();
    scalesPtr = scales->data_ptr<float>();
    dynPtr = dynamicMap->data_ptr<float>();
  }
  c10::cuda::CUDAGuard guard(packed.device());
  at::Tensor out = at::empty(shape, packed.options().dtype(half ? at::kHalf : at::kFloat));
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream(packed.device().index()).stream();
  cudaError_t err = loraflow_nf4_dequant(packed.data_ptr<uint8_t>(), absmaxPtr, codesPtr, scalesPtr,
                                         offset, pairTable.data_ptr<float>(), dynPtr, blocks, numel,
                                         out.data_ptr(), half ? 1 : 0,
                                         smCount(packed.device().index()), stream);
  TORCH_CHECK(err == cudaSuccess, "NF4 dequantization kernel failed: ", cudaGetErrorString(err));
  return out;
}

// PEFT LoRA as ATen ops that autograd records one by one (about 15 nodes per call).
at::Tensor loraLinearOps(const at::Tensor& x, const at::Tensor& w,
                         const std::optional<at::Tensor>& bias, const at::Tensor& a,
                         const at::Tensor& b, double scaling, double dropout, bool training) {
  at::Tensor y = at::linear(x, w, bias);
  at::Tensor in = (training && dropout > 0) ? at::dropout(x, dropout, true) : x;
  at::Tensor down = at::linear(in, a.to(x.scalar_type()));  // (.., r)
  at::Tensor up = at::linear(down, b.to(x.scalar_type()));  // (.., out)
  return at::add(y, up, scaling);
}

// The same function as ONE autograd node: y = x W^T + bias + s * (drop(x) A^T) B^T, with A (r, in)
// and B (out, r) float32 leaves used in x's dtype. Saves x, the (already dequantized, frozen) W,
// the dropout mask and down = drop(x) A^T (N x r); backward is five matrix products:
//   dx = g W + (s g B) A * mask / (1 - p),  dB = s g^T down,  dA = (s g B)^T drop(x).
struct LoraFunction : public torch::autograd::Function<LoraFunction> {
  // every tensor argument must be defined (Function::apply records each input's device), so the
  // frozen bias is added outside, by the caller
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                            const at::Tensor& w, const at::Tensor& a32, const at::Tensor& b32,
                            double scaling, double dropout) {
    const at::ScalarType dt = x.scalar_type();
    at::Tensor a = a32.to(dt), b = b32.to(dt);
    at::Tensor xd = x, mask;
    if (dropout > 0) {
      auto r = at::native_dropout(x, dropout, true);
      xd = std::get<0>(r);
      mask = std::get<1>(r);
    }
    at::Tensor down = at::linear(xd, a);  // (.., r)
    at::Tensor y = at::add(at::linear(x, w), at::linear(down, b), scaling);
    ctx->save_for_backward({x, w, a, b, down, mask});
    ctx->saved_data["scaling"] = scaling;
    ctx->saved_data["dropout"] = dropout;
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &w = saved[1], &a = saved[2], &b = saved[3], &down = saved[4],
                     &mask = saved[5];
    const double scaling = ctx->saved_data["scaling"].toDouble();
    const double dropout = ctx->saved_data["dropout"].toDouble();
    const int64_t in = x.size(-1), out = w.size(0), r = a.size(0);
    at::Tensor g = grads[0].reshape({-1, out});
    at::Tensor x2 = x.reshape({-1, in});
    at::Tensor gDown = g.mm(b).mul_(scaling);         // (N, r)
    at::Tensor gB = g.t().mm(down.reshape({-1, r})).mul_(scaling);  // (out, r)
    at::Tensor gXd = gDown.mm(a);                     // (N, in)
    at::Tensor xd2 = x2;
    if (mask.defined()) {
      const double keep = 1.0 / (1.0 - dropout);
      at::Tensor m2 = mask.reshape({-1, in});
      gXd = at::native_dropout_backward(gXd, m2, keep);
      xd2 = at::native_dropout_backward(x2, m2, keep);  // drop(x) again, from the saved mask
    }
    at::Tensor gA = gDown.t().mm(xd2);                // (r, in)
    at::Tensor gx = g.mm(w).add_(gXd).reshape(x.sizes());
    // no gradient for the frozen W, nor for the two numbers
    return {gx, at::Tensor(), gA.to(at::kFloat), gB.to(at::kFloat), at::Tensor(), at::Tensor()};
  }
};

// Which LoRA implementation runs: 0 = ATen ops (default, the measured one), 1 = the custom node.
std::atomic<int> loraMode{0};

at::Tensor loraLinear(const at::Tensor& x, const at::Tensor& w, const std::optional<at::Tensor>& bias,
                      const at::Tensor& a, const at::Tensor& b, double scaling, double dropout,
                      bool training) {
  const double p = training ? dropout : 0.0;
  if (loraMode.load() == 1 && (a.requires_grad() || b.requires_grad()) &&
      at::GradMode::is_enabled()) {
    at::Tensor y = LoraFunction::apply(x, w, a, b, scaling, p);
    return bias.has_value() ? y + *bias : y;
  }
  return loraLinearOps(x, w, bias, a, b, scaling, p, p > 0);
}

// softmax(q k^T * scale + mask) v through ATen's fused attention (flash / memory-efficient), with
// grouped kv heads. q (B, H, T, D), k and v (B, KV, S, D) -> (B, T, H * D).
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const std::optional<at::Tensor>& mask, double scale, bool causal) {
  const int64_t b = q.size(0), heads = q.size(1), t = q.size(2), d = q.size(3);
  const int64_t kvHeads = k.size(1);
  TORCH_CHECK(heads % kvHeads == 0, "query heads ", heads, " not a multiple of kv heads ", kvHeads);
  at::Tensor kk = k, vv = v;
  bool gqa = heads != kvHeads;
  if (gqa && mask.has_value()) {
    // the memory-efficient kernel (the one that takes a mask) has no grouped heads: HF repeat_kv
    kk = k.repeat_interleave(heads / kvHeads, 1);
    vv = v.repeat_interleave(heads / kvHeads, 1);
    gqa = false;
  }
  std::optional<at::Tensor> m = mask;
  if (m.has_value() && m->scalar_type() != q.scalar_type()) m = m->to(q.scalar_type());
  at::Tensor out = at::scaled_dot_product_attention(q, kk, vv, m, 0.0, causal && !mask.has_value(),
                                                    scale, gqa);
  return out.transpose(1, 2).reshape({b, t, heads * d});
}


// One frozen (NF4) linear of a block with its optional LoRA branch, read from the handle arrays the
// Java side packs (NativeLinear.java): 9 handles, the absmax offset, (out, in), scaling, dropout.
struct BlockLinear {
  jlong h[9];  // packed, absmax, codes, scales, pairTable, dynamicMap, bias, loraA, loraB
  float offset;
  int64_t out, in;
  double scaling, dropout;
};

std::vector<BlockLinear> readLinears(JNIEnv* env, jlongArray jh, jfloatArray joff, jlongArray jshape,
                                     jdoubleArray jlora, int n) {
  TORCH_CHECK(env->GetArrayLength(jh) == 9 * n && env->GetArrayLength(joff) == n &&
                  env->GetArrayLength(jshape) == 2 * n && env->GetArrayLength(jlora) == 2 * n,
              "block descriptor arrays do not describe ", n, " linears");
  std::vector<jlong> h(9 * n), shape(2 * n);
  std::vector<jfloat> off(n);
  std::vector<jdouble> lora(2 * n);
  env->GetLongArrayRegion(jh, 0, 9 * n, h.data());
  env->GetFloatArrayRegion(joff, 0, n, off.data());
  env->GetLongArrayRegion(jshape, 0, 2 * n, shape.data());
  env->GetDoubleArrayRegion(jlora, 0, 2 * n, lora.data());
  std::vector<BlockLinear> out(n);
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < 9; j++) out[i].h[j] = h[9 * i + j];
    out[i].offset = off[i];
    out[i].out = shape[2 * i];
    out[i].in = shape[2 * i + 1];
    out[i].scaling = lora[2 * i];
    out[i].dropout = lora[2 * i + 1];
  }
  return out;
}

at::Tensor applyLinear(const BlockLinear& l, const at::Tensor& x) {
  at::Tensor w = nf4Dequantize(tensor(l.h[0]), optionalTensor(l.h[1]), optionalTensor(l.h[2]),
                               optionalTensor(l.h[3]), l.offset, tensor(l.h[4]),
                               optionalTensor(l.h[5]), {l.out, l.in}, x.scalar_type() == at::kHalf);
  if (w.scalar_type() != x.scalar_type()) w = w.to(x.scalar_type());
  if (l.h[7] == 0) return at::linear(x, w, optionalTensor(l.h[6]));
  return loraLinear(x, w, optionalTensor(l.h[6]), tensor(l.h[7]), tensor(l.h[8]), l.scaling,
                    l.dropout, l.dropout > 0);
}

// x * cos + rotate_half(x) * sin (HF convention: the two halves of a head, not interleaved pairs).
at::Tensor rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  at::Tensor rotated = at::cat({x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)}, -1);
  return at::addcmul(x * cos, rotated, sin);
}

// HF LlamaRMSNorm: float32 statistics, the normalized value rounded to x's dtype, then * weight.
at::Tensor rms(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const int64_t lastDim[] = {-1};
  at::Tensor x32 = x.to(at::kFloat);
  at::Tensor normed = x32 * at::rsqrt(x32.pow(2).mean(c10::IntArrayRef(lastDim), true) + eps);
  return normed.to(x.scalar_type()) * weight;
}

// LlamaModel.blockBody without a KV cache, op for op (same dropout draws in the same order):
// linears q, k, v, o, gate, up, down.
at::Tensor llamaBlock(const at::Tensor& x, const at::Tensor& inNorm, const at::Tensor& postNorm,
                      double eps, const std::vector<BlockLinear>& L, const at::Tensor& cos,
                      const at::Tensor& sin, const std::optional<at::Tensor>& mask, bool causal,
                      int64_t heads, int64_t kvHeads, int64_t d) {
  const int64_t b = x.size(0), t = x.size(1);
  at::Tensor h = rms(x, inNorm, eps);
  at::Tensor q = applyLinear(L[0], h).reshape({b, t, heads, d}).transpose(1, 2);
  at::Tensor k = applyLinear(L[1], h).reshape({b, t, kvHeads, d}).transpose(1, 2);
  at::Tensor v = applyLinear(L[2], h).reshape({b, t, kvHeads, d}).transpose(1, 2);
  at::Tensor attn = attention(rope(q, cos, sin), rope(k, cos, sin), v, mask,
                              1.0 / std::sqrt((double)d), causal);
  at::Tensor x1 = x + applyLinear(L[3], attn);
  at::Tensor h2 = rms(x1, postNorm, eps);
  at::Tensor gate = applyLinear(L[4], h2);
  at::Tensor up = applyLinear(L[5], h2);
  return x1 + applyLinear(L[6], at::silu(gate) * up);
}

// FalconModel.blockBody for the 7B layout (multi-query, parallel attention, one LayerNorm):
// linears query_key_value, dense, dense_h_to_4h, dense_4h_to_h.
at::Tensor falconBlock(const at::Tensor& x, const at::Tensor& lnW, const at::Tensor& lnB, double eps,
                       const std::vector<BlockLinear>& L, const at::Tensor& cos,
                       const at::Tensor& sin, const std::optional<at::Tensor>& mask, bool causal,
                       int64_t heads, int64_t d) {
  const int64_t b = x.size(0), t = x.size(1), hidden = x.size(2);
  const int64_t shape[] = {hidden};
  at::Tensor attnIn = at::layer_norm(x, c10::IntArrayRef(shape), lnW, lnB, eps);
  at::Tensor grouped = applyLinear(L[0], attnIn).reshape({b, t, 1, heads + 2, d});
  at::Tensor qk = grouped.narrow(3, 0, heads + 1).reshape({b, t, heads + 1, d}).transpose(1, 2);
  at::Tensor rotated = rope(qk, cos, sin);  // q heads and the k head in one pass
  at::Tensor q = rotated.narrow(1, 0, heads);
  at::Tensor k = rotated.narrow(1, heads, 1);
  at::Tensor v = grouped.select(3, heads + 1).transpose(1, 2);  // (B, 1, T, D)
  at::Tensor attended = attention(q, k, v, mask, 1.0 / std::sqrt((double)d), causal);
  at::Tensor attn = applyLinear(L[1], attended);
  at::Tensor mlp = applyLinear(L[3], at::gelu(applyLinear(L[2], attnIn)));
  return (mlp + attn) + x;
}


// ---- fused optimizer step (AdamW.java's GPU twin; see adamw_fused.cu) ----

std::vector<at::Tensor> tensorsOf(JNIEnv* env, jlongArray handles) {
  const jsize n = handles == nullptr ? 0 : env->GetArrayLength(handles);
  std::vector<jlong> h(n);
  if (n > 0) env->GetLongArrayRegion(handles, 0, n, h.data());
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (jlong x : h) out.push_back(tensor(x));
  return out;
}

// The float32 gradient of a float32 contiguous leaf, or an undefined tensor when none reached it.
at::Tensor leafGradient(const at::Tensor& p, size_t i) {
  TORCH_CHECK(p.is_cuda() && p.scalar_type() == at::kFloat && p.is_contiguous(), "parameter ", i,
              " must be a contiguous float32 CUDA tensor, got ", p.scalar_type(), " on ",
              p.device());
  const at::Tensor& g = p.grad();
  if (!g.defined()) return g;
  TORCH_CHECK(g.scalar_type() == at::kFloat && g.is_contiguous() && g.numel() == p.numel(),
              "gradient of parameter ", i, " must be contiguous float32 of ", p.numel(),
              " values, got ", g.scalar_type(), " ", g.sizes());
  return g;
}

// sum of g^2 over every defined gradient (float32 0-d tensor on the parameters' device)
at::Tensor gradSumSquares(const std::vector<at::Tensor>& params) {
  std::vector<at::Tensor> grads;
  for (size_t i = 0; i < params.size(); i++) {
    at::Tensor g = leafGradient(params[i], i);
    if (g.defined()) grads.push_back(g);
  }
  TORCH_CHECK(!params.empty(), "no parameters");
  if (grads.empty()) return at::zeros({}, params[0].options());
  std::vector<at::Tensor> norms = at::_foreach_norm(grads, 2);
  return at::stack(norms).square().sum();
}

// Pointer tables are uploaded only when a pointer changes (parameters and their in-place zeroed
// gradients keep their storage from step to step): one small copy on the first step.
struct DeviceTable {
  std::vector<int64_t> host;
  at::Tensor device;
};
std::mutex tableMutex;
DeviceTable tables[2];

const int64_t* uploadTable(int which, std::vector<int64_t> host, const at::Device& device) {
  std::lock_guard<std::mutex> lock(tableMutex);
  DeviceTable& t = tables[which];
  if (!t.device.defined() || t.host != host || t.device.device() != device) {
    at::Tensor cpu = at::from_blob(host.data(), {(int64_t)host.size()}, at::kLong).clone();
    t.device = cpu.to(device);
    t.host = std::move(host);
  }
  return t.device.data_ptr<int64_t>();
}

int64_t blocksOf(int64_t numel) { return (numel + 255) / 256; }

// Updates every parameter in place: 8-bit group through the flat moment buffers (offsets8 = flat
// element offset of each parameter's padded segment), float32 group through its m/v tensors.
// hyper = {beta1, 1 - beta1, beta2, 1 - beta2, stepSize, epsHat, 1 - lr * weightDecay}.
void adamwStep(const std::vector<at::Tensor>& params8, const std::vector<int64_t>& offsets8,
               const std::vector<at::Tensor>& state8, const std::vector<at::Tensor>& params32,
               const std::vector<at::Tensor>& m32, const std::vector<at::Tensor>& v32,
               const at::Tensor& coef, const float* hyper, bool applyDecay, bool zeroGrads) {
  TORCH_CHECK(coef.is_cuda() && coef.scalar_type() == at::kFloat && coef.numel() == 1,
              "coef must be one float32 CUDA value");
  const at::Device device = coef.device();
  c10::cuda::CUDAGuard guard(device);
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream(device.index()).stream();
  const int sms = smCount(device.index());
  std::vector<at::Tensor> grads;
  if (!params8.empty()) {
    TORCH_CHECK(offsets8.size() == params8.size(), "one flat offset per 8-bit parameter");
    TORCH_CHECK(state8.size() == 8, "8-bit state: mCodes, mAbsmax, vCodes, vAbsmax, 4 code tables");
    const size_t n = params8.size();
    std::vector<int64_t> host(4 * n);
    for (size_t i = 0; i < n; i++) {
      const at::Tensor& p = params8[i];
      at::Tensor g = leafGradient(p, i);
      if (g.defined()) grads.push_back(g);
      TORCH_CHECK(offsets8[i] % 256 == 0, "flat offset ", offsets8[i], " is not a block start");
      host[i] = reinterpret_cast<int64_t>(p.data_ptr<float>());
      host[n + i] = g.defined() ? reinterpret_cast<int64_t>(g.data_ptr<float>()) : 0;
      host[2 * n + i] = p.numel();
      host[3 * n + i] = offsets8[i] / 256;
    }
    const at::Tensor& mCodes = state8[0];
    const int64_t blocks = offsets8.back() / 256 + blocksOf(params8.back().numel());
    requireCudaBytes(mCodes, "m codes");
    requireCudaBytes(state8[2], "v codes");
    requireCudaFloats(state8[1], "m absmax");
    requireCudaFloats(state8[3], "v absmax");
    TORCH_CHECK(mCodes.numel() >= blocks * 256 && state8[2].numel() >= blocks * 256 &&
                    state8[1].numel() >= blocks && state8[3].numel() >= blocks,
                "8-bit state holds fewer than the ", blocks, " blocks the parameters need");
    for (int i = 4; i < 8; i++) requireCudaFloats(state8[i], "code table");
    const int64_t* table = uploadTable(0, std::move(host), device);
    cudaError_t err = loraflow_adamw8bit(
        table, (int)n, blocks, mCodes.data_ptr<uint8_t>(), state8[1].data_ptr<float>(),
        state8[2].data_ptr<uint8_t>(), state8[3].data_ptr<float>(), state8[4].data_ptr<float>(),
        state8[5].data_ptr<float>(), state8[6].data_ptr<float>(), state8[7].data_ptr<float>(),
        coef.data_ptr<float>(), hyper, applyDecay ? 1 : 0, sms, stream);
    TORCH_CHECK(err == cudaSuccess, "8-bit AdamW kernel failed: ", cudaGetErrorString(err));
  }
  if (!params32.empty()) {
    const size_t n = params32.size();
    TORCH_CHECK(m32.size() == n && v32.size() == n, "one m and one v per float32-moment parameter");
    std::vector<int64_t> host(6 * n);
    int64_t first = 0;
    for (size_t i = 0; i < n; i++) {
      const at::Tensor& p = params32[i];
      at::Tensor g = leafGradient(p, i);
      if (g.defined()) grads.push_back(g);
      requireCudaFloats(m32[i], "m");
      requireCudaFloats(v32[i], "v");
      TORCH_CHECK(m32[i].numel() == p.numel() && v32[i].numel() == p.numel(),
                  "moments of parameter ", i, " do not match its size");
      host[i] = reinterpret_cast<int64_t>(p.data_ptr<float>());
      host[n + i] = g.defined() ? reinterpret_cast<int64_t>(g.data_ptr<float>()) : 0;
      host[2 * n + i] = p.numel();
      host[3 * n + i] = first;
      host[4 * n + i] = reinterpret_cast<int64_t>(m32[i].data_ptr<float>());
      host[5 * n + i] = reinterpret_cast<int64_t>(v32[i].data_ptr<float>());
      first += blocksOf(p.numel());
    }
    const int64_t* table = uploadTable(1, std::move(host), device);
    cudaError_t err = loraflow_adamw32(table, (int)n, first, coef.data_ptr<float>(), hyper,
                                       applyDecay ? 1 : 0, sms, stream);
    TORCH_CHECK(err == cudaSuccess, "AdamW kernel failed: ", cudaGetErrorString(err));
  }
  if (zeroGrads && !grads.empty()) at::_foreach_zero_(grads);
}

using CaptureIdPair = decltype(std::declval<at::cuda::CUDAGraph&>().pool());

// ---- CUDA graphs of the trainer's micro-step (Java side: io.loraflow.engine.train.GraphedSteps)
//
// A capture runs on one side stream per device (CUDA graphs cannot be captured on the legacy
// default stream), after everything the caller's stream had queued; the Java code between
// graphBegin and graphEnd issues its ops on that stream (torch's current stream is per thread,
// and the autograd engine runs each backward op on its forward op's stream). Capture mode is
// thread-local so that other threads' CUDA calls (heartbeats, memory probes) cannot invalidate it.
// Every graph of one trainer shares one memory pool (graph_pool_handle): they never run at the
// same time, and the caller copies each replay's output out before the next replay.
struct CapturedStep {
  at::cuda::CUDAGraph graph;
  c10::cuda::CUDAStream caller;
  c10::cuda::CUDAStream side;
  CaptureIdPair pool;
  bool open = false;
  CapturedStep(c10::cuda::CUDAStream c, c10::cuda::CUDAStream s, CaptureIdPair p)
      : caller(c), side(s), pool(p) {}
};

c10::cuda::CUDAStream captureStream(c10::DeviceIndex device) {
  static std::mutex lock;
  static std::optional<c10::cuda::CUDAStream> streams[64];
  TORCH_CHECK(device >= 0 && device < 64, "CUDA device index ", static_cast<int>(device));
  std::lock_guard<std::mutex> guard(lock);
  if (!streams[device]) streams[device] = c10::cuda::getStreamFromPool(false, device);
  return *streams[device];
}

CapturedStep* captured(jlong handle) {
  TORCH_CHECK(handle != 0, "no captured graph (handle 0)");
  return reinterpret_cast<CapturedStep*>(handle);
}

}  // namespace

extern "C" {

JNIEXPORT jint JNICALL Java_io_loraflow_engine_nativeops_NativeOps_abiVersion(JNIEnv*, jclass) {
  return kAbiVersion;
}

JNIEXPORT jstring JNICALL Java_io_loraflow_engine_nativeops_NativeOps_torchVersion(JNIEnv* env,
                                                                                  jclass) {
  return env->NewStringUTF(TORCH_VERSION);
}

JNIEXPORT jlong JNICALL Java_io_loraflow_engine_nativeops_NativeOps_nf4Dequantize(
    JNIEnv* env, jclass, jlong packed, jlong absmax, jlong codes, jlong scales, jfloat offset,
    jlong pairTable, jlong dynamicMap, jlongArray jshape, jboolean half) {
  return guarded(env, [&]() -> jlong {
    const jsize n = env->GetArrayLength(jshape);
    std::vector<int64_t> shape(n);
    env->GetLongArrayRegion(jshape, 0, n, reinterpret_cast<jlong*>(shape.data()));
    return wrap(nf4Dequantize(tensor(packed), optionalTensor(absmax), optionalTensor(codes),
                              optionalTensor(scales), offset, tensor(pairTable),
                              optionalTensor(dynamicMap), shape, half));
  });
}

JNIEXPORT jlong JNICALL Java_io_loraflow_engine_nativeops_NativeOps_loraLinear(
    JNIEnv* env, jclass, jlong x, jlong w, jlong bias, jlong a, jlong b, jdouble scaling,
    jdouble dropout, jboolean training) {
  return guarded(env, [&]() -> jlong {
    return wrap(loraLinear(tensor(x), tensor(w), optionalTensor(bias), tensor(a), tensor(b), scaling,
                           dropout, training));
  });
}

JNIEXPORT jlong JNICALL Java_io_loraflow_engine_nativeops_NativeOps_nf4LoraLinear(
    JNIEnv* env, jclass, jlong x, jlong packed, jlong absmax, jlong codes, jlong scales,
    jfloat offset, jlong pairTable, jlong dynamicMap, jlongArray jshape, jlong bias, jlong a, jlong b,
    jdouble scaling, jdouble dropout, jboolean training) {
  return guarded(env, [&]() -> jlong {
    const jsize n = env->GetArrayLength(jshape);
    std::vector<int64_t> shape(n);
    env->GetLongArrayRegion(jshape, 0, n, reinterpret_cast<jlong*>(shape.data()));
    const at::Tensor& in = tensor(x);
    at::Tensor w = nf4Dequantize(tensor(packed), optionalTensor(absmax), optionalTensor(codes),
                                 optionalTensor(scales), offset, tensor(pairTable),
                                 optionalTensor(dynamicMap), shape, in.scalar_type() == at::kHalf);
    if (w.scalar_type() != in.scalar_type()) w = w.to(in.scalar_type());
    if (a == 0) return wrap(at::linear(in, w, optionalTensor(bias)));  // frozen NF4 linear alone
    return wrap(loraLinear(in, w, optionalTensor(bias), tensor(a), tensor(b), scaling, dropout,
                           training));
  });
}

JNIEXPORT jlong JNICALL Java_io_loraflow_engine_nativeops_NativeOps_attention(
    JNIEnv* env, jclass, jlong q, jlong k, jlong v, jlong mask, jdouble scale, jboolean causal) {
  return guarded(env, [&]() -> jlong {
    return wrap(attention(tensor(q), tensor(k), tensor(v), optionalTensor(mask), scale, causal));
  });
}

JNIEXPORT jlong JNICALL Java_io_loraflow_engine_nativeops_NativeOps_rmsNorm(JNIEnv* env, jclass,
                                                                           jlong x, jlong weight,
                                                                           jdouble eps) {
  return guarded(env, [&]() -> jlong { return wrap(rms(tensor(x), tensor(weight), eps)); });
}

JNIEXPORT jlong JNICALL Java_io_loraflow_engine_nativeops_NativeOps_rotary(JNIEnv* env, jclass,
                                                                          jlong x, jlong cos,
                                                                          jlong sin) {
  return guarded(env, [&]() -> jlong { return wrap(rope(tensor(x), tensor(cos), tensor(sin))); });
}

JNIEXPORT jlong JNICALL Java_io_loraflow_engine_nativeops_NativeOps_siluMul(JNIEnv* env, jclass,
                                                                           jlong gate, jlong up) {
  return guarded(env, [&]() -> jlong { return wrap(at::silu(tensor(gate)) * tensor(up)); });
}

// 0: LoRA linears as recorded ATen ops (default); 1: as one custom autograd node
JNIEXPORT void JNICALL Java_io_loraflow_engine_nativeops_NativeOps_setLoraMode(JNIEnv*, jclass,
                                                                              jint mode) {
  loraMode.store(mode);
}

// {allocated now, allocated peak, reserved now, reserved peak} bytes of the caching allocator
JNIEXPORT jlongArray JNICALL Java_io_loraflow_engine_nativeops_NativeOps_memoryStats(JNIEnv* env,
                                                                                    jclass,
                                                                                    jint device,
                                                                                    jboolean reset) {
  jlong values[4] = {0, 0, 0, 0};
  try {
    // before the process's first CUDA allocation the caching allocator has no state for any
    // device and getDeviceStats throws "Invalid device argument": nothing is allocated, so zeros
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || device < 0 || device >= devices) {
      throwJava(env, ("no CUDA device " + std::to_string(device)).c_str());
      return nullptr;
    }
    if (!c10::cuda::CUDACachingAllocator::get()->initialized()) {
      jlongArray zeros = env->NewLongArray(4);
      env->SetLongArrayRegion(zeros, 0, 4, values);
      return zeros;
    }
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device);
    values[0] = stats.allocated_bytes[0].current;
    values[1] = stats.allocated_bytes[0].peak;
    values[2] = stats.reserved_bytes[0].current;
    values[3] = stats.reserved_bytes[0].peak;
    if (reset) c10::cuda::CUDACachingAllocator::resetPeakStats(device);
  } catch (const std::exception& e) {
    throwJava(env, e.what());
    return nullptr;
  }
  jlongArray out = env->NewLongArray(4);
  env->SetLongArrayRegion(out, 0, 4, values);
  return out;
}

JNIEXPORT jlong JNICALL Java_io_loraflow_engine_nativeops_NativeOps_llamaBlock(
    JNIEnv* env, jclass, jlong x, jlong inNorm, jlong postNorm, jdouble eps, jlongArray lin,
    jfloatArray offsets, jlongArray shapes, jdoubleArray lora, jlong cos, jlong sin, jlong mask,
    jboolean causal, jint heads, jint kvHeads, jint headDim) {
  return guarded(env, [&]() -> jlong {
    auto L = readLinears(env, lin, offsets, shapes, lora, 7);
    return wrap(llamaBlock(tensor(x), tensor(inNorm), tensor(postNorm), eps, L, tensor(cos),
                           tensor(sin), optionalTensor(mask), causal, heads, kvHeads, headDim));
  });
}

JNIEXPORT jlong JNICALL Java_io_loraflow_engine_nativeops_NativeOps_falconBlock(
    JNIEnv* env, jclass, jlong x, jlong lnW, jlong lnB, jdouble eps, jlongArray lin,
    jfloatArray offsets, jlongArray shapes, jdoubleArray lora, jlong cos, jlong sin, jlong mask,
    jboolean causal, jint heads, jint headDim) {
  return guarded(env, [&]() -> jlong {
    auto L = readLinears(env, lin, offsets, shapes, lora, 4);
    return wrap(falconBlock(tensor(x), tensor(lnW), tensor(lnB), eps, L, tensor(cos), tensor(sin),
                            optionalTensor(mask), causal, heads, headDim));
  });
}

JNIEXPORT jlong JNICALL Java_io_loraflow_engine_nativeops_NativeOps_gradSumSquares(
    JNIEnv* env, jclass, jlongArray params) {
  return guarded(env, [&]() -> jlong {
    at::NoGradGuard noGrad;
    return wrap(gradSumSquares(tensorsOf(env, params)));
  });
}

JNIEXPORT void JNICALL Java_io_loraflow_engine_nativeops_NativeOps_adamwStep(
    JNIEnv* env, jclass, jlongArray params8, jlongArray offsets8, jlongArray state8,
    jlongArray params32, jlongArray m32, jlongArray v32, jlong coef, jfloatArray hyper,
    jboolean applyDecay, jboolean zeroGrads) {
  guarded(env, [&]() -> jlong {
    at::NoGradGuard noGrad;
    TORCH_CHECK(env->GetArrayLength(hyper) == 7, "hyper holds 7 values");
    float h[7];
    env->GetFloatArrayRegion(hyper, 0, 7, h);
    const jsize n8 = params8 == nullptr ? 0 : env->GetArrayLength(params8);
    std::vector<int64_t> offsets(n8);
    if (n8 > 0) env->GetLongArrayRegion(offsets8, 0, n8, reinterpret_cast<jlong*>(offsets.data()));
    adamwStep(tensorsOf(env, params8), offsets, tensorsOf(env, state8), tensorsOf(env, params32),
              tensorsOf(env, m32), tensorsOf(env, v32), tensor(coef), h, applyDecay, zeroGrads);
    return 0;
  });
}

// ---- CUDA graphs

// a fresh memory-pool id for one trainer's graphs (graph_pool_handle's {0, id}: its second half)
JNIEXPORT jlong JNICALL Java_io_loraflow_engine_nativeops_NativeOps_graphPool(JNIEnv* env, jclass) {
  return guarded(env, [&]() -> jlong {
    auto pool = at::cuda::graph_pool_handle();
    TORCH_CHECK(pool.first == 0, "graph_pool_handle gave an unexpected id");
    return static_cast<jlong>(pool.second);
  });
}

// starts capturing the calling thread's CUDA work into a new graph in memory pool `pool`
JNIEXPORT jlong JNICALL Java_io_loraflow_engine_nativeops_NativeOps_graphBegin(JNIEnv* env, jclass,
                                                                              jlong pool) {
  return guarded(env, [&]() -> jlong {
    auto caller = c10::cuda::getCurrentCUDAStream();
    auto side = captureStream(caller.device_index());
    at::cuda::CUDAEvent ready;
    ready.record(caller);
    ready.block(side);  // the capture starts after the inputs the caller wrote
    CaptureIdPair id{0, static_cast<decltype(CaptureIdPair().second)>(pool)};
    auto step = std::make_unique<CapturedStep>(caller, side, id);
    c10::cuda::setCurrentCUDAStream(side);
    try {
      step->graph.capture_begin(id, cudaStreamCaptureModeThreadLocal);
    } catch (...) {
      c10::cuda::setCurrentCUDAStream(caller);
      throw;
    }
    step->open = true;
    return reinterpret_cast<jlong>(step.release());
  });
}

// ends the capture and instantiates the graph; the thread's stream is the caller's again
JNIEXPORT void JNICALL Java_io_loraflow_engine_nativeops_NativeOps_graphEnd(JNIEnv* env, jclass,
                                                                           jlong handle) {
  guarded(env, [&]() -> jlong {
    CapturedStep* step = captured(handle);
    TORCH_CHECK(step->open, "graph is not capturing");
    step->open = false;
    try {
      step->graph.capture_end();
    } catch (...) {
      c10::cuda::setCurrentCUDAStream(step->caller);
      throw;
    }
    c10::cuda::setCurrentCUDAStream(step->caller);
    return 0;
  });
}

// abandons a capture that failed (an op that cannot be captured threw): ends it on the CUDA side,
// stops routing the side stream's allocations to the pool, restores the caller's stream. Never
// throws: the caller falls back to eager ops.
JNIEXPORT void JNICALL Java_io_loraflow_engine_nativeops_NativeOps_graphAbort(JNIEnv*, jclass,
                                                                             jlong handle) {
  if (handle == 0) return;
  CapturedStep* step = reinterpret_cast<CapturedStep*>(handle);
  if (step->open) {
    step->open = false;
    try {
      step->graph.capture_end();  // throws when CUDA invalidated the capture
    } catch (...) {
      cudaGraph_t partial = nullptr;
      cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
      if (cudaStreamIsCapturing(step->side.stream(), &status) == cudaSuccess &&
          status != cudaStreamCaptureStatusNone) {
        cudaStreamEndCapture(step->side.stream(), &partial);
      }
      if (partial != nullptr) cudaGraphDestroy(partial);
#ifndef LORAFLOW_NO_END_ALLOCATE_TO_POOL
      try {
        c10::cuda::CUDACachingAllocator::get()->endAllocateToPool(step->side.device_index(),
                                                                 step->pool);
      } catch (...) {
      }
#endif
    }
    cudaGetLastError();  // a capture error is not sticky; clear it for the eager ops that follow
    c10::cuda::setCurrentCUDAStream(step->caller);
  }
}

// replays the graph on the calling thread's current stream
JNIEXPORT void JNICALL Java_io_loraflow_engine_nativeops_NativeOps_graphReplay(JNIEnv* env, jclass,
                                                                              jlong handle) {
  guarded(env, [&]() -> jlong {
    captured(handle)->graph.replay();
    return 0;
  });
}

JNIEXPORT void JNICALL Java_io_loraflow_engine_nativeops_NativeOps_graphFree(JNIEnv*, jclass,
                                                                            jlong handle) {
  if (handle == 0) return;
  try {
    delete reinterpret_cast<CapturedStep*>(handle);
  } catch (...) {
  }
}

// data pointer of each leaf's .grad (0 where it has none): a captured backward accumulates into
// these addresses, so the Java side checks they are unchanged before each replay
JNIEXPORT jlongArray JNICALL Java_io_loraflow_engine_nativeops_NativeOps_gradPointers(
    JNIEnv* env, jclass, jlongArray params) {
  try {
    auto leaves = tensorsOf(env, params);
    std::vector<jlong> out(leaves.size(), 0);
    for (size_t i = 0; i < leaves.size(); i++) {
      const at::Tensor& g = leaves[i].grad();
      if (g.defined()) out[i] = reinterpret_cast<jlong>(g.data_ptr());
    }
    jlongArray result = env->NewLongArray(static_cast<jsize>(out.size()));
    env->SetLongArrayRegion(result, 0, static_cast<jsize>(out.size()), out.data());
    return result;
  } catch (const std::exception& e) {
    throwJava(env, e.what());
    return nullptr;
  }
}

// dst <- src in place (same shape; dtype converted), without autograd: a graph's static input
JNIEXPORT void JNICALL Java_io_loraflow_engine_nativeops_NativeOps_copyInto(JNIEnv* env, jclass,
                                                                           jlong dst, jlong src) {
  guarded(env, [&]() -> jlong {
    at::NoGradGuard noGrad;
    at::Tensor target = tensor(dst);
    TORCH_CHECK(target.sizes() == tensor(src).sizes(), "copyInto: shape ", tensor(src).sizes(),
                " into ", target.sizes());
    target.copy_(tensor(src));
    return 0;
  });
}

// a kernel that spins for `cycles` SM clock cycles on the calling thread's current stream
// (at::cuda::sleep, as torch.cuda._sleep; ~1.5-2 GHz on an H100/H200): a stand-in for a hung CUDA
// call in the stall-watchdog check. Returns at once; the stream's next sync waits for it.
JNIEXPORT void JNICALL Java_io_loraflow_engine_nativeops_NativeOps_gpuSleep(JNIEnv* env, jclass,
                                                                           jlong cycles) {
  guarded(env, [&]() -> jlong {
    TORCH_CHECK(cycles >= 0, "gpuSleep: cycles must be >= 0, got ", cycles);
    at::cuda::sleep(cycles);
    return 0;
  });
}

// {free, total} bytes of device `device` (cudaMemGetInfo): the GPU's size for the checkpointing
// decision when DJL's CudaUtils cannot load libcudart through JNA (no unversioned libcudart.so on a
// host whose CUDA runtime comes with torch's wheels, or no JNA on the classpath)
JNIEXPORT jlongArray JNICALL Java_io_loraflow_engine_nativeops_NativeOps_deviceMemory(JNIEnv* env,
                                                                                    jclass,
                                                                                    jint device) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || device < 0 || device >= devices) {
    throwJava(env, ("no CUDA device " + std::to_string(device)).c_str());
    return nullptr;
  }
  int current = 0;
  size_t freeBytes = 0, totalBytes = 0;
  cudaError_t err = cudaGetDevice(&current);
  if (err == cudaSuccess) err = cudaSetDevice(device);
  if (err == cudaSuccess) err = cudaMemGetInfo(&freeBytes, &totalBytes);
  cudaSetDevice(current);
  if (err != cudaSuccess) {
    throwJava(env, (std::string("cudaMemGetInfo: ") + cudaGetErrorString(err)).c_str());
    return nullptr;
  }
  jlong values[2] = {static_cast<jlong>(freeBytes), static_cast<jlong>(totalBytes)};
  jlongArray out = env->NewLongArray(2);
  env->SetLongArrayRegion(out, 0, 2, values);
  return out;
}

}  // extern "C"
