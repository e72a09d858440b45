// glassbox view --html: the page as one self-contained file. The Session answers, ahead of time,
// every request the page can make about one run — the run itself, thumbnails, each layer's
// attention, neurons and neuron map, every logit-lens block, the ablation of each single head,
// and the diff when there are two models — and the page reads those recorded replies instead of
// asking a server.
#pragma once

#include <functional>
#include <string>

#include "viewer/session.h"

namespace gb::viewer {

// The recorded replies as JSON: {"info": {...}, "replies": {"run": {...}, "thumbs": "<base64>",
// "attention?layer=0": "<base64>", "ablate?heads=0.1": {...}, ...}}, binary replies in base64.
// progress(message) is called as the work goes on. Throws gb::Error when the run fails.
std::string record_replies(Session& session,
                           const std::function<void(const std::string&)>& progress);

std::string base64(std::string_view bytes);

}  // namespace gb::viewer
