#include "analysis/observation_summaries.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "analysis/readout.h"
#include "analysis/weight_summaries.h"
#include "core/error.h"
#include "core/escape.h"

namespace gb::analysis {
namespace {

bool is_causal_attention(const HookPoint& p) {
  return p.stack == Stack::Main && (p.site == HookSite::Pattern || p.site == HookSite::AttnScores);
}

// The query positions of the rows of a traced attention tensor: the [pos=..] slice if any.
std::vector<int64_t> query_positions(const HookSelection& sel, int64_t positions) {
  for (const AxisSlice& s : sel.slices)
    if (s.axis == SliceAxis::Pos) return s.spec.resolve(positions, sel.name + " pos");
  std::vector<int64_t> all;
  for (int64_t p = 0; p < positions; ++p) all.push_back(p);
  return all;
}

// The causal part of a traced attention tensor [1, heads, q, k]: each row's keys 0 .. its
// query position.
std::vector<float> causal_values(const HookSelection& sel, const Tensor& t, int64_t positions) {
  const int64_t heads = t.shape()[1], q_len = t.shape()[2], k_len = t.shape()[3];
  const std::vector<int64_t> query = query_positions(sel, positions);
  if (int64_t(query.size()) != q_len || k_len != positions)
    fail("histogram of ", sel.name, ": traced shape ", t.shape().str(), " does not match ",
         positions, " positions");
  std::vector<float> values;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t q = 0; q < q_len; ++q) {
      const float* row = t.data() + (h * q_len + q) * k_len;  // [k_len]
      values.insert(values.end(), row, row + query[size_t(q)] + 1);
    }
  return values;
}

const HookSelection& selection_named(const HookPlan& plan, const std::string& name) {
  for (const HookSelection& s : plan.selections())
    if (s.name == name) return s;
  fail("no hook selection named ", name);
}

std::string probability(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", p);
  return buf;
}

// "blocks.3.hook_resid_pre" -> "L3 pre"; the last row (resid_post) -> "L5 post".
std::string lens_row_label(const std::string& hook) {
  const size_t a = hook.find('.') + 1, b = hook.find('.', a);
  return "L" + hook.substr(a, b - a) + (hook.ends_with("resid_pre") ? " pre" : " post");
}

std::string table_header(const std::vector<std::string>& cells) {
  std::string head = "|", rule = "|";
  for (const std::string& c : cells) head += " " + c + " |", rule += "---|";
  return head + "\n" + rule + "\n";
}

std::string table_row(const std::vector<std::string>& cells) {
  std::string row = "|";
  for (const std::string& c : cells) row += " " + c + " |";
  return row + "\n";
}

}  // namespace

HookSummaryPlace activation_place(const HookSelection& sel) {
  const SummaryPlace place = summary_place(sel.name);
  return {.tag = "activations/" + place.tag + sel.slice_text(), .step = place.step};
}

void add_trace_histograms(SummaryWriter& writer, const ActivationCache& cache, const HookPlan& plan,
                          int64_t positions) {
  for (const auto& [name, tensor] : cache.entries()) {
    const HookSelection& sel = selection_named(plan, name);
    const HookSummaryPlace place = activation_place(sel);
    if (is_causal_attention(sel.point)) {
      const std::vector<float> values = causal_values(sel, tensor, positions);
      writer.add_histogram(place.tag, make_histogram(values), place.step);
    } else {
      writer.add_histogram(place.tag, make_histogram({tensor.data(), size_t(tensor.numel())}),
                           place.step);
    }
  }
}

Histogram stats_histogram(const HookStats& hook) {
  Histogram h;
  const ChannelStats& c = hook.channels;
  h.min = INFINITY;
  h.max = -INFINITY;
  for (int64_t i = 0; i < c.channels(); ++i) {
    const size_t k = size_t(i);
    h.nan_count += c.nans[k];
    h.inf_count += c.infs[k];
    if (c.count[k] == 0) continue;
    const double n = double(c.count[k]);
    h.sum += c.mean[k] * n;
    h.sum_squares += c.m2[k] + n * c.mean[k] * c.mean[k];
    h.min = std::min(h.min, double(c.min[k]));
    h.max = std::max(h.max, double(c.max[k]));
  }
  h.num = double(hook.histogram.total());
  if (h.empty()) {
    h.min = h.max = h.sum = h.sum_squares = 0;
    return h;
  }
  // TensorBoard's layout: an empty bucket whose right limit is the left edge of the first
  // counted bucket, then each counted bucket's right edge.
  h.bucket_limit = hook.histogram.span_edges();
  h.bucket.push_back(0);
  for (int64_t n : hook.histogram.span_counts()) h.bucket.push_back(double(n));
  return h;
}

