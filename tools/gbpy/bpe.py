"""Byte-level BPE in the style of GPT-2: training, encoding, and the Hugging Face file format.

GPT-2's tokenizer works on bytes, each shown as one printable unicode character
(`bytes_to_unicode`), splits text into pre-tokens with a regular expression, and merges adjacent
symbols inside each pre-token by learned rank. Files: vocab.json (symbol string -> id) and
merges.txt ("#version" line, then one "left right" pair per line in rank order).

The pre-tokenisation pattern of GPT-2 uses Unicode classes (\\p{L} letters, \\p{N} numbers) that
Python's `re` lacks. `pretokenize` builds those classes from `unicodedata` for exactly the
characters of the text being split, so the split equals GPT-2's for any input; `\\s` is written
out as the six ASCII whitespace characters plus the Unicode White_Space characters that occur
(Python's own `\\s` would also treat U+001C..U+001F as spaces).
"""
import heapq
import json
import re
import unicodedata

END_OF_TEXT = "<|endoftext|>"

# White_Space code points other than the ASCII six: NEL, NBSP, OGHAM SPACE MARK, U+2000..U+200A,
# LINE/PARAGRAPH SEPARATOR, NARROW NBSP, MEDIUM MATHEMATICAL SPACE, IDEOGRAPHIC SPACE.
_UNICODE_SPACES = set("\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
                      + "".join(chr(c) for c in range(0x2000, 0x200B)))
_ASCII_SPACES = " \t\n\x0b\x0c\r"


def bytes_to_unicode():
    """byte value -> printable character, as GPT-2 does: printable Latin-1 bytes map to
    themselves, the other 68 bytes to U+0100 and up, in byte order."""
    keep = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1))
            + list(range(ord("\xae"), ord("\xff") + 1)))
    mapping, extra = {}, 0
    for b in range(256):
        if b in keep:
            mapping[b] = chr(b)
        else:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


def byte_symbol_order():
    """The 256 byte symbols in GPT-2's id order: kept bytes first, then the remapped ones."""
    mapping = bytes_to_unicode()
    kept = [b for b in range(256) if mapping[b] == chr(b)]
    moved = [b for b in range(256) if mapping[b] != chr(b)]
    return [mapping[b] for b in kept + moved]


_MATCHES_NOTHING = "[^\\x00-\\U0010ffff]"
_pattern_cache = {}


def gpt2_pattern(chars):
    """GPT-2's split pattern with \\p{L}, \\p{N} and \\s spelled out for the given characters:
    's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"""
    key = frozenset(chars)
    if key not in _pattern_cache:
        def members(predicate):
            return re.escape("".join(sorted(c for c in key if predicate(c))))

        letters = members(lambda c: unicodedata.category(c).startswith("L"))
        numbers = members(lambda c: unicodedata.category(c).startswith("N"))
        spaces = re.escape(_ASCII_SPACES + "".join(sorted(key & _UNICODE_SPACES)))
        letter = f"[{letters}]" if letters else _MATCHES_NOTHING
        number = f"[{numbers}]" if numbers else _MATCHES_NOTHING
        other = f"[^{spaces}{letters}{numbers}]"
        space, non_space = f"[{spaces}]", f"[^{spaces}]"
        source = (r"'s|'t|'re|'ve|'m|'ll|'d"
                  + f"| ?{letter}+| ?{number}+| ?{other}+|{space}+(?!{non_space})|{space}+")
        _pattern_cache[key] = re.compile(source)
    return _pattern_cache[key]


def pretokenize(text):
    """Splits text the way GPT-2's regular expression does: list of str."""
    return gpt2_pattern(set(text)).findall(text)


def train(texts, vocab_size, progress=None):
    """Learns merges from an iterable of texts until the vocabulary (256 byte symbols + merges +
    <|endoftext|>) has vocab_size entries. Returns the list of merges [(left, right), ...].

    Pair counts are kept up to date incrementally: a merge touches only the words containing the
    pair (found through an index pair -> words), and the best pair is taken from a max-heap with
    lazily discarded stale entries. Ties go to the lexicographically smallest pair."""
    to_sym = bytes_to_unicode()
    word_freq = {}
    for text in texts:
        for piece in pretokenize(text):
            word_freq[piece] = word_freq.get(piece, 0) + 1
    words = [[to_sym[b] for b in w.encode("utf-8")] for w in word_freq]  # symbols per word
    freqs = list(word_freq.values())

    pair_count, pair_words = {}, {}
    for i, syms in enumerate(words):
        _add_pairs(syms, freqs[i], i, pair_count, pair_words)
    heap = [(-n, p) for p, n in pair_count.items()]
    heapq.heapify(heap)

    merges, n_merges = [], vocab_size - 256 - 1
    while len(merges) < n_merges and heap:
        neg, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -neg or -neg <= 0:
            continue  # stale entry: the count changed after it was pushed
        merges.append(pair)
        changed = set()
        for i in list(pair_words.get(pair, ())):
            _add_pairs(words[i], -freqs[i], i, pair_count, pair_words, changed)
            words[i] = _merge_word(words[i], pair)
            _add_pairs(words[i], freqs[i], i, pair_count, pair_words, changed)
        for p in changed:
            if pair_count.get(p, 0) > 0:
                heapq.heappush(heap, (-pair_count[p], p))
        if progress and len(merges) % 500 == 0:
            progress(len(merges), n_merges)
    return merges


