#include "analysis/weight_inspection.h"

#include <algorithm>
#include <set>

#include "core/error.h"
#include "model/model_files.h"
#include "observe/hook_plan.h"
#include "observe/name_pattern.h"

namespace gb {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::vector<const io::TensorRef*> select_tensors(const io::TensorTable& table,
                                                 const std::string& filter) {
  std::vector<const io::TensorRef*> all;
  for (const auto& [name, t] : table.all()) all.push_back(&t);
  if (filter.empty()) return all;
  std::set<const io::TensorRef*> chosen;
  for (const std::string& pattern : HookPlan::split(filter)) {
    const NamePattern np = NamePattern::compile(pattern, "--tensors");
    bool any = false;
    for (const io::TensorRef* t : all) {
      if (!np.matches(t->name)) continue;
      any = true;
      chosen.insert(t);
    }
    if (!any) {
      std::vector<std::string> names;
      for (const io::TensorRef* t : all) names.push_back(t->name);
      usage_fail("--tensors: no tensor matches '", pattern,
                 "'; closest names: ", closest_names(pattern, names));
    }
  }
  return {chosen.begin(), chosen.end()};
}

// The reference tensor for t, or nullptr when the reference has none of that name.
const io::TensorRef* reference_for(const io::TensorRef& t, const io::TensorTable& reference,
                                   const std::string& reference_path) {
  const io::TensorRef* r = reference.find(t.name);
  if (!r) return nullptr;
  if (r->shape != t.shape)
    fail(reference_path, ": tensor ", t.name, " has shape ", r->shape_str(), ", the model ",
         t.shape_str());
  if (!can_read(*r))
    fail(reference_path, ": tensor ", t.name, ": dtype ", r->dtype_label, " is not supported");
  return r;
}

}  // namespace

bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      size_t i_end = i, j_end = j;
      while (i_end < a.size() && is_digit(a[i_end])) ++i_end;
      while (j_end < b.size() && is_digit(b[j_end])) ++j_end;
      // Compare the numbers without converting: strip leading zeros, then length, then digits.
      size_t i0 = i, j0 = j;
      while (i0 + 1 < i_end && a[i0] == '0') ++i0;
      while (j0 + 1 < j_end && b[j0] == '0') ++j0;
      const std::string_view x(a.data() + i0, i_end - i0), y(b.data() + j0, j_end - j0);
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = i_end;
      j = j_end;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  if ((a.size() - i) != (b.size() - j)) return a.size() - i < b.size() - j;
  return a < b;  // equal up to leading zeros: fall back to plain order
}

WeightInspection::WeightInspection(const std::string& model_path, WeightInspectionOptions options)
    : options_(std::move(options)) {
  model_ = read_model_tensors(model_path);
  if (model_.all().empty()) fail(model_path, ": the file holds no tensors");
  selected_ = select_tensors(model_, options_.filter);
  std::stable_sort(selected_.begin(), selected_.end(),
                   [](const auto* x, const auto* y) { return natural_less(x->name, y->name); });
  if (options_.reference.empty()) return;
  reference_ = read_model_tensors(options_.reference);
  bool any = false;
  for (const io::TensorRef* t : selected_)
    any |= reference_for(*t, reference_, options_.reference) != nullptr;
  if (!any)
    fail(options_.reference, ": none of the inspected tensors is in the reference (it must hold ",
         "the same tensor names, e.g. the f32 file the quantized one was made from)");
}

void WeightInspection::run(const std::function<void(const InspectedTensor&)>& visit) const {
  for (size_t i = 0; i < selected_.size(); ++i) {
    const io::TensorRef& t = *selected_[i];
    if (!can_read(t)) {
      const WeightStats s = unreadable_weight_stats(t);
      visit({.stats = s, .values = {}, .index = i, .count = selected_.size()});
      continue;
    }
    WeightStats s;
    std::vector<float> values = with_context(cat(t.file, ": tensor ", t.name), [&] {
      std::vector<float> v = dequantize_tensor(t);  // [numel]
      s = weight_stats(t, v, options_.stats);
      return v;
    });
    if (!options_.reference.empty()) {
      if (const io::TensorRef* r = reference_for(t, reference_, options_.reference)) {
        const std::vector<float> ref_values = dequantize_tensor(*r);  // [numel]
        s.reference = reference_error(values, ref_values);
      } else {
        s.note += (s.note.empty() ? "" : "; ") + std::string("not in the reference");
      }
    }
    visit({.stats = s, .values = values, .index = i, .count = selected_.size()});
  }
}

}  // namespace gb
