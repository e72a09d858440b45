#include "analysis/nan_origin.h"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "ops/matmul.h"

namespace gb::analysis {
namespace {

bool is_attention_matrix(HookSite s) {
  return s == HookSite::AttnScores || s == HookSite::Pattern;
}

// The first non-finite element of a hook tensor in position order: [b, pos, ...] row by row;
// [b, n_heads, q, k] query by query.
std::optional<NonFiniteValue> first_nonfinite(const HookPoint& point, const TensorView& t,
                                              const ModelConfig& c) {
  if (is_attention_matrix(point.site)) {
    const int64_t H = t.shape[1], Q = t.shape[2], K = t.shape[3];
    for (int64_t q = 0; q < Q; ++q)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t k = 0; k <= std::min(K - 1, point.pos0 + q); ++k) {
          const float v = t.data[(h * Q + q) * K + k];
          if (!std::isfinite(v))
            return NonFiniteValue{
                "", point.site, point.layer, point.pos0 + q, h, cat("head ", h, ", key ", k), v};
        }
    return std::nullopt;
  }
  const int64_t rows = t.shape[0] * t.shape[1], C = t.numel() / rows;
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t.data[i])) {
      const int64_t ch = i % C;
      std::string desc = cat("channel ", ch);
      if (t.shape.rank == 4)  // [b, pos, heads, d_head] or hook_result's [b, pos, heads, d_model]
        desc = cat("head ", ch / t.shape[3],
                   point.site == HookSite::Result ? ", channel " : ", dim ", ch % t.shape[3]);
      return NonFiniteValue{"", point.site, point.layer, point.pos0 + (i / C) % t.shape[1],
                            ch, desc,       t.data[i]};
    }
  return std::nullopt;
}

// NaN / Inf in a hook tensor; for attention matrices only the causal part (keys <= query),
// since scores are −inf where masked by design.
HookCheck count_nonfinite(const std::string& name, const HookPoint& point, const TensorView& t) {
  HookCheck check{name};
  auto count = [&](const float* v, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      check.nan += std::isnan(v[i]);
      check.inf += std::isinf(v[i]);
    }
  };
  if (!is_attention_matrix(point.site)) {
    count(t.data, t.numel());
    return check;
  }
  const int64_t rows = t.shape[0] * t.shape[1], Q = t.shape[2], K = t.shape[3];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t q = 0; q < Q; ++q)
      count(t.data + (r * Q + q) * K, std::min(K, point.pos0 + q + 1));
  return check;
}

// Keeps the latest tensor of every site (this layer's, and the previous residual) until the
// first non-finite value, then says what produced it.
class NanObserver : public Observer {
 public:
  NanObserver(const Model& model, const HookPlan& plan, std::span<const int32_t> tokens,
              Diagnosis& out)
      : model_(model), c_(model.config()), plan_(plan), tokens_(tokens), out_(out) {}

  void on_hook(const HookPoint& point, TensorView& t) override {
    const HookSelection* sel = plan_.find(point);
    if (!sel) return;
    ++out_.hooks_checked;
    const HookCheck check = count_nonfinite(sel->name, point, t);
    if (check.nan + check.inf > 0) {
      out_.nonfinite_hooks.push_back(check);
      if (point.site == HookSite::Logits) out_.logits_finite = false;
    }
    if (out_.first) return;
    if (check.nan + check.inf > 0) {
      out_.first = first_nonfinite(point, t, c_);
      out_.first->hook = sel->name;
      explain(*out_.first);
      latest_.clear();
      return;
    }
    latest_[point.site] = Tensor(t.shape, {t.data, t.data + t.numel()});
  }

 private:
  // ---- activations kept from earlier hooks ----
  const Tensor* kept(HookSite s) const {
    auto it = latest_.find(s);
    return it == latest_.end() ? nullptr : &it->second;
  }
  std::string name(HookSite s, int layer) const { return hook_name(Stack::Main, layer, s); }

