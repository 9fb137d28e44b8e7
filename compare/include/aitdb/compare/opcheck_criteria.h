#pragma once
// The verdict of opcheck: one dumped output tensor against its golden (docs/opcheck.md,
// "Pass criteria"). The standard is chosen by the dumped tensor's dtype; an output passes when
// its relative pass rate is strictly greater than the required rate.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aitdb/compare/opcheck_kernels.h"

namespace aitdb::compare {

enum class PrecisionMode { Keep, ForceFp16, ForceFp32 };

// "keep" (also "keep_origin_dtype"), "force_fp16", "force_fp32"; nullopt otherwise.
std::optional<PrecisionMode> precision_mode_from_name(std::string_view name);

// Casts a floating tensor (fp32/fp16/bf16) to fp16 or fp32 as the mode says; other tensors and
// PrecisionMode::Keep leave it as it is. Applied to the inputs before the kernel runs and to the
// dumped outputs before they are checked.
void apply_precision_mode(PrecisionMode mode, HostTensor& tensor);

struct PrecisionStandard {
  double error_tolerance = 0;  // etol: an element passes when its error <= etol
  double required_rate = 0;    // percent; the output passes when its rate is > this
  std::string text;            // "99.9%(error<0.0009765625)", the report's precision_standard
};

// nullopt for dtypes opcheck has no standard for (complex, fp8).
std::optional<PrecisionStandard> precision_standard(DType dumped_dtype);

struct OpcheckMetricSelection {
  bool abs = false;
  bool cos_sim = false;
  bool kl = false;
};

struct OutputCheck {
  bool passed = false;
  PrecisionStandard standard;
  double rel_pass_rate = 0;   // percent
  double max_rel_error = 0;
  std::optional<double> abs_pass_rate;  // requested metrics only
  std::optional<double> max_abs_error;
  std::optional<double> cosine_similarity;
  std::optional<double> kl_divergence;
  std::string fail_reason;  // "" when passed
};

// One dumped output against its golden. Throws FormatError(what, ...) when the dumped dtype has
// no standard or the element counts differ (the case is then FAILED with that reason).
OutputCheck check_output(const std::string& what, const HostTensor& dumped, const HostTensor& golden,
                         const OpcheckMetricSelection& metrics = {});

struct CaseCheck {
  bool passed = false;              // every output passed and the counts match
  std::vector<OutputCheck> outputs; // one per compared pair (the common prefix)
  std::string fail_reason;          // the outputs' reasons joined with ", "
};

// Every dumped output against the golden of the same index; a count mismatch fails the case and
// the common prefix is still checked.
CaseCheck check_outputs(const std::string& what, std::span<const HostTensor> dumped,
                        std::span<const HostTensor> golden, const OpcheckMetricSelection& metrics = {});

// Python's repr() of a float ("80.0", "99.90000128746033", "9.5367431640625e-07"), as msit
// prints rates and tolerances in its messages.
std::string python_float_repr(double value);

}  // namespace aitdb::compare
