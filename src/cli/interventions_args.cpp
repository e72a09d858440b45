#include "cli/interventions_args.h"

#include <fstream>

#include "core/error.h"
#include "io/npy.h"
#include "tokenizer/tokenizer.h"

namespace gb::cli {
namespace {

// Token ids of a text for reference runs (the model's default BOS handling).
std::vector<int32_t> encode(const Model& m, const std::string& text, const std::string& what) {
  const tok::Tokenizer* tok = m.tokenizer();
  if (!tok) usage_fail(what, ": the model has no tokenizer");
  auto ids = tok->encode(text, {.add_bos = tok->add_bos_default()});
  if (ids.empty()) usage_fail(what, ": '", text, "' encodes to no tokens");
  if (int64_t(ids.size()) > m.config().n_ctx) ids.resize(size_t(m.config().n_ctx));
  return ids;
}

// The reference texts of --mean-from: the text itself, or each non-empty line of @FILE.
std::vector<std::string> reference_texts(const std::string& spec) {
  if (spec.empty()) usage_fail("--mean-ablate needs --mean-from TEXT or --mean-from @FILE");
  if (spec[0] != '@') return {spec};
  std::ifstream in(spec.substr(1));
  if (!in) usage_fail("--mean-from: cannot read ", spec.substr(1));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  if (lines.empty()) usage_fail("--mean-from: ", spec.substr(1), " has no text");
  return lines;
}

// Mean of a hook's activation over batch and positions, across texts.
Tensor mean_activation(HookedModel& hm, const HookSelection& sel,
                       const std::vector<std::string>& texts, const std::string& what) {
  MeanAccumulator acc;
  for (const auto& t : texts) {
    auto [logits, cache] = hm.run_with_cache(encode(hm.model(), t, what), sel.name);
    acc.add(sel.point.site, cache[sel.name]);
  }
  return acc.mean();
}

const HookSelection& single(const HookPlan& plan, const std::string& spec, const char* flag) {
  if (plan.selections().size() != 1)
    usage_fail(flag, " '", spec, "' matches ", plan.selections().size(), " hooks; name one");
  return plan.selections()[0];
}

}  // namespace

void InterventionArgs::add(CLI::App* cmd) {
  cmd->add_option("--ablate", ablate,
                  "Zero-ablate a hook selection, e.g. 'blocks.3.attn.hook_z[head=5]'");
  cmd->add_option("--mean-ablate", mean_ablate, "Mean-ablate a hook selection (needs --mean-from)");
  cmd->add_option("--mean-from", mean_from,
                  "Reference text for mean ablation, or @FILE (one per line)");
  cmd->add_option("--steer", steer,
                  "Add a steering vector at this hook, e.g. blocks.4.hook_resid_pre");
  cmd->add_option("--steer-vector", steer_vector, "The vector, as a .npy of the hook's width");
  cmd->add_option("--steer-from", steer_from,
                  "Or: the vector is mean(--steer-to) - mean(--steer-from)");
  cmd->add_option("--steer-to", steer_to, "  ... at the steering hook over this text");
  cmd->add_option("--steer-scale", steer_scale, "Multiplier of the steering vector (default 1)");
}

Interventions InterventionArgs::build(HookedModel& hm) const {
  Interventions iv(hm.model().config().n_layers);
  for (const auto& spec : ablate) iv.zero(*hm.plan(spec));
  if (!mean_from.empty() && mean_ablate.empty()) usage_fail("--mean-from without --mean-ablate");
  if (!mean_ablate.empty()) {
    const auto texts = reference_texts(mean_from);
    for (const auto& spec : mean_ablate) {
      auto plan = hm.plan(spec);
      for (const HookSelection& sel : plan->selections()) {
        HookSelection whole = sel;
        whole.slices.clear();  // the mean is taken over the whole activation
        iv.mean(sel, mean_activation(hm, whole, texts, "--mean-from"));
      }
    }
  }
  if (steer.empty()) {
    if (!steer_vector.empty() || !steer_from.empty() || !steer_to.empty())
      usage_fail("--steer-vector/--steer-from/--steer-to need --steer HOOK");
    return iv;
  }
  auto plan = hm.plan(steer);
  const HookSelection& sel = single(*plan, steer, "--steer");
  Tensor vec;
  if (!steer_vector.empty()) {
    if (!steer_from.empty() || !steer_to.empty())
      usage_fail("give --steer-vector or --steer-from/--steer-to, not both");
    io::NpyArray a = io::read_npy(steer_vector);
    if (a.dtype != "<f4") usage_fail(steer_vector, ": a steering vector must be float");
    if (a.shape.size() != 1)
      usage_fail(steer_vector, ": a steering vector must be 1-D, got ", a.shape.size(), " axes");
    vec = Tensor(Shape{int64_t(a.f32.size())}, std::move(a.f32));
  } else {
    if (steer_from.empty() || steer_to.empty())
      usage_fail("--steer needs --steer-vector, or --steer-from and --steer-to");
    HookSelection whole = sel;
    whole.slices.clear();
    const Tensor to = mean_activation(hm, whole, {steer_to}, "--steer-to");
    const Tensor from = mean_activation(hm, whole, {steer_from}, "--steer-from");
    if (to.shape().rank != 1)
      usage_fail("--steer ", steer, ": steering needs a hook of shape [batch, pos, d]");
    vec = Tensor(to.shape());
    for (int64_t i = 0; i < vec.numel(); ++i) vec.data()[i] = to.data()[i] - from.data()[i];
  }
  const HookSiteInfo& info = hook_site_info(sel.point.site);
  const int64_t width = axis_size(info.axes[info.rank - 1], hm.model().config(), {});
  if (vec.numel() != width)
    usage_fail("steering vector of width ", vec.numel(), " does not fit ", sel.name, " (width ",
               width, ")");
  iv.steer(sel, std::move(vec), steer_scale);
  return iv;
}

int32_t resolve_token(const Model& model, const std::string& text, const std::string& what) {
  if (!text.empty() && text[0] == '#') {
    int32_t id = -1;
    try {
      id = std::stoi(text.substr(1));
    } catch (const std::exception&) {
      usage_fail(what, ": '", text, "' is not a token id like #123");
    }
    if (id < 0 || id >= model.config().d_vocab)
      usage_fail(what, ": token id ", id, " is out of range");
    return id;
  }
  const tok::Tokenizer* tok = model.tokenizer();
  if (!tok) usage_fail(what, ": the model has no tokenizer; give a token id like #123");
  const auto ids = tok->encode(text);
  if (ids.empty()) usage_fail(what, ": '", text, "' encodes to no tokens");
  if (ids.size() > 1)
    std::fprintf(stderr, "glassbox: warning: %s '%s' is %zu tokens; using the first, '%s' (#%d)\n",
                 what.c_str(), text.c_str(), ids.size(), tok->piece(ids[0]).c_str(), ids[0]);
  return ids[0];
}

}  // namespace gb::cli
