#include "aitdb/compare/opcheck_criteria.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "aitdb/compare/metrics.h"
#include "aitdb/schema/errors.h"

namespace aitdb::compare {
namespace {

// Rates print as Python ints when whole (the standards 100 and 99 are ints in msit's table).
std::string number_text(double v) {
  if (v == std::trunc(v) && std::abs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  return python_float_repr(v);
}

PrecisionStandard make_standard(double etol, double rate) {
  return {etol, rate, number_text(rate) + "%(error<" + number_text(etol) + ")"};
}

bool is_float_type(DType t) { return t == DType::Float32 || t == DType::Float16 || t == DType::BFloat16; }

// The dtype `out / golden - 1` is evaluated in: torch's promotion, with true division turning
// integer and bool operands into float32.
DType division_dtype(DType a, DType b) {
  if (a == DType::Float64 || b == DType::Float64) return DType::Float64;
  if (a == b && is_float_type(a)) return a;
  const bool fa = is_float_type(a);
  const bool fb = is_float_type(b);
  if (fa && !fb) return a;
  if (fb && !fa) return b;
  return DType::Float32;  // fp16 with bf16, fp32 with either, or integers
}

// count / n as torch computes `sum(bool) / size`: a float32 quotient, then * 100 in double. The
// float32 rounding decides verdicts at the boundary (999 of 1000 gives 99.90000128746033 > 99.9).
double pass_rate(std::size_t count, std::size_t n) {
  if (n == 0) return 0;
  const float q = static_cast<float>(count) / static_cast<float>(n);
  return static_cast<double>(q) * 100.0;
}

struct RateAndMax {
  double rate = 0;
  double max = 0;
};

RateAndMax relative_errors(const HostTensor& dumped, const HostTensor& golden, double etol) {
  const DType dtype = division_dtype(dumped.dtype, golden.dtype);
  const std::size_t n = dumped.numel();
  std::size_t within = 0;
  double max_rel = n == 0 ? 0.0 : -INFINITY;
  bool any_nan = false;
  const auto etol_in_dtype = static_cast<float>(etol);
  for (std::size_t i = 0; i < n; ++i) {
    const float g = golden.values[i];
    const float o = dumped.values[i];
    double rel = 0;
    bool ok = true;
    if (std::abs(g) > compare::kEps32) {
      if (dtype == DType::Float64) {
        rel = std::abs(static_cast<double>(o) / g - 1.0);
        ok = rel <= etol;
      } else {
        // Each torch op rounds to the tensor dtype: the quotient, then the difference.
        const float ratio = round_to_dtype(dtype, o / g);
        const float r = std::abs(round_to_dtype(dtype, ratio - 1.0F));
        rel = r;
        ok = r <= etol_in_dtype;
      }
    }
    within += ok ? 1 : 0;
    any_nan = any_nan || std::isnan(rel);
    max_rel = std::max(max_rel, rel);
  }
  return {pass_rate(within, n), any_nan ? NAN : max_rel};
}

// msit evaluates the optional metrics on float64 copies.
RateAndMax absolute_errors(const HostTensor& dumped, const HostTensor& golden, double etol) {
  const std::size_t n = dumped.numel();
  std::size_t within = 0;
  double max_abs = 0;
  bool any_nan = false;
  for (std::size_t i = 0; i < n; ++i) {
    const double g = golden.values[i];
    const double a = std::abs(g) > compare::kEps32 ? std::abs(static_cast<double>(dumped.values[i]) - g) : 0.0;
    within += a <= etol ? 1 : 0;
    any_nan = any_nan || std::isnan(a);
    max_abs = std::max(max_abs, a);
  }
  return {pass_rate(within, n), any_nan ? NAN : max_abs};
}

double round10(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10f", x);
  return std::strtod(buf, nullptr);
}

// Cosine similarity of compare.md's metric (each side normalised by its own norm clamped at
// 1e-8; both all-zero gives 1), in float64, rounded to 10 decimals.
double cosine(const HostTensor& golden, const HostTensor& dumped) {
  double gg = 0;
  double mm = 0;
  double gm = 0;
  for (std::size_t i = 0; i < golden.numel(); ++i) {
    const double g = golden.values[i];
    const double m = dumped.values[i];
    gg += g * g;
    mm += m * m;
    gm += g * m;
  }
  if (gg == 0 && mm == 0) return 1.0;
  return round10(gm / (std::max(std::sqrt(gg), 1e-8) * std::max(std::sqrt(mm), 1e-8)));
}

// KL(softmax(golden) || softmax(dumped)) over all elements, float64, clamped at 0.
double kl_divergence(const HostTensor& golden, const HostTensor& dumped) {
  const std::size_t n = golden.numel();
  if (n == 0) return 0;
  const auto log_sum_exp = [n](const std::vector<float>& v) {
    const double mx = *std::max_element(v.begin(), v.end());
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += std::exp(v[i] - mx);
    return mx + std::log(s);
  };
  const double lg = log_sum_exp(golden.values);
  const double lm = log_sum_exp(dumped.values);
  double kl = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double log_p = golden.values[i] - lg;
    const double p = std::exp(log_p);
    if (p == 0) continue;
    kl += p * (log_p - (dumped.values[i] - lm));
  }
  return std::max(kl, 0.0);
}

}  // namespace

std::optional<PrecisionMode> precision_mode_from_name(std::string_view name) {
  if (name == "keep" || name == "keep_origin_dtype") return PrecisionMode::Keep;
  if (name == "force_fp16") return PrecisionMode::ForceFp16;
  if (name == "force_fp32") return PrecisionMode::ForceFp32;
  return std::nullopt;
}

void apply_precision_mode(PrecisionMode mode, HostTensor& tensor) {
  if (mode == PrecisionMode::Keep || !is_float_type(tensor.dtype)) return;
  tensor.dtype = mode == PrecisionMode::ForceFp16 ? DType::Float16 : DType::Float32;
  for (float& v : tensor.values) v = round_to_dtype(tensor.dtype, v);
}

std::optional<PrecisionStandard> precision_standard(DType dumped_dtype) {
  switch (dumped_dtype) {
    case DType::Float64:
    case DType::UInt32:
    case DType::Int64:
    case DType::Int32:
    case DType::UInt64: return make_standard(0.0001, 99.99);
    case DType::Float32: return make_standard(std::ldexp(1.0, -20), 99.99);
    case DType::Float16: return make_standard(std::ldexp(1.0, -10), 99.9);
    case DType::BFloat16: return make_standard(std::ldexp(1.0, -8), 99.9);
    case DType::Int8:
    case DType::Int16:
    case DType::UInt16: return make_standard(1, 99.9);
    case DType::UInt8: return make_standard(1, 99);
    case DType::Bool: return make_standard(0.0001, 100);
    default: return std::nullopt;
  }
}

OutputCheck check_output(const std::string& what, const HostTensor& dumped, const HostTensor& golden,
                         const OpcheckMetricSelection& metrics) {
  const auto standard = precision_standard(dumped.dtype);
  if (!standard) throw FormatError(what, std::string(dtype_info(dumped.dtype).torch_name) + " not supported!");
  if (dumped.numel() != golden.numel()) {
    throw FormatError(what, "dumped output has " + std::to_string(dumped.numel()) + " elements, golden " +
                                std::to_string(golden.numel()));
  }
  OutputCheck check;
  check.standard = *standard;
  const RateAndMax rel = relative_errors(dumped, golden, standard->error_tolerance);
  check.rel_pass_rate = rel.rate;
  check.max_rel_error = rel.max;
  check.passed = rel.rate > standard->required_rate;
  if (!check.passed) {
    check.fail_reason = "relative pass rate: " + python_float_repr(rel.rate) +
                        " not met standart: " + number_text(standard->required_rate) + ".";
  }
  if (metrics.abs) {
    const RateAndMax abs = absolute_errors(dumped, golden, standard->error_tolerance);
    check.abs_pass_rate = abs.rate;
    check.max_abs_error = abs.max;
  }
  if (metrics.cos_sim) check.cosine_similarity = cosine(golden, dumped);
  if (metrics.kl) check.kl_divergence = kl_divergence(golden, dumped);
  return check;
}

CaseCheck check_outputs(const std::string& what, std::span<const HostTensor> dumped, std::span<const HostTensor> golden,
                        const OpcheckMetricSelection& metrics) {
  CaseCheck result;
  result.passed = dumped.size() == golden.size();
  std::vector<std::string> reasons;
  if (!result.passed) {
    reasons.push_back("output count: dumped " + std::to_string(dumped.size()) + ", golden " + std::to_string(golden.size()));
  }
  for (std::size_t i = 0; i < std::min(dumped.size(), golden.size()); ++i) {
    result.outputs.push_back(check_output(what, dumped[i], golden[i], metrics));
    const OutputCheck& c = result.outputs.back();
    result.passed = result.passed && c.passed;
    if (!c.fail_reason.empty()) reasons.push_back(c.fail_reason);
  }
  for (std::size_t i = 0; i < reasons.size(); ++i) result.fail_reason += (i == 0 ? "" : ", ") + reasons[i];
  return result;
}

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";
  // Shortest round-trip digits, then Python's layout: fixed for 1e-4 <= |v| < 1e16, else
  // d.ddde+XX with at least two exponent digits.
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, std::abs(value), std::chars_format::scientific);
  const std::string sci(buf, res.ptr);
  const std::size_t e_at = sci.find('e');
  std::string digits = sci.substr(0, e_at);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exp10 = std::atoi(sci.c_str() + e_at + 1);
  std::string out = value < 0 ? "-" : "";
  if (exp10 >= -4 && exp10 < 16) {
    if (exp10 < 0) return out + "0." + std::string(static_cast<std::size_t>(-exp10 - 1), '0') + digits;
    const auto int_digits = static_cast<std::size_t>(exp10 + 1);
    if (digits.size() <= int_digits) return out + digits + std::string(int_digits - digits.size(), '0') + ".0";
    return out + digits.substr(0, int_digits) + "." + digits.substr(int_digits);
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char exp_text[16];
  std::snprintf(exp_text, sizeof exp_text, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
  return out + exp_text;
}

}  // namespace aitdb::compare
