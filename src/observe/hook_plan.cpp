#include "observe/hook_plan.h"

#include <algorithm>

#include "core/error.h"
#include "observe/name_pattern.h"

namespace gb {
namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string closest_hook_names(const std::string& pattern, const HookCatalog& cat) {
  std::vector<std::string> names;
  for (const auto& e : cat.entries) names.push_back(e.name);
  return closest_names(pattern, names);
}

struct ParsedPattern {
  std::string name;
  std::vector<AxisSlice> slices;
};

const char* slice_key(SliceAxis a) {
  switch (a) {
    case SliceAxis::Head:
      return "head";
    case SliceAxis::Pos:
      return "pos";
    case SliceAxis::Neuron:
      return "neuron";
  }
  return "?";
}

ParsedPattern parse_pattern(const std::string& text) {
  ParsedPattern p;
  const size_t bracket = text.find('[');
  p.name = trim(text.substr(0, bracket));
  if (p.name.empty()) usage_fail("hook filter '", text, "': empty hook name");
  size_t i = bracket;
  while (i != std::string::npos && i < text.size()) {
    if (text[i] != '[')
      usage_fail("hook filter '", text, "': expected '[' at '", text.substr(i), "'");
    const size_t close = text.find(']', i);
    if (close == std::string::npos) usage_fail("hook filter '", text, "': missing ']'");
    std::string body = text.substr(i + 1, close - i - 1);
    size_t start = 0;
    while (start <= body.size()) {
      const size_t semi = body.find(';', start);
      const std::string part =
          trim(body.substr(start, semi == std::string::npos ? std::string::npos : semi - start));
      const size_t eq = part.find('=');
      if (eq == std::string::npos)
        usage_fail("hook filter '", text, "': slice '", part,
                   "' must be head=, pos= or neuron=...");
      const std::string key = trim(part.substr(0, eq));
      IndexSpec spec = IndexSpec::parse(trim(part.substr(eq + 1)));
      SliceAxis axis;
      if (key == "head") {
        axis = SliceAxis::Head;
      } else if (key == "pos") {
        axis = SliceAxis::Pos;
      } else if (key == "neuron" || key == "channel") {
        axis = SliceAxis::Neuron;
      } else {
        usage_fail("hook filter '", text, "': unknown slice '", key,
                   "' (use head=, pos= or neuron=)");
      }
      for (const AxisSlice& have : p.slices)
        if (have.axis == axis) usage_fail("hook filter '", text, "': ", key, "= given twice");
      p.slices.push_back({axis, spec});
      if (semi == std::string::npos) break;
      start = semi + 1;
    }
    i = close + 1;
  }
  return p;
}

}  // namespace

IndexSpec IndexSpec::parse(const std::string& text) {
  IndexSpec spec;
  spec.text = text;
  if (text.empty()) usage_fail("empty index list");
  size_t start = 0;
  auto number = [&](const std::string& s) -> std::optional<int64_t> {
    const std::string t = trim(s);
    if (t.empty()) return std::nullopt;
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(t, &used);
    } catch (const std::exception&) {
      usage_fail("'", text, "' is not an index list (like 3, -1, 0:4 or 1,3)");
    }
    if (used != t.size()) usage_fail("'", text, "' is not an index list (like 3, -1, 0:4 or 1,3)");
    return v;
  };
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t colon = item.find(':');
    Item it;
    if (colon == std::string::npos) {
      it.begin = number(item);
      if (!it.begin) usage_fail("'", text, "' has an empty index");
      it.single = true;
    } else {
      it.begin = number(item.substr(0, colon));
      it.end = number(item.substr(colon + 1));
    }
    spec.items.push_back(it);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return spec;
}

std::vector<int64_t> IndexSpec::resolve(int64_t n, const std::string& what) const {
  std::vector<int64_t> out;
  auto wrap = [&](int64_t v) { return v < 0 ? v + n : v; };
  for (const Item& it : items) {
    if (it.single) {
      const int64_t v = wrap(*it.begin);
      if (v < 0 || v >= n)
        usage_fail(what, " index ", *it.begin, " is out of range (", n, " available)");
      out.push_back(v);
    } else {
      const int64_t b = std::clamp<int64_t>(it.begin ? wrap(*it.begin) : 0, 0, n);
      const int64_t e = std::clamp<int64_t>(it.end ? wrap(*it.end) : n, 0, n);
      for (int64_t v = b; v < e; ++v) out.push_back(v);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.empty()) usage_fail(what, " selection '", text, "' selects nothing (", n, " available)");
  return out;
}

std::vector<std::string> HookPlan::split(const std::string& filter) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char ch : filter) {
    if (ch == '[' || ch == '{' || ch == '(') ++depth;
    if (ch == ']' || ch == '}' || ch == ')') --depth;
    if (ch == ',' && depth == 0) {
      if (!trim(cur).empty()) out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!trim(cur).empty()) out.push_back(trim(cur));
  return out;
}

size_t HookPlan::slot(Stack s, int layer, HookSite site) const {
  return (size_t(s) * size_t(n_layers_ + 1) + size_t(layer + 1)) * kHookSiteCount + size_t(site);
}

