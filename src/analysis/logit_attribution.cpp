#include "analysis/logit_attribution.h"

#include <nlohmann/json.hpp>

#include "analysis/logit_lens.h"
#include "core/error.h"
#include "ops/matmul.h"

namespace gb::analysis {
namespace {

// The residual direction a part is read along: g = w ⊙ u / scale, and Σ g (for centring).
struct Readout {
  std::vector<double> g;  // [d_model]
  double g_sum = 0;
  bool centred = false;
};

// The contribution of one residual-stream part x [d_model] to the logit (difference).
Part project(const Readout& r, const float* x, Part p) {
  double dot = 0, mean = 0;
  const size_t d = r.g.size();
  for (size_t i = 0; i < d; ++i) {
    dot += double(x[i]) * r.g[i];
    mean += x[i];
  }
  mean /= double(d);
  p.centring = r.centred ? -mean * r.g_sum : 0.0;
  p.value = dot + p.centring;
  return p;
}

// u = W_U[target] (− W_U[contrast]) in double.
std::vector<double> unembed_direction(const Model& model, const AttributionOptions& o) {
  const WeightMatrix& wu = model.unembedding();
  std::vector<float> row(size_t(wu.cols));
  ops::weight_row(wu, o.target, row.data());
  std::vector<double> u(row.begin(), row.end());
  if (o.contrast) {
    ops::weight_row(wu, *o.contrast, row.data());
    for (size_t i = 0; i < u.size(); ++i) u[i] -= row[i];
  }
  return u;
}

std::string filter_for(const Model& model, int64_t pos) {
  const std::string at = "[pos=" + std::to_string(pos) + "]";
  std::string f = "hook_embed" + at + ",ln_final.hook_scale" + at;
  if (model.has_site(HookSite::PosEmbed)) f += ",hook_pos_embed" + at;
  for (const char* h : {"attn.hook_result", "hook_attn_out", "hook_mlp_out"})
    f += ",blocks.*." + std::string(h) + at;
  return f;
}

void check_token(int32_t id, int32_t vocab, const char* what) {
  if (id < 0 || id >= vocab)
    usage_fail(what, " token ", id, " is out of range for a vocabulary of ", vocab);
}

}  // namespace

std::string part_kind_name(PartKind k) {
  switch (k) {
    case PartKind::Embed:
      return "embed";
    case PartKind::PosEmbed:
      return "pos_embed";
    case PartKind::Head:
      return "head";
    case PartKind::Mlp:
      return "mlp";
    case PartKind::AttnBias:
      return "attn_bias";
    case PartKind::NormBias:
      return "norm_bias";
  }
  return "?";
}

double Attribution::total() const {
  double s = 0;
  for (const Part& p : components) s += p.value;
  for (const Part& p : terms) s += p.value;
  return s;
}

Attribution attribute_logit(HookedModel& model, std::span<const int32_t> tokens,
                            const AttributionOptions& o) {
  const Model& m = model.model();
  const ModelConfig& c = m.config();
  check_token(o.target, c.d_vocab, "target");
  if (o.contrast) check_token(*o.contrast, c.d_vocab, "contrast");
  Attribution a;
  a.tokens.assign(tokens.begin(), tokens.end());
  a.position = resolve_positions({o.position}, int64_t(tokens.size()), "attribute")[0];
  a.target = o.target;
  a.contrast = o.contrast;

  const CachedRun run = model.run_with_cache(tokens, filter_for(m, a.position));
  const float* logits = run.logits.data() + a.position * c.d_vocab;
  a.actual = double(logits[o.target]) - (o.contrast ? double(logits[*o.contrast]) : 0.0);
  a.norm_scale = run.cache["ln_final.hook_scale"].data()[0];

  const NormWeights& norm = m.final_norm();
  const std::vector<double> u = unembed_direction(m, o);
  Readout r{.g = std::vector<double>(u.size()), .centred = norm.kind == ops::NormKind::LayerNorm};
  for (size_t i = 0; i < u.size(); ++i) {
    r.g[i] = double(norm.w[i]) * u[i] / a.norm_scale;
    r.g_sum += r.g[i];
  }
  a.centred = r.centred;

  const int64_t d = c.d_model;
  a.components.push_back(
      project(r, run.cache["hook_embed"].data(), {"hook_embed", PartKind::Embed}));
  if (m.has_site(HookSite::PosEmbed))
    a.components.push_back(
        project(r, run.cache["hook_pos_embed"].data(), {"hook_pos_embed", PartKind::PosEmbed}));
  for (int L = 0; L < c.n_layers; ++L) {
    const std::string l = "L" + std::to_string(L);
    const Tensor& result = run.cache[hook_name(Stack::Main, L, HookSite::Result)];  // [1,1,H,d]
    std::vector<float> bias(run.cache[hook_name(Stack::Main, L, HookSite::AttnOut)].values());
    for (int h = 0; h < c.n_heads; ++h) {
      const float* rh = result.data() + int64_t(h) * d;
      a.components.push_back(project(r, rh, {l + "H" + std::to_string(h), PartKind::Head, L, h}));
      for (int64_t i = 0; i < d; ++i) bias[size_t(i)] -= rh[i];
    }
    a.terms.push_back(project(r, bias.data(), {l + " attn bias", PartKind::AttnBias, L}));
    a.components.push_back(project(r, run.cache[hook_name(Stack::Main, L, HookSite::MlpOut)].data(),
                                   {l + " mlp", PartKind::Mlp, L}));
  }
  Part nb{"ln_final bias", PartKind::NormBias};
  for (size_t i = 0; i < norm.b.size(); ++i) nb.value += double(norm.b[i]) * u[i];
  a.terms.push_back(nb);
  return a;
}

nlohmann::json to_json(const Attribution& a, const TokenLabeler& label) {
  auto parts = [](const std::vector<Part>& v) {
    nlohmann::json out = nlohmann::json::array();
    for (const Part& p : v) {
      nlohmann::json j = {{"name", p.name}, {"kind", part_kind_name(p.kind)}, {"value", p.value}};
      if (p.layer >= 0) j["layer"] = p.layer;
      if (p.head >= 0) j["head"] = p.head;
      if (p.centring != 0) j["centring"] = p.centring;
      out.push_back(j);
    }
    return out;
  };
  nlohmann::json strings = nlohmann::json::array();
  for (int32_t id : a.tokens) strings.push_back(label(id));
  nlohmann::json j = {{"analysis", "logit_attribution"},
                      {"tokens", a.tokens},
                      {"token_strings", strings},
                      {"position", a.position},
                      {"target", {{"id", a.target}, {"token", label(a.target)}}},
                      {"actual", a.actual},
                      {"total", a.total()},
                      {"norm_scale", a.norm_scale},
                      {"norm", a.centred ? "LayerNorm" : "RMSNorm"},
                      {"components", parts(a.components)},
                      {"terms", parts(a.terms)}};
  if (a.contrast) j["contrast"] = {{"id", *a.contrast}, {"token", label(*a.contrast)}};
  return j;
}

}  // namespace gb::analysis
