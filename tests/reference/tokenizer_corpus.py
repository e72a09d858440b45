"""Test corpora for the tokenizer reference tests, built from text that Debian packages put on the
machine (licences, fortunes, C headers, Python sources, translated man pages) plus generated
strings (whitespace and punctuation runs, numbers, contractions, emoji, scripts from all over
Unicode). Everything is deterministic for a given seed.

A missing source is an error, not a skip: scripts/setup.sh --test installs the packages.
"""
import glob
import gzip
import os
import random
import unicodedata

# Source name -> (glob patterns, Debian package that provides them).
SOURCES = {
    "licenses": (["/usr/share/common-licenses/*"], "base-files"),
    "fortunes": (["/usr/share/games/fortunes/*"], "fortunes"),
    "c_headers": (["/usr/include/*.h", "/usr/include/linux/*.h"], "libc6-dev, linux-libc-dev"),
    "python": (["/usr/lib/python3.11/*.py", "/usr/lib/python3/dist-packages/numpy/core/*.py"],
               "python3.11, python3-numpy"),
    "man_en": (["/usr/share/man/man1/*.gz"], "man-db"),
    "man_intl": ([f"/usr/share/man/{lang}/man*/*.gz"
                  for lang in ("ru", "uk", "ja", "ko", "zh_CN", "zh_TW", "de", "fr", "pl", "tr")],
                 "man-db, passwd, login (translated man pages)"),
}


def read_source(name, limit=3_000_000):
    """Text of a source: its files in a fixed shuffled order, up to about `limit` characters."""
    patterns, package = SOURCES[name]
    files = sorted(f for p in patterns for f in glob.glob(p)
                   if os.path.isfile(f) and not f.endswith((".dat", ".u8")))
    random.Random(0).shuffle(files)
    texts = []
    size = 0
    for f in files:
        data = gzip.open(f).read() if f.endswith(".gz") else open(f, "rb").read()
        texts.append(data.decode("utf-8", errors="ignore"))
        size += len(texts[-1])
        if size >= limit:
            break
    text = "\n".join(texts)
    if len(text) < 50_000:
        raise SystemExit(f"corpus source '{name}' has only {len(text)} characters "
                         f"({patterns}); install {package} (scripts/setup.sh --test)")
    return text


# Code point ranges of many scripts and symbol blocks; only characters assigned in this Python's
# Unicode database are used, so both sides of a comparison know them.
SCRIPT_RANGES = [
    (0x00C0, 0x024F), (0x0370, 0x03FF), (0x0400, 0x04FF), (0x0530, 0x058F), (0x0590, 0x05FF),
    (0x0600, 0x06FF), (0x0900, 0x097F), (0x0980, 0x09FF), (0x0E00, 0x0E7F), (0x10A0, 0x10FF),
    (0x1100, 0x11FF), (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x2070, 0x209F), (0x20A0, 0x20CF),
    (0x2100, 0x218F), (0x2190, 0x22FF), (0x2460, 0x24FF), (0x2500, 0x257F), (0x2600, 0x26FF),
    (0x3000, 0x303F), (0x3040, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xFF00, 0xFFEF),
    (0x1D400, 0x1D7FF), (0x1F300, 0x1F5FF), (0x1F600, 0x1F64F), (0x1F900, 0x1F9FF),
    (0x10000, 0x1007F), (0x13000, 0x1342F), (0x20000, 0x2A6DF),
]

SPACES = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n", "\t ", " \t", "\u00a0", "\u3000",
          "\u2009", "\u2028", "\u2029", "\u0085", "\ufeff", "\u200b", "\u180e", "\x0b", "\x0c"]
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["...", "--", "?!", "\u2014", "\u00bf", "\u00ab"]
EMOJI = ["\U0001F600", "\U0001F44D\U0001F3FD", "\U0001F468\u200d\U0001F469\u200d\U0001F467",
         "\U0001F1E9\U0001F1EA", "\u2764\ufe0f", "\U0001F9D1\u200d\U0001F4BB", "\u00a9", "\u2122"]
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'M", "'lL",
                "'D", "n't", "N'T", "''", "'''s", "\u2019s", "'x", "'"]