  // The whole row of a [1, pos, ...] hook at `pos`.
  void row(HookSite s, int layer, int64_t pos) {
    const Tensor* t = kept(s);
    if (!t) return;
    const int64_t w = t->numel() / t->shape()[1];
    out_.inputs.push_back(
        summarize_values(name(s, layer), cat("position ", pos), {t->data() + pos * w, size_t(w)}));
  }
  // One head of a [1, pos, heads, d_head] hook at `pos`.
  void head_row(HookSite s, int layer, int64_t head, int64_t pos) {
    const Tensor* t = kept(s);
    if (!t) return;
    const int64_t H = t->shape()[2], dh = t->shape()[3];
    out_.inputs.push_back(summarize_values(name(s, layer), cat("head ", head, ", position ", pos),
                                           {t->data() + (pos * H + head) * dh, size_t(dh)}));
  }
  // One kv head of a [1, pos, kv_heads, d_head] hook at positions 0 .. pos.
  void kv_rows(HookSite s, int layer, int64_t kv_head, int64_t pos) {
    const Tensor* t = kept(s);
    if (!t) return;
    const int64_t H = t->shape()[2], dh = t->shape()[3];
    std::vector<float> v;
    for (int64_t p = 0; p <= pos; ++p) {
      const float* r = t->data() + (p * H + kv_head) * dh;
      v.insert(v.end(), r, r + dh);
    }
    out_.inputs.push_back(
        summarize_values(name(s, layer), cat("kv head ", kv_head, ", positions 0..", pos), v));
  }
  // Query row `pos` of one head of a [1, heads, q, k] hook, keys 0 .. pos.
  void attention_row(HookSite s, int layer, int64_t head, int64_t pos) {
    const Tensor* t = kept(s);
    if (!t) return;
    const int64_t Q = t->shape()[2], K = t->shape()[3];
    out_.inputs.push_back(summarize_values(name(s, layer), cat("head ", head, ", query ", pos),
                                           {t->data() + (head * Q + pos) * K, size_t(pos + 1)}));
  }

  // ---- weights, by their GGUF names ----
  void weight_row(const std::string& tensor, int64_t r) {
    const io::TensorRef* t = model_.tensors().find(tensor);
    if (!t || t->shape.size() != 2 || !t->supported) return;
    const WeightMatrix w{t->data, t->dtype, t->shape[0], t->shape[1]};
    std::vector<float> v(size_t(w.cols));
    ops::weight_row(w, r, v.data());
    out_.inputs.push_back(summarize_values(tensor, cat("row ", r), v));
  }
  void weight_all(const std::string& tensor) {
    const io::TensorRef* t = model_.tensors().find(tensor);
    if (!t || !t->supported) return;
    const int64_t rows = t->shape.size() == 2 ? t->shape[0] : 1;
    const int64_t cols = t->shape.back();
    const WeightMatrix w{t->data, t->dtype, rows, cols};
    std::vector<float> v(size_t(rows * cols));
    for (int64_t r = 0; r < rows; ++r) ops::weight_row(w, r, v.data() + r * cols);
    out_.inputs.push_back(summarize_values(tensor, rows == 1 ? "all" : "all rows", v));
  }
  void norm(const std::string& prefix) {
    weight_all(prefix + ".weight");
    weight_all(prefix + ".bias");
  }
  // The stored row of the q/k/v weight that produces output channel `ch` of hook_q/k/v.
  void qkv_row(HookSite s, int layer, int64_t ch) {
    const std::string p = "blk." + std::to_string(layer) + ".";
    const int64_t dh = c_.d_head, head = ch / dh, j = ch % dh, half = dh / 2;
    int64_t r = ch;
    if (c_.rope_interleaved && s != HookSite::V)
      r = head * dh + (j < half ? 2 * j : 2 * (j - half) + 1);
    if (c_.family == Family::Gpt2) {
      const int64_t base = s == HookSite::Q ? 0 : s == HookSite::K ? c_.d_model : 2 * c_.d_model;
      weight_row(p + "attn_qkv.weight", base + r);
      weight_all(p + "attn_qkv.bias");
      return;
    }
    const std::string n = s == HookSite::Q ? "attn_q" : s == HookSite::K ? "attn_k" : "attn_v";
    weight_row(p + n + ".weight", r);
    weight_all(p + n + ".bias");
  }

