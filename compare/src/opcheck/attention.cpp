// SelfAttentionOperation (three input layouts) and PagedAttentionOperation. Per batch and head:
// scores = q k^T in float32 (Eigen GEMM), scaled, optionally clamped, masked, softmax
// (max-subtracted, float32), times v; the output is rounded once to q's dtype. Grouped-query
// attention maps query head h to kv head h / (headNum / kvHeadNum).
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <optional>

#include "kernel_support.h"

namespace aitdb::compare::opcheck {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using StridedMap = Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>>;
using StridedOutMap = Eigen::Map<RowMatrix, 0, Eigen::OuterStride<>>;

bool is_alibi(std::int64_t mask_type) { return mask_type == 2 || mask_type == 4 || mask_type == 5 || mask_type == 6; }

// Reads a mask for (batch, head, query row, key column) whatever its rank: [R, C], [B|H|1, R, C]
// or [B, H, R, C]. Query rows are aligned to the end of the key range (a decode step's single
// query reads the row of its own position) when the mask has that many rows.
class MaskView {
 public:
  MaskView(const OpcheckCall& call, const HostTensor& mask, std::int64_t batches, std::int64_t heads, bool alibi)
      : mask_(mask) {
    const Shape& s = mask.shape;
    if (s.size() < 2 || s.size() > 4) fail(call, "mask must be 2-D to 4-D, got " + shape_text(s));
    rows_ = s[s.size() - 2];
    cols_ = s.back();
    if (s.size() == 4) {
      if ((s[0] != batches && s[0] != 1) || (s[1] != heads && s[1] != 1)) fail(call, "mask " + shape_text(s) + " does not match batch/heads");
      batch_stride_ = s[0] == 1 ? 0 : s[1] * rows_ * cols_;
      head_stride_ = s[1] == 1 ? 0 : rows_ * cols_;
    } else if (s.size() == 3) {
      const bool by_head = s[0] == heads && (alibi || s[0] != batches);
      if (!by_head && s[0] != batches && s[0] != 1) fail(call, "mask " + shape_text(s) + " matches neither batch nor heads");
      (by_head ? head_stride_ : batch_stride_) = s[0] == 1 ? 0 : rows_ * cols_;
    }
  }

  [[nodiscard]] std::int64_t rows() const { return rows_; }
  [[nodiscard]] std::int64_t cols() const { return cols_; }
  // The first mask row of a batch with q_len queries over kv_len keys.
  [[nodiscard]] std::int64_t first_row(std::int64_t q_len, std::int64_t kv_len) const {
    return rows_ >= kv_len ? kv_len - q_len : 0;
  }
  [[nodiscard]] const float* row(std::int64_t batch, std::int64_t head, std::int64_t r) const {
    return mask_.values.data() + batch * batch_stride_ + head * head_stride_ + r * cols_;
  }

