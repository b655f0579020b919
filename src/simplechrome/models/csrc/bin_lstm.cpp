// AttentiveChrome's bin level on the CPU, fused: every mark's bidirectional LSTM (hidden 32,
// input 1) over its bins, all marks and both directions in one call, forward and backward;
// and, at the end of the file, the bin attention over those states (attend_*).
//
// Shapes: x (B, M, T) signals; K = 2M recurrences per gene (k = 2m + direction, direction 1
// reads the bins from the right). Weights as torch.nn.LSTM holds them, stacked over k:
// w_ih (K, G) (input size 1), bias (K, G) (= bias_ih + bias_hh), w_hh (K, G, H); G = 4H, gate
// order i, f, g, o. Output out (B, M, T, 2H): forward states then backward states, in genome
// order, as torch's bidirectional LSTM returns them per mark.
//
// Forward, two sequences of the same k are advanced together, so each weight row loaded from L1
// feeds two genes; backward, every gene of the batch takes each step together, so the step's
// w_hh gradient is one product over the batch, its accumulator read and written once a step.
// The matrix products, the gate functions and the pointwise gradients are written with
// AVX2/FMA intrinsics (8 floats a register), with plain loops where AVX2 is absent. exp() is
// evaluated as 2^n * 2^f with a degree-7 polynomial: pure arithmetic, vectorised, relative
// error below 2e-7; 1/x as the approximate reciprocal and one Newton step. Backward reads each
// gene's rows of out and dout for a step far apart, so it prefetches the next step's. Each
// weight group k is summed by one thread in a fixed order, so gradients are the same on every
// run.
#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>
#ifdef __AVX2__
#include <immintrin.h>
#endif