  void explain(const NonFiniteValue& f) {
    const int L = f.layer;
    const int64_t pos = f.position, ch = f.channel;
    const std::string p = "blk." + std::to_string(L) + ".";
    const int group = c_.n_heads / c_.n_kv_heads;
    const bool gpt2 = c_.family == Family::Gpt2;
    switch (f.site) {
      case HookSite::Embed:
        weight_row("token_embd.weight", tokens_[size_t(pos)]);
        return;
      case HookSite::PosEmbed:
        weight_row("position_embd.weight", pos);
        return;
      case HookSite::ResidPre:
        if (L == 0) {
          row(HookSite::Embed, -1, pos);
          row(HookSite::PosEmbed, -1, pos);
        } else {
          row(HookSite::ResidPost, L - 1, pos);
        }
        return;
      case HookSite::Ln1Scale:
      case HookSite::Ln1Normalized:
        row(HookSite::ResidPre, L, pos);
        return;
      case HookSite::Q:
      case HookSite::K:
      case HookSite::V:
        row(HookSite::Ln1Normalized, L, pos);
        norm(p + "attn_norm");
        qkv_row(f.site, L, ch);
        return;
      case HookSite::RotQ:
      case HookSite::RotK:
        head_row(f.site == HookSite::RotQ ? HookSite::Q : HookSite::K, L, ch / c_.d_head, pos);
        return;
      case HookSite::AttnScores:
        head_row(kept(HookSite::RotQ) ? HookSite::RotQ : HookSite::Q, L, ch, pos);
        kv_rows(kept(HookSite::RotK) ? HookSite::RotK : HookSite::K, L, ch / group, pos);
        return;
      case HookSite::Pattern:
        attention_row(HookSite::AttnScores, L, ch, pos);
        return;
      case HookSite::Z:
        attention_row(HookSite::Pattern, L, ch / c_.d_head, pos);
        kv_rows(HookSite::V, L, ch / c_.d_head / group, pos);
        return;
      case HookSite::Result:
        head_row(HookSite::Z, L, ch / c_.d_model, pos);
        weight_all(p + "attn_output.weight");
        return;
      case HookSite::AttnOut:
        row(HookSite::Z, L, pos);
        weight_row(p + "attn_output.weight", ch);
        weight_all(p + "attn_output.bias");
        return;
      case HookSite::ResidMid:
        row(HookSite::ResidPre, L, pos);
        row(HookSite::AttnOut, L, pos);
        return;
      case HookSite::Ln2Scale:
      case HookSite::Ln2Normalized:
        row(HookSite::ResidMid, L, pos);
        return;
      case HookSite::MlpPre:
        row(HookSite::Ln2Normalized, L, pos);
        norm(p + "ffn_norm");
        weight_row(p + (gpt2 ? "ffn_up.weight" : "ffn_gate.weight"), ch);
        if (gpt2) weight_all(p + "ffn_up.bias");
        return;
      case HookSite::MlpPreLinear:
        row(HookSite::Ln2Normalized, L, pos);
        norm(p + "ffn_norm");
        weight_row(p + "ffn_up.weight", ch);
        return;
      case HookSite::MlpPost:
        row(HookSite::MlpPre, L, pos);
        row(HookSite::MlpPreLinear, L, pos);
        return;
      case HookSite::MlpOut:
        row(HookSite::MlpPost, L, pos);
        weight_row(p + "ffn_down.weight", ch);
        weight_all(p + "ffn_down.bias");
        return;
      case HookSite::ResidPost:
        row(HookSite::ResidMid, L, pos);
        row(HookSite::MlpOut, L, pos);
        return;
      case HookSite::LnFinalScale:
      case HookSite::LnFinalNormalized:
        row(HookSite::ResidPost, c_.n_layers - 1, pos);
        return;
      case HookSite::Logits: {
        row(HookSite::LnFinalNormalized, -1, pos);
        norm("output_norm");
        const WeightMatrix& u = model_.unembedding();
        std::vector<float> v(size_t(u.cols));
        ops::weight_row(u, ch, v.data());
        const char* n =
            model_.tensors().find("output.weight") ? "output.weight" : "token_embd.weight";
        out_.inputs.push_back(summarize_values(n, cat("row ", ch), v));
        return;
      }
      default:
        return;
    }
  }

