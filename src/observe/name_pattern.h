// Name patterns for choosing hooks or tensors by name, shared by the hook filter (hook_plan.h)
// and `glassbox weights --tensors`.
//
// One pattern is one of:
//   blocks.3.attn.hook_z            an exact name
//   blocks.*.attn.hook_pattern      a glob (* matches anything, ? one character)
//   blocks.2-5.mlp.hook_post        an inclusive numeric range as a whole dot-separated segment
//   re:blocks\.[0-3]\.hook_resid_.* a regular expression (ECMAScript, matched against the whole
//   name) all                             every name
#pragma once

#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace gb {

class NamePattern {
 public:
  // Throws UsageError naming `what` (e.g. "hook filter", "--tensors") for a bad regex.
  static NamePattern compile(const std::string& pattern, const std::string& what);

  bool matches(const std::string& name) const;

 private:
  std::regex re_;
  std::vector<std::pair<int64_t, int64_t>> ranges_;  // one per capture group, in order
};

// Up to `n` of `names` closest to `pattern` by edit distance, comma-separated (for "did you
// mean" messages).
std::string closest_names(const std::string& pattern, const std::vector<std::string>& names,
                          size_t n = 3);

}  // namespace gb