 private:
  const HostTensor& mask_;
  std::int64_t rows_ = 0;
  std::int64_t cols_ = 0;
  std::int64_t batch_stride_ = 0;
  std::int64_t head_stride_ = 0;
};

struct AttentionSpec {
  std::int64_t heads = 1;
  std::int64_t kv_heads = 1;
  std::int64_t head_dim = 0;
  std::int64_t v_head_dim = 0;
  float q_scale = 1;             // applied to q k^T before clamp and mask
  float qk_scale = 1;            // before the mask, or after it when scale_after_mask
  bool scale_after_mask = false;  // the flash-attention (default) layout: softmax((s + mask) * qkScale)
  std::optional<std::pair<float, float>> clamp;
  const MaskView* mask = nullptr;
  float mask_coeff = 1;  // mask values are multiplied by this (0/1 masks with -3e38)
  bool triu_mask = false;  // a compressed causal mask too small for the batch: triu(ones, 1) * -10000
};

// One batch: q [q_len, heads * head_dim], k [kv_len, kv_heads * head_dim], v [kv_len, kv_heads *
// v_head_dim] (row strides given), out [q_len, heads * v_head_dim].
void attend(const AttentionSpec& spec, std::int64_t batch, const float* q, std::int64_t q_stride, std::int64_t q_len,
            const float* k, std::int64_t k_stride, const float* v, std::int64_t v_stride, std::int64_t kv_len,
            float* out, std::int64_t out_stride) {
  if (q_len == 0) return;
  const std::int64_t group = spec.heads / spec.kv_heads;
  const std::int64_t mask_row0 = spec.mask != nullptr ? spec.mask->first_row(q_len, kv_len) : 0;
  RowMatrix scores(q_len, kv_len);
  for (std::int64_t h = 0; h < spec.heads; ++h) {
    const std::int64_t g = h / group;
    const StridedMap qh(q + h * spec.head_dim, q_len, spec.head_dim, Eigen::OuterStride<>(q_stride));
    const StridedMap kh(k + g * spec.head_dim, kv_len, spec.head_dim, Eigen::OuterStride<>(k_stride));
    const StridedMap vh(v + g * spec.v_head_dim, kv_len, spec.v_head_dim, Eigen::OuterStride<>(v_stride));
    scores.noalias() = qh * kh.transpose();
    for (std::int64_t i = 0; i < q_len; ++i) {
      float* s = scores.data() + i * kv_len;
      const float* m = spec.mask != nullptr ? spec.mask->row(batch, h, mask_row0 + i) : nullptr;
      const std::int64_t causal_limit = kv_len - q_len + i;  // last visible key for triu masks
      float mx = -INFINITY;
      for (std::int64_t j = 0; j < kv_len; ++j) {
        float x = s[j] * spec.q_scale;
        if (!spec.scale_after_mask) x *= spec.qk_scale;
        if (spec.clamp) x = std::clamp(x, spec.clamp->first, spec.clamp->second);
        if (spec.triu_mask) x += j > causal_limit ? -10000.0F : 0.0F;
        else if (m != nullptr) x += m[j] * spec.mask_coeff;
        if (spec.scale_after_mask) x *= spec.qk_scale;
        s[j] = x;
        mx = std::max(mx, x);
      }
      double sum = 0;
      for (std::int64_t j = 0; j < kv_len; ++j) {
        s[j] = std::exp(s[j] - mx);
        sum += s[j];
      }
      const auto total = static_cast<float>(sum);
      for (std::int64_t j = 0; j < kv_len; ++j) s[j] /= total;
    }
    StridedOutMap oh(out + h * spec.v_head_dim, q_len, spec.v_head_dim, Eigen::OuterStride<>(out_stride));
    oh.noalias() = scores * vh;
  }
}

// Row width of a token-major tensor ([tokens, hidden] or [tokens, heads, d]).
std::int64_t row_width(const HostTensor& t) {
  return t.shape.empty() ? 0 : (t.shape.size() >= 3 ? numel_of(Shape(t.shape.begin() + 1, t.shape.end())) : t.shape.back());
}

// Head layout from the row widths (values per token) of q, k and v.
AttentionSpec head_spec(const OpcheckCall& call, std::int64_t q_width, std::int64_t k_width, std::int64_t v_width) {
  AttentionSpec spec;
  spec.heads = param_int(call, call.param, "headNum", 1);
  const std::int64_t kv_heads = param_int(call, call.param, "kvHeadNum", 0);
  spec.kv_heads = kv_heads > 0 ? kv_heads : spec.heads;
  if (spec.heads <= 0 || spec.heads % spec.kv_heads != 0) fail(call, "headNum " + std::to_string(spec.heads) + " is not a multiple of kvHeadNum " + std::to_string(spec.kv_heads));
  if (q_width % spec.heads != 0) fail(call, "q rows of " + std::to_string(q_width) + " values do not split into " + std::to_string(spec.heads) + " heads");
  spec.head_dim = q_width / spec.heads;
  if (k_width != spec.kv_heads * spec.head_dim) fail(call, "k rows of " + std::to_string(k_width) + " values do not hold " + std::to_string(spec.kv_heads) + " heads of " + std::to_string(spec.head_dim));
  if (v_width % spec.kv_heads != 0) fail(call, "v rows of " + std::to_string(v_width) + " values do not split into " + std::to_string(spec.kv_heads) + " kv heads");
  spec.v_head_dim = v_width / spec.kv_heads;
  if (param_int(call, call.param, "clampType", 0) == 1) {
    spec.clamp = std::pair{static_cast<float>(param_double(call, call.param, "clampMin", 0)),
                           static_cast<float>(param_double(call, call.param, "clampMax", 0))};
  }
  return spec;
}

HostTensor attention_output(const HostTensor& q, const AttentionSpec& spec) {
  Shape shape = q.shape;
  if (shape.size() >= 3) shape.back() = spec.v_head_dim;
  else shape.back() = spec.heads * spec.v_head_dim;
  return make_tensor(q.dtype, shape);
}

std::vector<std::int64_t> lengths(const OpcheckCall& call, const HostTensor& t, const char* name) {
  std::vector<std::int64_t> out(t.numel());
  for (std::size_t i = 0; i < t.numel(); ++i) {
    out[i] = int_at(t, static_cast<std::int64_t>(i));
    if (out[i] < 0) fail(call, std::string(name) + " has a negative length");
  }
  return out;
}

// A cache [layers, batch, max_seq, ...]: the start of (layer, batch) and the rows per batch.
struct CacheView {
  const float* data;
  std::int64_t max_seq;
  std::int64_t width;
  std::int64_t batch_stride;

