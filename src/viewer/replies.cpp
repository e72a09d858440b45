#include "viewer/replies.h"

#include <cmath>
#include <numeric>

#include "analysis/readout.h"

namespace gb::viewer {

int32_t Labels::operator()(int32_t id) {
  if (!seen_.count(id)) seen_[id] = label_(id);
  return id;
}

nlohmann::json Labels::json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [id, text] : seen_) j[std::to_string(id)] = text;
  return j;
}

nlohmann::json predictions_json(const Tensor& logits, int k, Labels& labels) {
  const int64_t n = logits.shape()[1], vocab = logits.shape()[2];
  nlohmann::json ids = nlohmann::json::array(), probs = nlohmann::json::array(),
                 entropy = nlohmann::json::array();
  for (int64_t p = 0; p < n; ++p) {
    const analysis::RowSummary s =
        analysis::summarize_logits({logits.data() + p * vocab, size_t(vocab)}, k, std::nullopt);
    nlohmann::json row_ids = nlohmann::json::array(), row_probs = nlohmann::json::array();
    for (const analysis::TokenScore& t : s.top) {
      row_ids.push_back(labels(t.id));
      row_probs.push_back(t.prob);
    }
    ids.push_back(row_ids);
    probs.push_back(row_probs);
    entropy.push_back(s.entropy);
  }
  return {{"k", k}, {"ids", ids}, {"probs", probs}, {"entropy", entropy}};
}

nlohmann::json top_json(const std::vector<double>& log_probs, int k, Labels& labels,
                        const std::vector<double>* clean) {
  std::vector<int32_t> order(log_probs.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t n = std::min(size_t(k), order.size());
  std::partial_sort(order.begin(), order.begin() + long(n), order.end(), [&](int32_t a, int32_t b) {
    return log_probs[size_t(a)] > log_probs[size_t(b)];
  });
  nlohmann::json rows = nlohmann::json::array();
  for (size_t r = 0; r < n; ++r) {
    const int32_t id = order[r];
    nlohmann::json row = {{"id", labels(id)}, {"prob", std::exp(log_probs[size_t(id)])}};
    if (clean) row["clean_prob"] = std::exp((*clean)[size_t(id)]);
    rows.push_back(row);
  }
  return rows;
}

double kl_divergence(const std::vector<double>& clean, const std::vector<double>& changed) {
  double kl = 0;
  for (size_t i = 0; i < clean.size(); ++i)
    if (clean[i] > -INFINITY) kl += std::exp(clean[i]) * (clean[i] - changed[i]);
  return kl;
}

namespace {

// NaN (a non-finite row) as null.
nlohmann::json number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

nlohmann::json numbers(const std::vector<double>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (double x : v) a.push_back(number(x));
  return a;
}

double finite_mean(const std::vector<double>& v) {
  double s = 0;
  int64_t n = 0;
  for (double x : v)
    if (std::isfinite(x)) {
      s += x;
      ++n;
    }
  return n ? s / double(n) : NAN;
}

}  // namespace

nlohmann::json stats_json(const RunCapture& capture) {
  nlohmann::json layers = nlohmann::json::array(), norms = nlohmann::json::array();
  norms.push_back(numbers(capture.embed_norm));
  for (size_t L = 0; L < capture.stats.size(); ++L) {
    const LayerStats& s = capture.stats[L];
    layers.push_back({{"layer", L},
                      {"resid_norm", number(finite_mean(s.resid_norm))},
                      {"attn_out_norm", number(s.attn_out_norm)},
                      {"mlp_out_norm", number(s.mlp_out_norm)},
                      {"nonfinite", s.nonfinite}});
    norms.push_back(numbers(s.resid_norm));
  }
  return {{"layers", layers}, {"resid_norm", norms}};
}

nlohmann::json lens_json(const analysis::LogitLens& lens, int64_t block, size_t from, size_t to,
                         Labels& labels) {
  nlohmann::json ids = nlohmann::json::array(), probs = nlohmann::json::array(),
                 entropy = nlohmann::json::array();
  for (size_t r = 0; r < lens.rows.size(); ++r) {
    nlohmann::json row_ids = nlohmann::json::array(), row_probs = nlohmann::json::array(),
                   row_entropy = nlohmann::json::array();
    for (size_t p = from; p < to; ++p) {
      const analysis::LensCell& c = lens.at(r, p);
      nlohmann::json cell_ids = nlohmann::json::array(), cell_probs = nlohmann::json::array();
      for (const analysis::TokenScore& t : c.top) {
        cell_ids.push_back(labels(t.id));
        cell_probs.push_back(t.prob);
      }
      row_ids.push_back(cell_ids);
      row_probs.push_back(cell_probs);
      row_entropy.push_back(number(c.entropy));
    }
    ids.push_back(row_ids);
    probs.push_back(row_probs);
    entropy.push_back(row_entropy);
  }
  const int k = lens.cells.empty() ? 0 : int(lens.cells[0].top.size());
  return {{"block", block},
          {"from", lens.positions[from]},
          {"to", lens.positions[to - 1] + 1},
          {"rows", lens.rows},
          {"k", k},
          {"ids", ids},
          {"probs", probs},
          {"entropy", entropy}};
}

nlohmann::json diff_json(const analysis::RunDiff& d, int n_layers, Labels& labels) {
  std::vector<nlohmann::json> layers(static_cast<size_t>(n_layers));
  for (int L = 0; L < n_layers; ++L) layers[size_t(L)] = {{"layer", L}};
  nlohmann::json embed = nullptr;
  for (const analysis::HookDiff& h : d.hooks) {
    if (h.site == HookSite::Embed) embed = number(h.rel_error);
    if (h.layer < 0 || h.layer >= n_layers) continue;
    nlohmann::json& l = layers[size_t(h.layer)];
    if (h.site == HookSite::ResidPost) {
      l["resid_post"] = number(h.rel_error);
      l["cosine"] = number(h.cosine);
    } else if (h.site == HookSite::AttnOut) {
      l["attn_out"] = number(h.rel_error);
    } else if (h.site == HookSite::MlpOut) {
      l["mlp_out"] = number(h.rel_error);
    }
    if (h.nonfinite_a || h.nonfinite_b) l["nonfinite"] = true;
  }
  nlohmann::json top1_a = nlohmann::json::array(), top1_b = nlohmann::json::array();
  for (int32_t id : d.top1_a) top1_a.push_back(labels(id));
  for (int32_t id : d.top1_b) top1_b.push_back(labels(id));
  return {{"layers", layers},
          {"embed", embed},
          {"first_layer", d.first_layer ? nlohmann::json(*d.first_layer) : nlohmann::json()},
          {"threshold", d.threshold},
          {"kl", numbers(d.kl)},
          {"kl_mean", number(d.kl_mean)},
          {"kl_max", number(d.kl_max)},
          {"top1_agreement", d.top1_agreement},
          {"top1_a", top1_a},
          {"top1_b", top1_b}};
}

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace gb::viewer