def assigned(cp):
    return unicodedata.category(chr(cp)) not in ("Cn", "Cs", "Co")


def random_char(rng):
    lo, hi = rng.choice(SCRIPT_RANGES)
    for _ in range(20):
        cp = rng.randint(lo, hi)
        if assigned(cp):
            return chr(cp)
    return "x"


def random_word(rng):
    kind = rng.random()
    if kind < 0.35:
        return "".join(random_char(rng) for _ in range(rng.randint(1, 8)))
    if kind < 0.5:
        return str(rng.randint(0, 10 ** rng.randint(1, 15))) + rng.choice(["", ".", ",", "%", "e5"])
    if kind < 0.65:
        w = rng.choice(["don", "I", "you", "we", "they", "she", "it", "DON", "We", "tHey"])
        return w + rng.choice(CONTRACTIONS)
    if kind < 0.8:
        return "".join(rng.choice(PUNCT) for _ in range(rng.randint(1, 6)))
    if kind < 0.9:
        return "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 3)))
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
                   for _ in range(rng.randint(1, 12)))


def generated_text(rng, length):
    parts = []
    n = 0
    while n < length:
        piece = random_word(rng) + (rng.choice(SPACES) if rng.random() < 0.5 else " ")
        if rng.random() < 0.05:
            piece += rng.choice(SPACES) * rng.randint(2, 40)
        if rng.random() < 0.05:
            piece = rng.choice(SPACES) + piece
        parts.append(piece)
        n += len(piece)
    return "".join(parts)


def edge_cases():
    """Hand-picked strings that exercise each rule of the pre-tokeniser and the byte fallback."""
    cases = [
        "", " ", "  ", "   ", "\n", "\n\n\n", "\t", "\t\t", "\r\n", "a", "a b", "a  b", "a   b",
        "   leading", "trailing   ", "  both  ", "\t\tx", " \tx", "x \n y", "x\n\n y", "x \u00a0y",
        "\u00a0\u00a0x", "x\u3000\u3000", "\u2028x", "\ufeffx", "\u0085x", "x\u200by",
        "'s", "'S", "I'M", "you'RE", "they'Ve", "'''", "''s", "don''t", "x's's", "O'Neil's",
        "12345678901234567890", "3.14159", "1,000,000", "-1e-10", "٣٤٥", "Ⅻⅻ", "²³½", "١٢٣abc",
        "!!!???...", "-----", "   !!!", " !", "!a", "a!", "a1", "1a", "_a_", "a_b", "...'s",
        "😀😀", "👨‍👩‍👧‍👦", "🇩🇪🇫🇷", "e\u0301", "\u00e9", "A\u030a\u0323", "नमस्ते", "ไทย",
        "中文字符", "한국어", "日本語のテキスト", "Ελληνικά", "русский язык", "עברית", "العربية",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "<|endoftext|>", "<s>", "</s>", "<unk>", "<0x0A>", "a" * 3000, " " * 2000,
        "!" * 1500, "😀" * 300, "ab" * 1000 + " " * 3 + "cd", "\n" * 500 + "x",
    ]
    return cases


def documents(sources, target_bytes, seed, generated_share=0.25):
    """Documents of 1-8 KB cut at random places from `sources`, plus generated ones, until the
    total UTF-8 size reaches `target_bytes`. Returns a list of strings."""
    rng = random.Random(seed)
    texts = [read_source(s) for s in sources]
    docs = []
    total = 0
    while total < target_bytes:
        size = rng.randint(1000, 8000)
        if rng.random() < generated_share:
            doc = generated_text(rng, size)
        else:
            text = rng.choice(texts)
            start = rng.randrange(0, max(1, len(text) - size))
            doc = text[start:start + size]
        docs.append(doc)
        total += len(doc.encode("utf-8"))
    return docs
