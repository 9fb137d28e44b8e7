#pragma once
// The comparison metrics of msit llm compare (docs/compare.md) and msprobe, with
// msit's exact semantics: float32 flattening, element-count check, NaN/inf pre-checks with the
// same fail-reason strings, eps32 masking, cosine in float64 rounded to 10 decimals, softmax
// KL(golden || my), relative Euclidean distance with the square root.
#include <optional>
#include <span>
#include <string>

#include "aitdb/schema/dtype.h"

namespace aitdb::compare {

inline constexpr float kEps32 = 1.1920928955078125e-07F;  // 2^-23, torch.finfo(float32).eps

struct MsitMetrics {
  double cosine_similarity = 0;
  double max_relative_error = 0;
  double mean_relative_error = 0;
  double max_absolute_error = 0;
  double mean_absolute_error = 0;
  double kl_divergence = 0;
  double relative_euclidean_distance = 0;
};

struct MsprobeMetrics {
  std::optional<double> cosine;  // nullopt = "Nan" (one side all zeros)
  double euc_dist = 0;
  double max_abs_err = 0;
  double max_relative_err = 0;
  double one_thousandth_err_ratio = 0;
  double five_thousandths_err_ratio = 0;
  std::string accuracy_reached;  // "Yes" | "No"
};

struct PairResult {
  std::optional<MsitMetrics> msit;        // nullopt when the pre-check failed
  std::optional<MsprobeMetrics> msprobe;  // when requested and the pre-check passed
  std::string fail_reason;                // "" on success; msit's messages joined by ' '
};

struct MetricSelection {
  bool msit = true;
  bool msprobe = false;
};

// golden and my are the flattened float32 values of the two tensors.
PairResult compare_values(std::span<const float> golden, std::span<const float> my, const MetricSelection& sel = {});

// Values of one tensor, delivered in order, one block at a time, as float32 (msit's `.float()`).
// load() is called with consecutive ranges from offset 0 (once per pass over the tensor).
class ValueSource {
 public:
  virtual ~ValueSource() = default;
  [[nodiscard]] virtual std::size_t size() const = 0;
  virtual void load(std::size_t offset, std::size_t count, float* dst) = 0;
};

// The metrics over two sources, reading each once front to back (twice for msprobe).
PairResult compare_sources(ValueSource& golden, ValueSource& my, const MetricSelection& sel = {});

}  // namespace aitdb::compare