namespace {
constexpr int H = 32;
constexpr int G = 4 * H;

inline float vexp(float x) {
  x = std::fmin(std::fmax(x, -87.0f), 88.0f);
  const float y = x * 1.4426950408889634f;
  const float n = std::floor(y + 0.5f);
  const float f = (y - n) * 0.6931471805599453f;
  float p = 1.9841269841269841e-4f;
  p = p * f + 1.3888888888888889e-3f;
  p = p * f + 8.3333333333333333e-3f;
  p = p * f + 4.1666666666666667e-2f;
  p = p * f + 1.6666666666666667e-1f;
  p = p * f + 0.5f;
  p = p * f + 1.0f;
  p = p * f + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}
inline float sigm(float x) { return 1.0f / (1.0f + vexp(-x)); }
inline float tanh_(float x) { return 2.0f / (1.0f + vexp(-2.0f * x)) - 1.0f; }

#ifdef __AVX2__
// the same three functions on 8 floats at once, written out: a compiler tuned for a CPU that
// splits 256-bit operations (-march=native on some virtual machines reports one) vectorises
// the scalar ones 4 wide, at half the speed this CPU has
inline __m256 vexp8(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
  const __m256 y = _mm256_mul_ps(x, _mm256_set1_ps(1.4426950408889634f));
  const __m256 n = _mm256_floor_ps(_mm256_add_ps(y, _mm256_set1_ps(0.5f)));
  const __m256 f = _mm256_mul_ps(_mm256_sub_ps(y, n), _mm256_set1_ps(0.6931471805599453f));
  __m256 p = _mm256_set1_ps(1.9841269841269841e-4f);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.3888888888888889e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(8.3333333333333333e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(4.1666666666666667e-2f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.6666666666666667e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
  const __m256i bits = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}
// 1 / d: the approximate reciprocal and one Newton step (relative error about 1e-7)
inline __m256 recip8(__m256 d) {
  const __m256 r = _mm256_rcp_ps(d);
  return _mm256_mul_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(2.0f)));
}
inline __m256 sigm8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return recip8(_mm256_add_ps(one, vexp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}
inline __m256 tanh8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = vexp8(_mm256_mul_ps(x, _mm256_set1_ps(-2.0f)));
  return _mm256_fmsub_ps(_mm256_set1_ps(2.0f), recip8(_mm256_add_ps(one, e)), one);
}
#endif

#ifdef __AVX2__
// Two rows of 32 sums (8 registers), and the step every product below is made of: both rows
// take a multiple of the same 32 floats (a += x0 * v, b += x1 * v), so each load feeds two.
struct Rows2 {
  __m256 a[4], b[4];
  void load(const float* r0, const float* r1) {
    for (int i = 0; i < 4; ++i) {
      a[i] = _mm256_loadu_ps(r0 + 8 * i);
      b[i] = _mm256_loadu_ps(r1 + 8 * i);
    }
  }
  void zero() {
    for (int i = 0; i < 4; ++i) { a[i] = _mm256_setzero_ps(); b[i] = a[i]; }
  }
  void fma(const float* x0, const float* x1, const float* v) {
    const __m256 s0 = _mm256_broadcast_ss(x0), s1 = _mm256_broadcast_ss(x1);
    for (int i = 0; i < 4; ++i) {
      const __m256 vi = _mm256_loadu_ps(v + 8 * i);
      a[i] = _mm256_fmadd_ps(s0, vi, a[i]);
      b[i] = _mm256_fmadd_ps(s1, vi, b[i]);
    }
  }
  void store(float* r0, float* r1) const {
    for (int i = 0; i < 4; ++i) {
      _mm256_storeu_ps(r0 + 8 * i, a[i]);
      _mm256_storeu_ps(r1 + 8 * i, b[i]);
    }
  }
};
#endif

// g[n][q] = bi[q] + wi[q] * x[n] + sum_j h[n][j] * w[j][q] for two sequences n (w: (H, G)
// row-major): the gates' pre-activations, input projection included.
inline void matvec_hg(const float* w, const float* wi, const float* bi, float x0, float x1,
                      const float* h0, const float* h1, float* g0, float* g1) {
#ifdef __AVX2__
  for (int qc = 0; qc < G; qc += 32) {
    Rows2 acc;
    acc.load(bi + qc, bi + qc);
    acc.fma(&x0, &x1, wi + qc);
    for (int j = 0; j < H; ++j) acc.fma(h0 + j, h1 + j, w + j * G + qc);
    acc.store(g0 + qc, g1 + qc);
  }
#else
  for (int q = 0; q < G; ++q) { g0[q] = bi[q] + wi[q] * x0; g1[q] = bi[q] + wi[q] * x1; }
  for (int j = 0; j < H; ++j)
    for (int q = 0; q < G; ++q) { g0[q] += h0[j] * w[j * G + q]; g1[q] += h1[j] * w[j * G + q]; }
#endif
}

// dh[n][j] = sum_q d[n][q] * w[q][j] for two sequences (w: (G, H) row-major).
inline void backprop_h(const float* w, const float* d0, const float* d1, float* dh0, float* dh1) {
#ifdef __AVX2__
  Rows2 acc;
  acc.zero();
  for (int q = 0; q < G; ++q) acc.fma(d0 + q, d1 + q, w + q * H);
  acc.store(dh0, dh1);
#else
  for (int j = 0; j < H; ++j) { dh0[j] = 0.f; dh1[j] = 0.f; }
  for (int q = 0; q < G; ++q)
    for (int j = 0; j < H; ++j) { dh0[j] += d0[q] * w[q * H + j]; dh1[j] += d1[q] * w[q * H + j]; }
#endif
}

// acc[q][j] += sum_n d[n][q] hp[n][j] over n sequences (d: (n, G), hp: (n, H), acc: (G, H)):
// two rows of acc stay in registers while every sequence passes, so acc is read and written
// once a step, not once per sequence.
inline void outer_gh(const float* d, const float* hp, int64_t n, float* acc) {
  for (int q = 0; q < G; q += 2) {
#ifdef __AVX2__
    Rows2 rows;
    rows.load(acc + q * H, acc + (q + 1) * H);
    for (int64_t b = 0; b < n; ++b) rows.fma(d + b * G + q, d + b * G + q + 1, hp + b * H);
    rows.store(acc + q * H, acc + (q + 1) * H);
#else
    for (int64_t b = 0; b < n; ++b)
      for (int r = 0; r < 2; ++r)
        for (int j = 0; j < H; ++j)
          acc[(q + r) * H + j] += d[b * G + q + r] * hp[b * H + j];
#endif
  }
}

// out (B, M, T, 2H); when `keep`, also acts (K, T, B, G) and cs (K, T, B, H) for backward, in
// step order (t for direction 0, T - 1 - t for 1), every gene of a step side by side.
std::vector<torch::Tensor> forward(torch::Tensor x, torch::Tensor w_ih, torch::Tensor bias,
                                   torch::Tensor wt, bool keep) {
  TORCH_CHECK(x.is_contiguous() && w_ih.is_contiguous() && bias.is_contiguous() &&
              wt.is_contiguous(), "contiguous inputs expected");
  TORCH_CHECK(x.scalar_type() == torch::kFloat32, "float32 inputs expected");
  TORCH_CHECK(wt.size(1) == H && wt.size(2) == G, "hidden size must be 32");
  const int64_t B = x.size(0), M = x.size(1), T = x.size(2), K = 2 * M;
  auto out = torch::empty({B, M, T, 2 * H}, x.options());
  auto acts = keep ? torch::empty({K, T, B, G}, x.options()) : torch::empty({0}, x.options());
  auto cs = keep ? torch::empty({K, T, B, H}, x.options()) : torch::empty({0}, x.options());
  const float* X = x.data_ptr<float>();
  const float* WI = w_ih.data_ptr<float>();
  const float* BI = bias.data_ptr<float>();
  const float* WT = wt.data_ptr<float>();
  float* O = out.data_ptr<float>();
  float* A = keep ? acts.data_ptr<float>() : nullptr;
  float* C = keep ? cs.data_ptr<float>() : nullptr;
  const int64_t pairs = (B + 1) / 2;
  at::parallel_for(0, K * pairs, 1, [&](int64_t lo, int64_t hi) {
    alignas(32) float h[2][H], c[2][H], g[2][G];
    for (int64_t kp = lo; kp < hi; ++kp) {
      const int64_t k = kp / pairs, b0 = 2 * (kp % pairs), m = k / 2, d = k % 2;
      const int nb = b0 + 1 < B ? 2 : 1;
      const float* w = WT + k * H * G;
      const float* wi = WI + k * G;
      const float* bi = BI + k * G;
      std::memset(h, 0, sizeof(h));
      std::memset(c, 0, sizeof(c));
      for (int64_t s = 0; s < T; ++s) {
        const int64_t t = d ? T - 1 - s : s;
        const float x0 = X[(b0 * M + m) * T + t];
        const float x1 = nb > 1 ? X[((b0 + 1) * M + m) * T + t] : 0.f;
        matvec_hg(w, wi, bi, x0, x1, h[0], h[1], g[0], g[1]);
        for (int n = 0; n < nb; ++n) {
          const int64_t b = b0 + n;
          float* o = O + ((b * M + m) * T + t) * 2 * H + d * H;
          float* a = keep ? A + ((k * T + s) * B + b) * G : g[n];
          float* cc = keep ? C + ((k * T + s) * B + b) * H : c[n];
          const float* gn = g[n];
          float* cn_ = c[n];
          float* hn_ = h[n];
#ifdef __AVX2__
          for (int q = 0; q < H; q += 8) {
            const __m256 gi = sigm8(_mm256_loadu_ps(gn + q));
            const __m256 gf = sigm8(_mm256_loadu_ps(gn + H + q));
            const __m256 gg = tanh8(_mm256_loadu_ps(gn + 2 * H + q));
            const __m256 go = sigm8(_mm256_loadu_ps(gn + 3 * H + q));
            const __m256 cn = _mm256_fmadd_ps(gf, _mm256_loadu_ps(cn_ + q), _mm256_mul_ps(gi, gg));
            const __m256 hn = _mm256_mul_ps(go, tanh8(cn));
            _mm256_storeu_ps(a + q, gi); _mm256_storeu_ps(a + H + q, gf);
            _mm256_storeu_ps(a + 2 * H + q, gg); _mm256_storeu_ps(a + 3 * H + q, go);
            _mm256_storeu_ps(cn_ + q, cn); _mm256_storeu_ps(hn_ + q, hn);
            _mm256_storeu_ps(cc + q, cn); _mm256_storeu_ps(o + q, hn);
          }
#else
          for (int q = 0; q < H; ++q) {
            const float gi = sigm(gn[q]), gf = sigm(gn[H + q]), gg = tanh_(gn[2 * H + q]);
            const float go = sigm(gn[3 * H + q]);
            const float cn = gf * cn_[q] + gi * gg;
            const float hn = go * tanh_(cn);
            a[q] = gi; a[H + q] = gf; a[2 * H + q] = gg; a[3 * H + q] = go;
            cn_[q] = cn; hn_[q] = hn; cc[q] = cn; o[q] = hn;
          }
#endif
        }
      }
    }
  });
  return {out, acts, cs};
}

// Gradients of x (per direction, (K, B, T) in genome order), w_ih (K, G), bias (K, G) and
// w_hh (K, G, H) from the gradient of out; w: w_hh (K, G, H).
std::vector<torch::Tensor> backward(torch::Tensor dout, torch::Tensor x, torch::Tensor w_ih,
                                    torch::Tensor w, torch::Tensor out, torch::Tensor acts,
                                    torch::Tensor cs) {
  TORCH_CHECK(dout.is_contiguous() && x.is_contiguous() && w_ih.is_contiguous() &&
              w.is_contiguous() && out.is_contiguous() && acts.is_contiguous() &&
              cs.is_contiguous(), "contiguous inputs expected");
  const int64_t B = x.size(0), M = x.size(1), T = x.size(2), K = 2 * M;
  auto dx = torch::empty({K, B, T}, x.options());
  auto dwi = torch::zeros({K, G}, x.options());
  auto db = torch::zeros({K, G}, x.options());
  auto dwh = torch::zeros({K, G, H}, x.options());
  const float* DO = dout.data_ptr<float>();
  const float* X = x.data_ptr<float>();
  const float* WI = w_ih.data_ptr<float>();
  const float* WH = w.data_ptr<float>();
  const float* O = out.data_ptr<float>();
  const float* A = acts.data_ptr<float>();
  const float* C = cs.data_ptr<float>();
  float* DX = dx.data_ptr<float>();
  float* DWI = dwi.data_ptr<float>();
  float* DB = db.data_ptr<float>();
  float* DWH = dwh.data_ptr<float>();
  at::parallel_for(0, K, 1, [&](int64_t lo, int64_t hi) {
    // every gene of the batch advances one step at a time, so each step's w_hh gradient is
    // one product over the batch (outer_gh) rather than a read-modify-write per gene pair
    const int64_t B2 = (B + 1) / 2 * 2;  // an odd batch gets a zero-gradient partner gene
    std::vector<float> dh(B2 * H), dc(B2 * H), dg(B2 * G), hp(B2 * H);
    for (int64_t k = lo; k < hi; ++k) {
      const int64_t m = k / 2, d = k % 2;
      const float* wk = WH + k * G * H;
      const float* wi = WI + k * G;
      float* dwh_k = DWH + k * G * H;
      float* dwi_k = DWI + k * G;
      float* db_k = DB + k * G;
      std::fill(dh.begin(), dh.end(), 0.f);
      std::fill(dc.begin(), dc.end(), 0.f);
      std::fill(dg.begin(), dg.end(), 0.f);
      for (int64_t s = T - 1; s >= 0; --s) {
        const int64_t t = d ? T - 1 - s : s;
        for (int64_t b = 0; b < B; ++b) {
#ifdef __AVX2__
          // a gene's rows of out and dout lie far from the next gene's (a cache miss each):
          // ask for the ones the next step reads while this step computes
          if (s > 1) {
            const int64_t tn = d ? t + 2 : t - 2;
            const char* pn =
                reinterpret_cast<const char*>(O + ((b * M + m) * T + tn) * 2 * H + d * H);
            _mm_prefetch(pn, _MM_HINT_T0);
            _mm_prefetch(pn + 64, _MM_HINT_T0);
          }
          if (s > 0) {
            const int64_t tn = d ? t + 1 : t - 1;
            const char* pn =
                reinterpret_cast<const char*>(DO + ((b * M + m) * T + tn) * 2 * H + d * H);
            _mm_prefetch(pn, _MM_HINT_T0);
            _mm_prefetch(pn + 64, _MM_HINT_T0);
          }
#endif
          if (s > 0) {  // the state before this step (the previous step's output), side by side
            const int64_t tp = d ? t + 1 : t - 1;
            std::memcpy(hp.data() + b * H, O + ((b * M + m) * T + tp) * 2 * H + d * H,
                        H * sizeof(float));
          }
          const float* a = A + ((k * T + s) * B + b) * G;
          const float* c = C + ((k * T + s) * B + b) * H;
          const float* dos = DO + ((b * M + m) * T + t) * 2 * H + d * H;
          float* dgn = dg.data() + b * G;
          float* dhn = dh.data() + b * H;
          float* dcn = dc.data() + b * H;
#ifdef __AVX2__
          const __m256 one = _mm256_set1_ps(1.0f);
          for (int q = 0; q < H; q += 8) {
            const __m256 gi = _mm256_loadu_ps(a + q), gf = _mm256_loadu_ps(a + H + q);
            const __m256 gg = _mm256_loadu_ps(a + 2 * H + q), go = _mm256_loadu_ps(a + 3 * H + q);
            const __m256 cprev = s > 0 ? _mm256_loadu_ps(c + q - B * H) : _mm256_setzero_ps();
            const __m256 tc = tanh8(_mm256_loadu_ps(c + q));
            const __m256 dhq = _mm256_add_ps(_mm256_loadu_ps(dhn + q), _mm256_loadu_ps(dos + q));
            const __m256 dcq = _mm256_fmadd_ps(
                _mm256_mul_ps(dhq, go), _mm256_fnmadd_ps(tc, tc, one), _mm256_loadu_ps(dcn + q));
            _mm256_storeu_ps(dgn + q, _mm256_mul_ps(_mm256_mul_ps(dcq, gg),
                                                    _mm256_mul_ps(gi, _mm256_sub_ps(one, gi))));
            _mm256_storeu_ps(dgn + H + q, _mm256_mul_ps(_mm256_mul_ps(dcq, cprev),
                                                        _mm256_mul_ps(gf, _mm256_sub_ps(one, gf))));
            _mm256_storeu_ps(dgn + 2 * H + q,
                             _mm256_mul_ps(_mm256_mul_ps(dcq, gi), _mm256_fnmadd_ps(gg, gg, one)));
            _mm256_storeu_ps(dgn + 3 * H + q,
                             _mm256_mul_ps(_mm256_mul_ps(dhq, tc),
                                           _mm256_mul_ps(go, _mm256_sub_ps(one, go))));
            _mm256_storeu_ps(dcn + q, _mm256_mul_ps(dcq, gf));
          }
#else
          for (int q = 0; q < H; ++q) {
            const float gi = a[q], gf = a[H + q], gg = a[2 * H + q], go = a[3 * H + q];
            const float cprev = s > 0 ? c[q - B * H] : 0.f;
            const float tc = tanh_(c[q]);
            const float dhq = dhn[q] + dos[q];
            const float dcq = dcn[q] + dhq * go * (1.f - tc * tc);
            dgn[q] = dcq * gg * gi * (1.f - gi);
            dgn[H + q] = dcq * cprev * gf * (1.f - gf);
            dgn[2 * H + q] = dcq * gi * (1.f - gg * gg);
            dgn[3 * H + q] = dhq * tc * go * (1.f - go);
            dcn[q] = dcq * gf;
          }
#endif
          const float xt = X[(b * M + m) * T + t];
#ifdef __AVX2__
          const __m256 xv = _mm256_set1_ps(xt);
          __m256 dx0 = _mm256_setzero_ps(), dx1 = dx0;
          for (int q = 0; q < G; q += 16) {
            const __m256 d0 = _mm256_loadu_ps(dgn + q), d1 = _mm256_loadu_ps(dgn + q + 8);
            _mm256_storeu_ps(dwi_k + q, _mm256_fmadd_ps(d0, xv, _mm256_loadu_ps(dwi_k + q)));
            _mm256_storeu_ps(dwi_k + q + 8,
                             _mm256_fmadd_ps(d1, xv, _mm256_loadu_ps(dwi_k + q + 8)));
            _mm256_storeu_ps(db_k + q, _mm256_add_ps(d0, _mm256_loadu_ps(db_k + q)));
            _mm256_storeu_ps(db_k + q + 8, _mm256_add_ps(d1, _mm256_loadu_ps(db_k + q + 8)));
            dx0 = _mm256_fmadd_ps(d0, _mm256_loadu_ps(wi + q), dx0);
            dx1 = _mm256_fmadd_ps(d1, _mm256_loadu_ps(wi + q + 8), dx1);
          }
          const __m256 sum8 = _mm256_add_ps(dx0, dx1);
          __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(sum8), _mm256_extractf128_ps(sum8, 1));
          sum4 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
          sum4 = _mm_add_ss(sum4, _mm_movehdup_ps(sum4));
          const float dxt = _mm_cvtss_f32(sum4);
#else
          float dxt = 0.f;
          for (int q = 0; q < G; ++q) {
            dwi_k[q] += dgn[q] * xt;
            db_k[q] += dgn[q];
            dxt += dgn[q] * wi[q];
          }
#endif
          DX[(k * B + b) * T + t] = dxt;
        }
        for (int64_t b = 0; b < B2; b += 2)
          backprop_h(wk, dg.data() + b * G, dg.data() + (b + 1) * G, dh.data() + b * H,
                     dh.data() + (b + 1) * H);
        if (s > 0) outer_gh(dg.data(), hp.data(), B, dwh_k);  // the states are zero at s = 0
      }
    }
  });
  return {dx, dwi, db, dwh};
}
// AttentiveChrome's bin attention over the bin level's states h (B, M, T, D): each mark's
// context vector ctx[m] (D) scores its bins, a softmax over bins weighs them, and the weighted
// sum pools them. Returns the weights w (B, M, T) and the pooled states (B, M, D).
std::vector<torch::Tensor> attend_forward(torch::Tensor h, torch::Tensor ctx) {
  TORCH_CHECK(h.is_contiguous() && ctx.is_contiguous(), "contiguous inputs expected");
  const int64_t B = h.size(0), M = h.size(1), T = h.size(2), D = h.size(3);
  auto w = torch::empty({B, M, T}, h.options());
  auto pooled = torch::zeros({B, M, D}, h.options());
  const float* Hs = h.data_ptr<float>();
  const float* CX = ctx.data_ptr<float>();
  float* W = w.data_ptr<float>();
  float* P = pooled.data_ptr<float>();
  at::parallel_for(0, B * M, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t bm = lo; bm < hi; ++bm) {
      const float* hb = Hs + bm * T * D;
      const float* cm = CX + (bm % M) * D;
      float* wb = W + bm * T;
      float* pb = P + bm * D;
      float top = -std::numeric_limits<float>::max();
      for (int64_t t = 0; t < T; ++t) {
        float s = 0.f;
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < D; ++j) s += hb[t * D + j] * cm[j];
        wb[t] = s;
        top = std::fmax(top, s);
      }
      float total = 0.f;
      for (int64_t t = 0; t < T; ++t) {
        wb[t] = std::exp(wb[t] - top);
        total += wb[t];
      }
      const float inv = 1.f / total;
      for (int64_t t = 0; t < T; ++t) {
        const float wt = wb[t] * inv;
        wb[t] = wt;
#pragma omp simd
        for (int64_t j = 0; j < D; ++j) pb[j] += wt * hb[t * D + j];
      }
    }
  });
  return {w, pooled};
}

