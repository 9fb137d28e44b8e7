// Maps ATB operation type names to their golden kernels.
#include <algorithm>
#include <array>
#include <utility>

#include "kernel_support.h"

namespace aitdb::compare {
namespace {


struct Entry {
  std::string_view op_type;
  OpcheckKernel kernel;
};

// Sorted by op_type for the binary search below.
constexpr std::array kKernels{
    Entry{"ActivationOperation", &opcheck::activation_golden},
    Entry{"AsStridedOperation", &opcheck::as_strided_golden},
    Entry{"ConcatOperation", &opcheck::concat_golden},
    Entry{"CumsumOperation", &opcheck::cumsum_golden},
    Entry{"ElewiseOperation", &opcheck::elewise_golden},
    Entry{"FillOperation", &opcheck::fill_golden},
    Entry{"GatherOperation", &opcheck::gather_golden},
    Entry{"KvCacheOperation", &opcheck::kv_cache_golden},
    Entry{"LayerNormOperation", &opcheck::layer_norm_golden},
    Entry{"LinearOperation", &opcheck::linear_golden},
    Entry{"MatmulOperation", &opcheck::matmul_golden},
    Entry{"PagedAttentionOperation", &opcheck::paged_attention_golden},
    Entry{"ReduceOperation", &opcheck::reduce_golden},
    Entry{"RepeatOperation", &opcheck::repeat_golden},
    Entry{"ReshapeAndCacheOperation", &opcheck::reshape_and_cache_golden},
    Entry{"RmsNormOperation", &opcheck::rms_norm_golden},
    Entry{"RopeOperation", &opcheck::rope_golden},
    Entry{"SelfAttentionOperation", &opcheck::self_attention_golden},
    Entry{"SliceOperation", &opcheck::slice_golden},
    Entry{"SoftmaxOperation", &opcheck::softmax_golden},
    Entry{"SortOperation", &opcheck::sort_golden},
    Entry{"SplitOperation", &opcheck::split_golden},
    Entry{"TransposeOperation", &opcheck::transpose_golden},
    Entry{"WhereOperation", &opcheck::where_golden},
};

constexpr std::array kKvCacheInplace{2};
constexpr std::array kReshapeAndCacheInplace{2, 3};

}  // namespace

OpcheckKernel find_opcheck_kernel(std::string_view op_type) {
  const auto* it = std::lower_bound(kKernels.begin(), kKernels.end(), op_type,
                                    [](const Entry& e, std::string_view name) { return e.op_type < name; });
  return it != kKernels.end() && it->op_type == op_type ? it->kernel : nullptr;
}

std::vector<std::string_view> opcheck_supported_ops() {
  std::vector<std::string_view> names;
  names.reserve(kKernels.size());
  for (const Entry& e : kKernels) names.push_back(e.op_type);
  return names;
}

std::span<const int> opcheck_inplace_inputs(std::string_view op_type) {
  if (op_type == "KvCacheOperation") return kKvCacheInplace;
  if (op_type == "ReshapeAndCacheOperation") return kReshapeAndCacheInplace;
  return {};
}

}  // namespace aitdb::compare