def _add_pairs(syms, weight, word, pair_count, pair_words, changed=None):
    """Adds weight to the count of every adjacent pair of syms (negative weight removes)."""
    for pair in zip(syms, syms[1:]):
        pair_count[pair] = pair_count.get(pair, 0) + weight
        if weight > 0:
            pair_words.setdefault(pair, set()).add(word)
        elif pair_count[pair] == 0:
            del pair_count[pair]
            pair_words.pop(pair, None)
        if changed is not None:
            changed.add(pair)


def _merge_word(syms, pair):
    out, i = [], 0
    while i < len(syms):
        if i + 1 < len(syms) and syms[i] == pair[0] and syms[i + 1] == pair[1]:
            out.append(syms[i] + syms[i + 1])
            i += 2
        else:
            out.append(syms[i])
            i += 1
    return out


class Tokenizer:
    """Encoder/decoder for a vocabulary built from merges (ids: bytes, merges, <|endoftext|>)."""

    def __init__(self, merges):
        self.merges = list(merges)
        symbols = byte_symbol_order() + [a + b for a, b in self.merges] + [END_OF_TEXT]
        self.vocab = {s: i for i, s in enumerate(symbols)}
        if len(self.vocab) != len(symbols):
            raise ValueError("merges produce a duplicate symbol")
        self.id_to_symbol = symbols
        self.eot_id = self.vocab[END_OF_TEXT]
        self.rank = {pair: r for r, pair in enumerate(self.merges)}
        self.to_sym = bytes_to_unicode()
        self.from_sym = {c: b for b, c in self.to_sym.items()}
        self._cache = {}

    def __len__(self):
        return len(self.id_to_symbol)

    def _bpe(self, piece):
        """One pre-token -> list of symbols, applying the lowest-rank merge first."""
        if piece in self._cache:
            return self._cache[piece]
        syms = [self.to_sym[b] for b in piece.encode("utf-8")]
        while len(syms) > 1:
            ranked = [(self.rank.get(p, len(self.rank)), i)
                      for i, p in enumerate(zip(syms, syms[1:]))]
            best, _ = min(ranked)
            if best == len(self.rank):
                break
            syms = _merge_word(syms, self.merges[best])
        self._cache[piece] = syms
        return syms

    def encode(self, text):
        """Plain text (no special tokens recognised) -> list of ids."""
        return [self.vocab[s] for piece in pretokenize(text) for s in self._bpe(piece)]

    def decode(self, ids):
        parts = []
        for i in ids:
            sym = self.id_to_symbol[i]
            parts.append(sym.encode("utf-8") if sym == END_OF_TEXT
                         else bytes(self.from_sym[c] for c in sym))
        return b"".join(parts).decode("utf-8", errors="replace")

    def save(self, out_dir, add_bos=False):
        """Writes vocab.json, merges.txt and tokenizer_config.json (Hugging Face GPT-2 style);
        add_bos: encoders put <|endoftext|> in front of every text."""
        with open(f"{out_dir}/vocab.json", "w", encoding="utf-8") as f:
            json.dump(self.vocab, f, ensure_ascii=False)
        with open(f"{out_dir}/merges.txt", "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n")
            for a, b in self.merges:
                f.write(f"{a} {b}\n")
        config = {"tokenizer_class": "GPT2Tokenizer", "model_max_length": None,
                  "bos_token": END_OF_TEXT, "eos_token": END_OF_TEXT,
                  "unk_token": END_OF_TEXT, "add_bos_token": add_bos,
                  "add_prefix_space": False}
        with open(f"{out_dir}/tokenizer_config.json", "w") as f:
            json.dump(config, f, indent=2)
            f.write("\n")
