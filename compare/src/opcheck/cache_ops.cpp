// In-place cache writes. The golden is the cache input as it must look after the op: a copy of
// the dumped input cache with the new rows written in.
#include <algorithm>

#include "kernel_support.h"

namespace aitdb::compare::opcheck {

// ReshapeAndCacheOperation: key [tokens, kv_heads, d], value [tokens, kv_heads, dv], key_cache
// [blocks, block_size, kv_heads, d], value_cache alike, slot_mapping [tokens]. Token i with slot
// s >= 0 goes to block s / block_size, row s % block_size; negative slots are skipped.
std::vector<HostTensor> reshape_and_cache_golden(const OpcheckCall& call) {
  if (param_int(call, call.param, "compressType", 0) != 0) fail(call, "ReshapeAndCache compressType " + std::to_string(param_int(call, call.param, "compressType", 0)) + " is not supported");
  require_inputs(call, 5);
  const HostTensor& key = call.inputs[0];
  const HostTensor& value = call.inputs[1];
  const HostTensor& slots = call.inputs[4];
  std::vector<HostTensor> out{call.inputs[2], call.inputs[3]};
  const auto tokens = static_cast<std::int64_t>(slots.numel());
  for (std::size_t c = 0; c < 2; ++c) {
    const HostTensor& src = c == 0 ? key : value;
    HostTensor& cache = out[c];
    if (cache.shape.size() != 4) fail(call, "cache " + shape_text(cache.shape) + " is not [blocks, block_size, kv_heads, d]");
    const std::int64_t row = cache.shape[2] * cache.shape[3];
    if (static_cast<std::int64_t>(src.numel()) != tokens * row) fail(call, "input " + shape_text(src.shape) + " does not hold " + std::to_string(tokens) + " rows of the cache's " + std::to_string(row) + " values");
    const std::int64_t capacity = cache.shape[0] * cache.shape[1];
    for (std::int64_t i = 0; i < tokens; ++i) {
      const std::int64_t slot = int_at(slots, i);
      if (slot < 0) continue;
      if (slot >= capacity) fail(call, "slot " + std::to_string(slot) + " is beyond the cache's " + std::to_string(capacity) + " rows");
      // The cache keeps its own dtype: values are converted as the NPU's copy does.
      std::transform(src.values.begin() + i * row, src.values.begin() + (i + 1) * row, cache.values.begin() + slot * row,
                     [dtype = cache.dtype](float v) { return round_to_dtype(dtype, v); });
    }
  }
  return out;
}

// KvCacheOperation: newkv [tokens, hidden], layer_id [1], cache [layers, batch, max_seq, hidden],
// token_offset [batch], seqlen [batch]. Batch b's seqlen[b] rows (taken in order from newkv) land
// at cache[layer][b][token_offset[b] - seqlen[b] + j].
std::vector<HostTensor> kv_cache_golden(const OpcheckCall& call) {
  require_inputs(call, 5);
  const HostTensor& new_kv = call.inputs[0];
  const HostTensor& offsets = call.inputs[3];
  const HostTensor& seqlen = call.inputs[4];
  HostTensor cache = call.inputs[2];
  if (cache.shape.size() != 4) fail(call, "cache " + shape_text(cache.shape) + " is not [layers, batch, max_seq, hidden]");
  if (call.inputs[1].numel() == 0) fail(call, "layer_id is empty");
  const std::int64_t layer = int_at(call.inputs[1], 0);
  const auto batches = static_cast<std::int64_t>(seqlen.numel());
  const std::int64_t hidden = cache.shape[3];
  const std::int64_t max_seq = cache.shape[2];
  if (layer < 0 || layer >= cache.shape[0] || batches > cache.shape[1] || offsets.numel() != seqlen.numel()) fail(call, "layer_id, token_offset or seqlen do not fit cache " + shape_text(cache.shape));
  if (new_kv.shape.empty() || new_kv.shape.back() != hidden) fail(call, "newkv " + shape_text(new_kv.shape) + " and cache " + shape_text(cache.shape) + " differ in hidden size");
  const auto new_rows = static_cast<std::int64_t>(new_kv.numel()) / hidden;
  std::int64_t prefix = 0;
  for (std::int64_t b = 0; b < batches; ++b) {
    const std::int64_t len = int_at(seqlen, b);
    const std::int64_t start = int_at(offsets, b) - len;
    if (len < 0 || start < 0 || start + len > max_seq || prefix + len > new_rows) fail(call, "batch " + std::to_string(b) + " rows do not fit the cache or newkv");
    const std::int64_t dst = ((layer * cache.shape[1] + b) * max_seq + start) * hidden;
    std::transform(new_kv.values.begin() + prefix * hidden, new_kv.values.begin() + (prefix + len) * hidden,
                   cache.values.begin() + dst, [dtype = cache.dtype](float v) { return round_to_dtype(dtype, v); });
    prefix += len;
  }
  return one(std::move(cache));
}

}  // namespace aitdb::compare::opcheck