void add_stats_histograms(SummaryWriter& writer, const ActivationStats& stats) {
  for (const HookStats& hook : stats.hooks()) {
    const SummaryPlace place = summary_place(hook.name);
    writer.add_histogram("activations/" + place.tag, stats_histogram(hook), place.step);
  }
}

namespace {

LensOptions trace_lens_options(int64_t positions) {
  LensOptions o{.top_k = kTraceLensTopK, .target = std::nullopt, .positions = {}};
  for (int64_t p = std::max<int64_t>(0, positions - kTraceLensPositions); p < positions; ++p)
    o.positions.push_back(p);
  return o;
}

}  // namespace

TraceSummaries::TraceSummaries(HookedModel& model, SummaryWriter& writer,
                               std::span<const int32_t> tokens)
    : model_(model.model()),
      writer_(writer),
      positions_(int64_t(tokens.size())),
      attention_(model, {.writer = &writer, .positions = positions_}),
      lens_(model, tokens, trace_lens_options(positions_)) {}

void TraceSummaries::add_to(ObserverList& observers) {
  observers.add(attention_, attention_.mask());
  observers.add(lens_, lens_.mask());
}

void TraceSummaries::finish(const ActivationCache& cache, const HookPlan& plan) {
  add_trace_histograms(writer_, cache, plan, positions_);
  attention_.write_scalars(writer_);
  add_logit_lens_text(writer_, lens_.result(), model_labeler(model_));
}

std::string markdown_token(const std::string& label) {
  return "`" + escape_control(label, "`|") + "`";
}

std::string logit_lens_markdown(const LogitLens& lens, const TokenLabeler& label) {
  if (lens.rows.empty() || lens.positions.empty()) fail("logit lens: nothing to show");
  const size_t last = lens.positions.size() - 1;
  const int64_t p = lens.positions[last];
  std::string md =
      cat("Logit lens: the residual stream before each block and after the last, read through the "
          "final norm and the unembedding.\n\nPosition ",
          p, " (", markdown_token(label(lens.tokens[size_t(p)])), "), top ",
          lens.at(0, last).top.size(), " next tokens:\n\n");
  std::vector<std::string> header = {"layer"};
  for (size_t k = 0; k < lens.at(0, last).top.size(); ++k) header.push_back(cat("top ", k + 1));
  md += table_header(header);
  for (size_t r = 0; r < lens.rows.size(); ++r) {
    std::vector<std::string> row = {lens_row_label(lens.rows[r])};
    for (const TokenScore& s : lens.at(r, last).top)
      row.push_back(markdown_token(label(s.id)) + " " + probability(s.prob));
    md += table_row(row);
  }
  md += "\nTop-1 next token and its probability at each position:\n\n";
  header = {"layer"};
  for (int64_t q : lens.positions)
    header.push_back(cat(q, " ", markdown_token(label(lens.tokens[size_t(q)]))));
  md += table_header(header);
  for (size_t r = 0; r < lens.rows.size(); ++r) {
    std::vector<std::string> row = {lens_row_label(lens.rows[r])};
    for (size_t c = 0; c < lens.positions.size(); ++c) {
      const TokenScore& top = lens.at(r, c).top.front();
      row.push_back(markdown_token(label(top.id)) + " " + probability(top.prob));
    }
    md += table_row(row);
  }
  return md;
}

void add_logit_lens_text(SummaryWriter& writer, const LogitLens& lens, const TokenLabeler& label) {
  writer.add_text("logit_lens", logit_lens_markdown(lens, label), 0);
}

GenerationStep add_generation_step(SummaryWriter& writer, int64_t step,
                                   std::span<const float> logits, int32_t token,
                                   const TokenLabeler& label) {
  const RowSummary s = summarize_logits(logits, 1, token);
  const GenerationStep out{
      .entropy = s.entropy, .top1_prob = s.top.front().prob, .token_prob = s.target->prob};
  writer.add_scalar("generate/entropy", float(out.entropy), step);
  writer.add_scalar("generate/top1_prob", float(out.top1_prob), step);
  writer.add_scalar("generate/token_prob", float(out.token_prob), step);
  writer.add_text("generate/token", cat(markdown_token(label(token)), " (id ", token, ")"), step);
  return out;
}

}  // namespace gb::analysis
