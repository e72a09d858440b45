#include "viewer/static_page.h"

#include <nlohmann/json.hpp>

#include "viewer/replies.h"

namespace gb::viewer {
namespace {

using nlohmann::json;

// A Session reply that must be 200; its JSON, or its bytes in base64.
json recorded(const Reply& reply) {
  if (reply.status != 200) fail("the viewer's reply was ", reply.status, ": ", reply.body);
  if (reply.type == "application/json") return json::parse(reply.body);
  return base64(reply.body);
}

}  // namespace

std::string base64(std::string_view bytes) {
  static const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t v = 0;
    for (size_t k = 0; k < 3; ++k) v = v << 8 | (k < n ? uint8_t(bytes[i + k]) : 0u);
    for (size_t k = 0; k < 4; ++k) out += k <= n ? digits[(v >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

std::string record_replies(Session& session,
                           const std::function<void(const std::string&)>& progress) {
  const SessionOptions& o = session.options();
  json prompt = o.prompt_text.empty() ? json{{"tokens", o.prompt_tokens}}
                                      : json{{"text", o.prompt_text}, {"bos", o.prompt_bos}};
  json replies = json::object();
  progress("running the prompt");
  replies["run"] = recorded(session.run({.query = {}, .body = prompt.dump()}));
  const std::string id = std::to_string(replies["run"]["run"].get<int64_t>());
  auto get = [&](Reply (Session::*handler)(const ApiRequest&), const std::string& name,
                 std::map<std::string, std::string> query) {
    std::string key = name;
    for (const auto& [k, v] : query) key += (key == name ? "?" : "&") + k + "=" + v;
    query["run"] = id;
    replies[key] = recorded((session.*handler)({.query = query, .body = ""}));
  };
  const ModelConfig& c = session.config();
  get(&Session::thumbs, "thumbs", {});
  get(&Session::heads, "heads", {});
  for (int L = 0; L < c.n_layers; ++L) {
    progress(cat("layer ", L, ": attention and neurons"));
    get(&Session::attention, "attention", {{"layer", std::to_string(L)}});
    get(&Session::neurons, "neurons", {{"layer", std::to_string(L)}});
    get(&Session::neuron_map, "neuron_map", {{"layer", std::to_string(L)}});
  }
  const int64_t blocks = replies["run"]["lens_blocks"];
  for (int64_t b = 0; b < blocks; ++b) {
    progress(cat("logit lens, positions from ", b * o.lens_block));
    get(&Session::lens, "lens", {{"block", std::to_string(b)}});
  }
  for (int L = 0; L < c.n_layers; ++L) {
    progress(cat("layer ", L, ": ablating each of ", c.n_heads, " heads"));
    for (int h = 0; h < c.n_heads; ++h)
      get(&Session::ablate, "ablate", {{"heads", cat(L, ".", h)}});
  }
  if (session.has_diff()) {
    progress("comparing the two models");
    get(&Session::diff, "diff", {});
  }
  json data = {{"info", recorded(session.info({}))}, {"replies", replies}};
  return dump(data);
}

}  // namespace gb::viewer
