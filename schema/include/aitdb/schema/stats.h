#pragma once
// Per-tensor statistics computed in one pass at ingest.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "aitdb/schema/dtype.h"

namespace aitdb {

// min/max are taken over every non-NaN scalar (so +-inf shows up there); mean, std (population,
// ddof = 0) and l2norm over the finite scalars only, because NaN/inf are counted separately and
// would otherwise hide the magnitude of the rest. Complex tensors contribute re and im as two
// scalars. Fields are nullopt when no scalar qualifies (empty or all-NaN tensors).
struct TensorStats {
  std::optional<double> min;
  std::optional<double> max;
  std::optional<double> mean;
  std::optional<double> std;
  std::optional<double> l2norm;
  std::uint64_t nan_count = 0;
  std::uint64_t inf_count = 0;
  std::uint64_t zero_count = 0;
};

TensorStats compute_stats(DType t, const std::byte* data, std::size_t numel);

}  // namespace aitdb