HookPlan HookPlan::compile(const std::vector<std::string>& patterns, const HookCatalog& cat) {
  HookPlan plan;
  plan.n_layers_ = cat.n_layers;
  plan.mask_ = HookMask(cat.n_layers);
  plan.index_.assign(size_t(3) * size_t(cat.n_layers + 1) * kHookSiteCount, -1);
  for (const std::string& text : patterns) {
    const ParsedPattern p = parse_pattern(text);
    const NamePattern np = NamePattern::compile(p.name, "hook filter");
    bool any = false;
    for (const CatalogEntry& e : cat.entries) {
      if (!np.matches(e.name)) continue;
      any = true;
      const bool wide = p.name.find_first_of("*?") != std::string::npos ||
                        p.name.rfind("re:", 0) == 0 || p.name == "all";
      bool fits = true;
      for (const AxisSlice& sl : p.slices) {
        if (slice_axis_index(e.point.site, sl.axis) >= 0) continue;
        if (!wide)
          usage_fail("hook filter '", text, "': ", e.name, " has no ", slice_key(sl.axis), " axis");
        fits = false;  // a wide pattern keeps only the hooks that have the sliced axes
      }
      if (!fits) continue;
      const size_t s = plan.slot(e.point.stack, e.point.layer, e.point.site);
      HookSelection sel{e.name, e.point, p.slices};
      if (plan.index_[s] >= 0) {
        plan.selections_[size_t(plan.index_[s])] = sel;  // the later pattern wins
      } else {
        plan.index_[s] = int(plan.selections_.size());
        plan.selections_.push_back(sel);
      }
      plan.mask_.set(e.point.stack, e.point.layer, e.point.site);
    }
    if (!any)
      usage_fail("no hook matches '", p.name, "'; closest names: ", closest_hook_names(p.name, cat),
                 " (glassbox hooks lists them all)");
  }
  // Keep forward-pass order regardless of the order patterns were given in.
  std::vector<HookSelection> ordered;
  for (const CatalogEntry& e : cat.entries) {
    const int i = plan.index_[plan.slot(e.point.stack, e.point.layer, e.point.site)];
    if (i >= 0) ordered.push_back(plan.selections_[size_t(i)]);
  }
  plan.selections_ = std::move(ordered);
  for (size_t i = 0; i < plan.selections_.size(); ++i) {
    const HookPoint& pt = plan.selections_[i].point;
    plan.index_[plan.slot(pt.stack, pt.layer, pt.site)] = int(i);
  }
  return plan;
}

const HookSelection* HookPlan::find(const HookPoint& p) const {
  if (index_.empty()) return nullptr;
  const int i = index_[slot(p.stack, p.layer, p.site)];
  return i < 0 ? nullptr : &selections_[size_t(i)];
}

int slice_axis_index(HookSite site, SliceAxis axis) {
  const HookSiteInfo& info = hook_site_info(site);
  for (int i = 0; i < info.rank; ++i) {
    const Axis a = info.axes[i];
    if (axis == SliceAxis::Head && (a == Axis::NHeads || a == Axis::NKvHeads)) return i;
    if (axis == SliceAxis::Pos && (a == Axis::Pos || a == Axis::QPos)) return i;
  }
  if (axis == SliceAxis::Neuron && info.rank >= 3 && info.axes[info.rank - 1] != Axis::One &&
      info.axes[info.rank - 1] != Axis::KPos && info.axes[info.rank - 1] != Axis::SrcPos)
    return info.rank - 1;
  return -1;
}

std::vector<std::vector<int64_t>> HookSelection::kept_indices(const Shape& shape) const {
  std::vector<std::vector<int64_t>> keep(static_cast<size_t>(shape.rank));
  for (int a = 0; a < shape.rank; ++a) {
    keep[size_t(a)].resize(size_t(shape[a]));
    for (int64_t i = 0; i < shape[a]; ++i) keep[size_t(a)][size_t(i)] = i;
  }
  for (const AxisSlice& sl : slices) {
    const int a = slice_axis_index(point.site, sl.axis);
    keep[size_t(a)] = sl.spec.resolve(shape[a], name + " " + slice_key(sl.axis));
  }
  return keep;
}

std::string HookSelection::slice_text() const {
  if (slices.empty()) return "";
  std::string s = "[";
  for (size_t i = 0; i < slices.size(); ++i)
    s += (i ? "; " : "") + std::string(slice_key(slices[i].axis)) + "=" + slices[i].spec.text;
  return s + "]";
}

Tensor select_slices(const HookSelection& sel, const TensorView& t) {
  const auto keep = sel.kept_indices(t.shape);
  Shape out_shape = t.shape;
  for (int a = 0; a < t.shape.rank; ++a) out_shape.dims[a] = int64_t(keep[size_t(a)].size());
  Tensor out(out_shape);
  float* dst = out.data();
  for_each_selected(sel, t.shape, [&](int64_t flat) { *dst++ = t.data[flat]; });
  return out;
}

}  // namespace gb
