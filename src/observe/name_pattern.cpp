#include "observe/name_pattern.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/error.h"

namespace gb {
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// One dot-separated segment of a glob, as regex text.
std::string glob_segment(const std::string& seg) {
  std::string re;
  for (char ch : seg) {
    if (ch == '*')
      re += ".*";
    else if (ch == '?')
      re += ".";
    else if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')
      re += ch;
    else
      re += std::string("\\") + ch;
  }
  return re;
}

}  // namespace

NamePattern NamePattern::compile(const std::string& pat, const std::string& what) {
  NamePattern np;
  try {
    if (pat.rfind("re:", 0) == 0) {
      np.re_ = std::regex(pat.substr(3));
      return np;
    }
    if (pat == "all") {
      np.re_ = std::regex(".*");
      return np;
    }
    static const std::regex range(R"(^(\d+)-(\d+)$)");
    std::string re;
    size_t i = 0;
    while (i < pat.size()) {
      const size_t dot = pat.find('.', i);
      const std::string seg = pat.substr(i, dot == std::string::npos ? std::string::npos : dot - i);
      std::smatch m;
      if (std::regex_match(seg, m, range)) {
        np.ranges_.push_back({std::stoll(m[1].str()), std::stoll(m[2].str())});
        re += R"((\d+))";
      } else {
        re += glob_segment(seg);
      }
      if (dot == std::string::npos) break;
      re += "\\.";
      i = dot + 1;
    }
    np.re_ = std::regex(re);
  } catch (const std::regex_error& e) {
    usage_fail(what, " '", pat, "': invalid regular expression (", e.what(), ")");
  }
  return np;
}

bool NamePattern::matches(const std::string& name) const {
  std::smatch m;
  if (!std::regex_match(name, m, re_)) return false;
  for (size_t i = 0; i < ranges_.size(); ++i) {
    const std::string digits = m[i + 1].str();
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || v < ranges_[i].first || v > ranges_[i].second) return false;
  }
  return true;
}

std::string closest_names(const std::string& pattern, const std::vector<std::string>& names,
                          size_t n) {
  std::vector<std::pair<size_t, const std::string*>> scored;
  for (const auto& name : names) scored.push_back({edit_distance(pattern, name), &name});
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::string out;
  for (size_t i = 0; i < std::min(n, scored.size()); ++i)
    out += (i ? ", " : "") + *scored[i].second;
  return out;
}

}  // namespace gb
