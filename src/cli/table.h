// Plain-text tables with aligned columns, for the subcommands' readable output.
#pragma once

#include <string>
#include <vector>

namespace gb::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // Columns left-aligned, except those listed in right_aligned.
  std::string str(const std::vector<size_t>& right_aligned = {}) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

std::string fixed(double v, int decimals);  // "0.1235"
std::string human_bytes(double bytes);      // "12.3 MiB"
std::string human_count(double n);          // "124.4M"
// Makes a token piece printable on one line: \n -> ⏎ style escapes.
std::string printable(const std::string& s);

}  // namespace gb::cli
