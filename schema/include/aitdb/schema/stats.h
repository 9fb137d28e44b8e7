#pragma once
// Per-tensor statistics computed in one pass at ingest.
#include <cstddef>
#include <cstdint>
#include <limits>
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

// compute_stats over a tensor delivered in pieces (e.g. a blob streamed chunk by chunk). Pieces
// whose element counts are multiples of kStatsPieceElems give exactly compute_stats' result.
inline constexpr std::size_t kStatsPieceElems = 4096;
class StatsAccumulator {
 public:
  explicit StatsAccumulator(DType t);
  void add(const std::byte* data, std::size_t numel);
  [[nodiscard]] TensorStats result() const;

 private:
  DType dtype_;
  TensorStats stats_;  // counts so far
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
  bool any_non_nan_ = false;
  double n_ = 0, mean_ = 0, m2_ = 0, sumsq_ = 0;  // running moments of the finite values
};

}  // namespace aitdb