// Gradients of h (B, M, T, D) and, per gene, of ctx ((B, M, D), summed over genes by the
// caller in a fixed order) from the gradients of the pooled states (B, M, D) and of the
// weights (B, M, T; an empty tensor where they have none).
std::vector<torch::Tensor> attend_backward(torch::Tensor dpooled, torch::Tensor dw,
                                           torch::Tensor h, torch::Tensor ctx, torch::Tensor w) {
  TORCH_CHECK(dpooled.is_contiguous() && h.is_contiguous() && ctx.is_contiguous() &&
              w.is_contiguous() && dw.is_contiguous(), "contiguous inputs expected");
  const int64_t B = h.size(0), M = h.size(1), T = h.size(2), D = h.size(3);
  const bool has_dw = dw.numel() > 0;
  auto dh = torch::empty({B, M, T, D}, h.options());
  auto dctx = torch::zeros({B, M, D}, h.options());
  const float* DP = dpooled.data_ptr<float>();
  const float* DW = has_dw ? dw.data_ptr<float>() : nullptr;
  const float* Hs = h.data_ptr<float>();
  const float* CX = ctx.data_ptr<float>();
  const float* W = w.data_ptr<float>();
  float* DH = dh.data_ptr<float>();
  float* DC = dctx.data_ptr<float>();
  at::parallel_for(0, B * M, 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> g(T);
    for (int64_t bm = lo; bm < hi; ++bm) {
      const float* hb = Hs + bm * T * D;
      const float* cm = CX + (bm % M) * D;
      const float* wb = W + bm * T;
      const float* dp = DP + bm * D;
      float* dhb = DH + bm * T * D;
      float* dc = DC + bm * D;
      float mean = 0.f;  // the weights' average of g
      for (int64_t t = 0; t < T; ++t) {
        float s = has_dw ? DW[bm * T + t] : 0.f;
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < D; ++j) s += hb[t * D + j] * dp[j];
        g[t] = s;
        mean += wb[t] * s;
      }
      for (int64_t t = 0; t < T; ++t) {
        const float wt = wb[t], ds = wt * (g[t] - mean);
#pragma omp simd
        for (int64_t j = 0; j < D; ++j) {
          dhb[t * D + j] = wt * dp[j] + ds * cm[j];
          dc[j] += ds * hb[t * D + j];
        }
      }
    }
  });
  return {dh, dctx};
}
}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &forward, "AttentiveChrome bin LSTMs, forward");
  m.def("backward", &backward, "AttentiveChrome bin LSTMs, backward");
  m.def("attend_forward", &attend_forward, "AttentiveChrome bin attention, forward");
  m.def("attend_backward", &attend_backward, "AttentiveChrome bin attention, backward");
}