  const Model& model_;
  const ModelConfig& c_;
  const HookPlan& plan_;
  std::span<const int32_t> tokens_;
  Diagnosis& out_;
  std::map<HookSite, Tensor> latest_;
};

}  // namespace

ValueSummary summarize_values(std::string what, std::string where, std::span<const float> v) {
  ValueSummary s{std::move(what), std::move(where), int64_t(v.size())};
  bool any = false;
  for (size_t i = 0; i < v.size(); ++i) {
    const float x = v[i];
    if (!std::isfinite(x)) {
      s.nan += std::isnan(x);
      s.inf += std::isinf(x);
      if (s.first_nonfinite < 0) s.first_nonfinite = int64_t(i);
      continue;
    }
    s.min = any ? std::min(s.min, x) : x;
    s.max = any ? std::max(s.max, x) : x;
    s.abs_max = std::max(s.abs_max, std::fabs(x));
    any = true;
  }
  return s;
}

Diagnosis diagnose(HookedModel& model, std::span<const int32_t> tokens) {
  Diagnosis d;
  d.tokens.assign(tokens.begin(), tokens.end());
  auto plan = model.plan("all");
  NanObserver observer(model.model(), *plan, tokens, d);
  model.run_observed(tokens, *plan, observer);
  return d;
}

nlohmann::json to_json(const Diagnosis& d, const TokenLabeler& label) {
  using nlohmann::json;
  json strings = json::array();
  for (int32_t id : d.tokens) strings.push_back(label(id));
  json j = {{"analysis", "nan_origin"},
            {"tokens", d.tokens},
            {"token_strings", strings},
            {"hooks_checked", d.hooks_checked},
            {"logits_finite", d.logits_finite},
            {"nonfinite_hooks", json::array()},
            {"first", nullptr},
            {"inputs", json::array()}};
  for (const HookCheck& h : d.nonfinite_hooks)
    j["nonfinite_hooks"].push_back({{"hook", h.hook}, {"nan", h.nan}, {"inf", h.inf}});
  if (d.first) {
    const NonFiniteValue& f = *d.first;
    j["first"] = {{"hook", f.hook},
                  {"layer", f.layer},
                  {"position", f.position},
                  {"token", label(d.tokens[size_t(f.position)])},
                  {"channel", f.channel},
                  {"channel_desc", f.channel_desc},
                  {"value", std::isnan(f.value) ? "nan"
                            : f.value > 0       ? "inf"
                                                : "-inf"}};
  }
  for (const ValueSummary& s : d.inputs) {
    json i = {{"what", s.what}, {"where", s.where}, {"n", s.n},
              {"nan", s.nan},   {"inf", s.inf},     {"finite", s.finite()},
              {"min", s.min},   {"max", s.max},     {"abs_max", s.abs_max}};
    if (s.first_nonfinite >= 0) i["first_nonfinite"] = s.first_nonfinite;
    j["inputs"].push_back(i);
  }
  return j;
}

}  // namespace gb::analysis