  [[nodiscard]] const float* rows(std::int64_t batch) const { return data + batch * batch_stride; }
};

CacheView cache_view(const OpcheckCall& call, const HostTensor& cache, std::int64_t layer, std::int64_t batches,
                     const char* name) {
  if (cache.shape.size() < 4) fail(call, std::string(name) + " must be [layers, batch, max_seq, hidden], got " + shape_text(cache.shape));
  if (layer < 0 || layer >= cache.shape[0] || cache.shape[1] < batches) fail(call, std::string(name) + " " + shape_text(cache.shape) + " has no layer " + std::to_string(layer) + " for " + std::to_string(batches) + " batches");
  const std::int64_t width = numel_of(Shape(cache.shape.begin() + 3, cache.shape.end()));
  const std::int64_t batch_stride = cache.shape[2] * width;
  return {cache.values.data() + layer * cache.shape[1] * batch_stride, cache.shape[2], width, batch_stride};
}

std::int64_t layer_id(const OpcheckCall& call, const HostTensor& t) {
  if (t.numel() == 0) fail(call, "layer_id is empty");
  return int_at(t, 0);
}

// Points spec at a view of input `index` when maskType says the op has a mask.
void attach_mask(const OpcheckCall& call, AttentionSpec& spec, std::optional<MaskView>& mask, std::int64_t mask_type,
                 std::size_t index, std::int64_t batches) {
  if (mask_type == 0) return;
  mask.emplace(call, call.inputs[index], batches, spec.heads, is_alibi(mask_type));
  spec.mask = &*mask;
}

std::vector<HostTensor> self_attention_bypass(const OpcheckCall& call, std::int64_t mask_type) {
  const bool has_mask = mask_type != 0;
  require_inputs(call, has_mask ? 7 : 6);
  const HostTensor& q = call.inputs[0];
  const std::size_t base = has_mask ? 4 : 3;
  const auto kv_lens = lengths(call, call.inputs[base], "kv_seqlen");
  const auto q_lens = lengths(call, call.inputs[base + 1], "q_seqlen");
  if (kv_lens.size() != q_lens.size()) fail(call, "kv_seqlen and q_seqlen differ in batch size");
  const auto batches = static_cast<std::int64_t>(q_lens.size());
  const std::int64_t layer = layer_id(call, call.inputs[base + 2]);
  const CacheView kc = cache_view(call, call.inputs[1], layer, batches, "k cache");
  const CacheView vc = cache_view(call, call.inputs[2], layer, batches, "v cache");
  AttentionSpec spec = head_spec(call, row_width(q), kc.width, vc.width);
  spec.qk_scale = static_cast<float>(param_double(call, call.param, "qkScale", 1));
  std::optional<MaskView> mask;
  attach_mask(call, spec, mask, mask_type, 3, batches);
  if (has_mask) {
    // 0/1 masks mark hidden positions with 1 unless fp16, the high-precision kernel or alibi.
    const bool additive = q.dtype == DType::Float16 || param_int(call, call.param, "kernelType", 0) == 1 || is_alibi(mask_type);
    spec.mask_coeff = additive ? 1.0F : -3e38F;
  }
  HostTensor out = attention_output(q, spec);
  const std::int64_t q_width = row_width(q);
  const std::int64_t out_width = spec.heads * spec.v_head_dim;
  std::int64_t row = 0;
  for (std::int64_t b = 0; b < batches; ++b) {
    if (kv_lens[b] > kc.max_seq || row + q_lens[b] > numel_of(q.shape) / q_width) fail(call, "batch " + std::to_string(b) + " lengths exceed the cache or q");
    attend(spec, b, q.values.data() + row * q_width, q_width, q_lens[b], kc.rows(b), kc.width, vc.rows(b), vc.width,
           kv_lens[b], out.values.data() + row * out_width, out_width);
    row += q_lens[b];
  }
  round_values(out);
  return one(std::move(out));
}

std::vector<HostTensor> self_attention_encoder(const OpcheckCall& call, std::int64_t mask_type) {
  const bool has_mask = mask_type != 0;
  require_inputs(call, has_mask ? 5 : 4);
  const HostTensor& q = call.inputs[0];
  const HostTensor& k = call.inputs[1];
  const HostTensor& v = call.inputs[2];
  const auto seq = lengths(call, call.inputs[has_mask ? 4 : 3], "seqlen");
  const auto batches = static_cast<std::int64_t>(seq.size());
  AttentionSpec spec = head_spec(call, row_width(q), row_width(k), row_width(v));
  spec.qk_scale = static_cast<float>(param_double(call, call.param, "qkScale", 1));
  std::optional<MaskView> mask;
  attach_mask(call, spec, mask, mask_type, 3, batches);
  HostTensor out = attention_output(q, spec);
  const std::int64_t qw = row_width(q);
  const std::int64_t kw = row_width(k);
  const std::int64_t vw = row_width(v);
  const std::int64_t ow = spec.heads * spec.v_head_dim;
  std::int64_t row = 0;
  for (std::int64_t b = 0; b < batches; ++b) {
    if ((row + seq[b]) * qw > numel_of(q.shape) || (row + seq[b]) * kw > numel_of(k.shape)) fail(call, "seqlen exceeds the packed tokens");
    // A compressed causal mask smaller than the sequence stands for triu(ones, 1) * -10000.
    spec.triu_mask = has_mask && !is_alibi(mask_type) && seq[b] > mask->cols();
    attend(spec, b, q.values.data() + row * qw, qw, seq[b], k.values.data() + row * kw, kw, v.values.data() + row * vw, vw,
           seq[b], out.values.data() + row * ow, ow);
    row += seq[b];
  }
  round_values(out);
  return one(std::move(out));
}

// Flash attention with a KV cache: the cached rows before this step plus the new k/v rows.
std::vector<HostTensor> self_attention_kv_cache(const OpcheckCall& call, std::int64_t mask_type) {
  const bool has_mask = mask_type != 0;
  require_inputs(call, has_mask ? 9 : 8);
  const HostTensor& q = call.inputs[0];
  const HostTensor& k = call.inputs[1];
  const HostTensor& v = call.inputs[2];
  const std::size_t base = has_mask ? 6 : 5;
  const auto offsets = lengths(call, call.inputs[base], "token_offset");
  const auto seq = lengths(call, call.inputs[base + 1], "seqlen");
  if (offsets.size() != seq.size()) fail(call, "token_offset and seqlen differ in batch size");
  const auto batches = static_cast<std::int64_t>(seq.size());
  AttentionSpec spec = head_spec(call, row_width(q), row_width(k), row_width(v));
  spec.q_scale = static_cast<float>(param_double(call, call.param, "qScale", 1));
  spec.qk_scale = static_cast<float>(param_double(call, call.param, "qkScale", 1));
  spec.scale_after_mask = true;
  const std::int64_t layer = layer_id(call, call.inputs[base + 2]);
  const CacheView kc = cache_view(call, call.inputs[3], layer, batches, "k cache");
  const CacheView vc = cache_view(call, call.inputs[4], layer, batches, "v cache");
  std::optional<MaskView> mask;
  attach_mask(call, spec, mask, mask_type, 5, batches);
  HostTensor out = attention_output(q, spec);
  const std::int64_t qw = row_width(q);
  const std::int64_t kw = row_width(k);
  const std::int64_t vw = row_width(v);
  if (kw != kc.width || vw != vc.width) fail(call, "k/v rows and cache rows differ in width");
  const std::int64_t ow = spec.heads * spec.v_head_dim;
  std::vector<float> keys;
  std::vector<float> values;
  std::int64_t row = 0;
  for (std::int64_t b = 0; b < batches; ++b) {
    const std::int64_t cached = offsets[b] - seq[b];
    if (cached < 0 || offsets[b] > kc.max_seq) fail(call, "batch " + std::to_string(b) + " token_offset " + std::to_string(offsets[b]) + " does not fit seqlen and cache");
    if ((row + seq[b]) * kw > numel_of(k.shape) || (row + seq[b]) * qw > numel_of(q.shape)) fail(call, "seqlen exceeds the packed tokens");
    keys.assign(kc.rows(b), kc.rows(b) + cached * kw);
    keys.insert(keys.end(), k.values.begin() + row * kw, k.values.begin() + (row + seq[b]) * kw);
    values.assign(vc.rows(b), vc.rows(b) + cached * vw);
    values.insert(values.end(), v.values.begin() + row * vw, v.values.begin() + (row + seq[b]) * vw);
    attend(spec, b, q.values.data() + row * qw, qw, seq[b], keys.data(), kw, values.data(), vw, offsets[b],
           out.values.data() + row * ow, ow);
    row += seq[b];
  }
  round_values(out);
  return one(std::move(out));
}

}  // namespace

