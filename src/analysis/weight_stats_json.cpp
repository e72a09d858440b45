#include "analysis/weight_stats_json.h"

namespace gb {
namespace {

using nlohmann::json;

json histogram_json(const Histogram& h) {
  return {{"min", h.min},
          {"max", h.max},
          {"num", h.num},
          {"sum", h.sum},
          {"sum_squares", h.sum_squares},
          {"bucket_limit", h.bucket_limit},
          {"bucket", h.bucket}};
}

json quantization_json(const QuantizationNoise& q) {
  return {{"method", "estimate: uniform rounding noise of step |d| per block, step/sqrt(12)"},
          {"blocks", q.blocks},
          {"step_rms", q.step_rms},
          {"step_max", q.step_max},
          {"noise_rms", q.noise_rms},
          {"rel_error", q.rel_error},
          {"sqnr_db", q.sqnr_db}};
}

json reference_json(const ReferenceError& e) {
  return {{"rms_error", e.rms_error},
          {"max_abs_error", e.max_abs_error},
          {"rel_error", e.rel_error},
          {"sqnr_db", e.sqnr_db},
          {"cosine", e.cosine}};
}

}  // namespace

json to_json(const SpectrumOptions& o) {
  return {{"method", "randomised subspace iteration"},
          {"values", o.values},
          {"oversampling", o.oversampling},
          {"iterations", o.iterations},
          {"seed", o.seed}};
}

json to_json(const WeightStats& s) {
  int64_t numel = 1;
  for (int64_t d : s.shape) numel *= d;
  json j = {{"name", s.name}, {"dtype", s.dtype}, {"shape", s.shape}, {"numel", numel}};
  if (!s.note.empty()) j["note"] = s.note;
  if (!s.computed) return j;
  const ValueStats& v = s.values;
  j.update({{"finite", v.finite},
            {"nan", v.nan_count},
            {"inf", v.inf_count},
            {"l2_norm", v.l2_norm},
            {"mean", v.mean},
            {"std", v.std},
            {"min", v.min},
            {"max", v.max},
            {"abs_max", v.abs_max},
            {"zero_fraction", v.zero_fraction}});
  if (!s.histogram.empty()) j["histogram"] = histogram_json(s.histogram);
  if (!s.singular_values.empty()) j["singular_values"] = s.singular_values;
  if (s.quantization) j["quantization"] = quantization_json(*s.quantization);
  if (s.reference) j["reference"] = reference_json(*s.reference);
  return j;
}

}  // namespace gb