std::vector<HostTensor> self_attention_golden(const OpcheckCall& call) {
  if (param_bool(call, call.param, "batchRunStatusEnable", false)) fail(call, "batchRunStatusEnable is not supported");
  const std::int64_t mask_type = param_int(call, call.param, "maskType", 0);
  if (param_int(call, call.param, "kvcacheCfg", 0) == 1) return self_attention_bypass(call, mask_type);
  if (param_int(call, call.param, "calcType", 0) == 3) return self_attention_encoder(call, mask_type);
  return self_attention_kv_cache(call, mask_type);
}

std::vector<HostTensor> paged_attention_golden(const OpcheckCall& call) {
  const std::int64_t mask_type = param_int(call, call.param, "maskType", 0);
  for (const char* key : {"quantType", "compressType", "calcType"}) {
    if (param_int(call, call.param, key, 0) != 0) fail(call, std::string("PagedAttention ") + key + " " + std::to_string(param_int(call, call.param, key, 0)) + " is not supported");
  }
  if (param_bool(call, call.param, "batchRunStatusEnable", false)) fail(call, "batchRunStatusEnable is not supported");
  const bool has_mask = mask_type != 0;
  require_inputs(call, has_mask ? 6 : 5);
  const HostTensor& q = call.inputs[0];
  const HostTensor& key_cache = call.inputs[1];
  const HostTensor& value_cache = call.inputs[2];
  const HostTensor& block_tables = call.inputs[3];
  const auto context = lengths(call, call.inputs[4], "context_lens");
  const auto batches = static_cast<std::int64_t>(context.size());
  if (key_cache.shape.size() != 4 || value_cache.shape.size() != 4) fail(call, "caches must be [blocks, block_size, kv_heads, d]");
  if (block_tables.shape.size() != 2 || block_tables.shape[0] != batches) fail(call, "block_tables " + shape_text(block_tables.shape) + " does not have one row per context length");
  const std::int64_t qw = row_width(q);
  if (numel_of(q.shape) != batches * qw) fail(call, "q " + shape_text(q.shape) + " does not have one token per sequence");
  AttentionSpec spec = head_spec(call, qw, key_cache.shape[2] * key_cache.shape[3], value_cache.shape[2] * value_cache.shape[3]);
  spec.qk_scale = static_cast<float>(param_double(call, call.param, "qkScale", 1));
  std::optional<MaskView> mask;
  attach_mask(call, spec, mask, mask_type, 5, batches);
  const std::int64_t blocks = key_cache.shape[0];
  const std::int64_t block_size = key_cache.shape[1];
  const std::int64_t kw = key_cache.shape[2] * key_cache.shape[3];
  const std::int64_t vw = value_cache.shape[2] * value_cache.shape[3];
  const std::int64_t table_width = block_tables.shape[1];
  HostTensor out = attention_output(q, spec);
  const std::int64_t ow = spec.heads * spec.v_head_dim;
  std::vector<float> keys;
  std::vector<float> values;
  for (std::int64_t b = 0; b < batches; ++b) {
    if (context[b] > table_width * block_size) fail(call, "context length " + std::to_string(context[b]) + " exceeds the block table");
    keys.resize(static_cast<std::size_t>(context[b] * kw));
    values.resize(static_cast<std::size_t>(context[b] * vw));
    for (std::int64_t j = 0; j < context[b]; ++j) {
      const std::int64_t block = int_at(block_tables, b * table_width + j / block_size);
      if (block < 0 || block >= blocks) fail(call, "block table entry " + std::to_string(block) + " is out of range");
      const std::int64_t slot = block * block_size + j % block_size;
      std::copy_n(key_cache.values.data() + slot * kw, kw, keys.data() + j * kw);
      std::copy_n(value_cache.values.data() + slot * vw, vw, values.data() + j * vw);
    }
    attend(spec, b, q.values.data() + b * qw, qw, 1, keys.data(), kw, values.data(), vw, context[b],
           out.values.data() + b * ow, ow);
  }
  round_values(out);
  return one(std::move(out));
}

}  // namespace aitdb::compare::opcheck
