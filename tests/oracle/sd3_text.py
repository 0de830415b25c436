"""Generated text and a small CLIP-format BPE trainer for tests/oracle/sd3_reference.py (plain Python, no torch).

Kept apart from the oracle so it can be checked on a machine without torch:
    python3 tests/oracle/sd3_text.py /tmp/clip-bpe      (trains, writes vocab.json + merges.txt, prints a summary)

CLIP's files (transformers models/clip/tokenization_clip.py reads them): vocab.json maps the 256 byte symbols of GPT-2's
byte-to-unicode table (in that table's order), then the same 256 symbols with "</w>" appended (the end-of-word form),
then one entry per merge (the two halves joined), then <|startoftext|> and <|endoftext|> last. merges.txt is a
"#version: 0.2" line and one "left right" pair per line, in merge order. A word is its UTF-8 bytes mapped through the
table, with "</w>" glued to the last symbol.
"""
import json
import os
import random
import re
import sys
import unicodedata
from collections import Counter

BOS = "<|startoftext|>"
EOS = "<|endoftext|>"
END_OF_WORD = "</w>"

# CLIP's pre-tokenizer pattern (tokenization_clip.py); used here only to cut the training text into words.
CLIP_PATTERN = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


def byte_symbols():
    """GPT-2's reversible byte -> printable character table, as a list indexed by byte value, and the byte order
    the vocabulary uses: the printable Latin-1 bytes keep their own code point and come first (in byte order); the
    others (controls, space, DEL, NBSP, soft hyphen) get 256, 257, ... in byte order and come after."""
    printable = [b for b in range(256) if 33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255]
    table = {b: chr(b) for b in printable}
    rest = [b for b in range(256) if b not in table]
    for n, b in enumerate(rest):
        table[b] = chr(256 + n)
    order = printable + rest
    return [table[b] for b in range(256)], order


def pre_tokenize(text):
    try:
        import regex
        words = regex.findall(CLIP_PATTERN, text, regex.IGNORECASE)
    except ImportError:  # the training text only needs some reasonable word split
        words = re.findall(r"[^\W\d_]+|\d|[^\w\s]+", text)
    return words


def word_symbols(word, table):
    chars = [table[b] for b in word.encode("utf-8")]
    chars[-1] += END_OF_WORD
    return tuple(chars)


def train_clip_bpe(lines, num_merges):
    """Greedy BPE over word counts: each round merges the most frequent adjacent pair (ties broken by the pair's
    text, so the result is deterministic), skipping pairs whose joined text is already a token. Returns
    (vocab dict token -> id, merges list of (left, right))."""
    table, order = byte_symbols()
    counts = Counter()
    for line in lines:
        text = unicodedata.normalize("NFC", " ".join(line.split())).lower()
        for w in pre_tokenize(text):
            counts[word_symbols(w, table)] += 1
    base = [table[b] for b in order]
    vocab = {t: i for i, t in enumerate(base + [t + END_OF_WORD for t in base])}
    words = [list(w) for w in counts]
    freq = [counts[w] for w in counts]
    merges = []
    pair_counts = Counter()
    where = {}
    for i, w in enumerate(words):
        for p in zip(w, w[1:]):
            pair_counts[p] += freq[i]
            where.setdefault(p, set()).add(i)
    while len(merges) < num_merges:
        best = None
        for p, c in pair_counts.items():
            if c < 2 or p[0] + p[1] in vocab:
                continue
            if best is None or c > best[1] or (c == best[1] and p < best[0]):
                best = (p, c)
        if best is None:
            break
        (left, right), _ = best
        joined = left + right
        merges.append((left, right))
        vocab[joined] = len(vocab)
        for i in sorted(where.get((left, right), ())):
            w = words[i]
            for p in zip(w, w[1:]):
                pair_counts[p] -= freq[i]
            out, k = [], 0
            while k < len(w):
                if k + 1 < len(w) and w[k] == left and w[k + 1] == right:
                    out.append(joined)
                    k += 2
                else:
                    out.append(w[k])
                    k += 1
            words[i] = out
            for p in zip(out, out[1:]):
                pair_counts[p] += freq[i]
                where.setdefault(p, set()).add(i)
        pair_counts = Counter({p: c for p, c in pair_counts.items() if c > 0})
    vocab[BOS] = len(vocab)
    vocab[EOS] = len(vocab)
    return vocab, merges


def write_clip_bpe(folder, vocab, merges):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for left, right in merges:
            f.write(f"{left} {right}\n")


def bpe_encode_word(symbols, ranks):
    """Reference BPE of one word (lowest-rank pair first), for the self-check below."""
    word = list(symbols)
    while len(word) > 1:
        pairs = [(ranks.get(p, 1 << 30), k, p) for k, p in enumerate(zip(word, word[1:]))]
        rank, k, p = min(pairs)
        if rank == 1 << 30:
            break
        word[k:k + 2] = [p[0] + p[1]]
    return word


# ---------------------------------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------------------------------

SUBJECTS = ("cat dog fox owl horse dragon robot astronaut wizard knight girl boy woman man child castle city forest "
            "mountain river lake ocean ship car train bicycle house cottage tower bridge garden flower rose tree "
            "apple banana burger pizza coffee teapot lantern clock book guitar violin piano squirrel rabbit tiger "
            "lion bear panda penguin whale butterfly bee spaceship planet moon sun star galaxy cloud storm sunset "
            "portrait landscape street market temple cathedral village desert island waterfall cave skull mask "
            "crown sword shield armor dress hat umbrella chair table window door mirror candle statue").split()
ADJECTIVES = ("red blue green yellow purple orange black white golden silver ancient futuristic cute tiny giant "
              "beautiful dark bright glowing misty foggy rainy snowy sunny cozy quiet busy old young happy sad "
              "mysterious magical detailed intricate minimalist colorful vibrant pastel neon soft sharp wooden "
              "glass metallic fluffy shiny rusty broken abandoned elegant surreal dreamy epic cinematic").split()
STYLES = ("photo photograph painting drawing sketch illustration render watercolor oil pencil charcoal digital "
          "art concept anime cartoon comic pixel isometric low poly 3d octane unreal engine studio lighting bokeh "
          "macro wide angle close up shot hdr 4k 8k trending artstation highly realistic photorealistic matte "
          "fantasy science fiction baroque impressionist cubist surrealist tarot card yarn ps1 frosting lane").split()
GLUE = "a an the of in on at with and by from under over near behind inside beside holding wearing eating".split()
FOREIGN = ("café naïve über señor façade résumé crème brûlée jalapeño smörgåsbord Ångström garçon "
           "猫 犬 你好 世界 日本語 東京 한국어 서울 привет мир Ελλάδα αθήνα مرحبا").split()
EMOJI = ["😀", "😂", "🔥", "✨", "🎉", "🚀", "🌍", "❤️", "👍🏽", "👨‍👩‍👧", "🐱", "🌸"]
PUNCT = [",", ".", "!", "?", ":", ";", "-", "(", ")", "\"", "'", "...", "--", "&", "#", "@", "%", "+", "/", "*"]


def prompt(rng, long=False):
    parts = []
    for _ in range(rng.randint(18, 40) if long else rng.randint(1, 5)):
        phrase = [rng.choice(GLUE[:3]), rng.choice(ADJECTIVES), rng.choice(SUBJECTS)]
        if rng.random() < 0.5:
            phrase += [rng.choice(GLUE[3:]), rng.choice(GLUE[:3]), rng.choice(SUBJECTS)]
        if rng.random() < 0.4:
            phrase += [rng.choice(STYLES) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.1:
            phrase.append(rng.choice(FOREIGN))
        if rng.random() < 0.08:
            phrase.append(str(rng.randint(0, 2025)))
        if rng.random() < 0.05:
            phrase.append(rng.choice(EMOJI))
        parts.append(" ".join(phrase))
    text = ", ".join(parts)
    if rng.random() < 0.2:
        text = text.capitalize()
    if rng.random() < 0.05:
        text = text.upper()
    return text + rng.choice(["", "", ".", "!", " 4k", ", trending on artstation"])


def training_corpus(seed=1234, lines=4000):
    rng = random.Random(seed)
    return [prompt(rng, long=rng.random() < 0.05) for _ in range(lines)]


HAND_WRITTEN = [
    "a photo of a cat", "A painting of a squirrel eating a burger", "", " ", "   ", "a", "A", "cat", "CAT", "Cat!",
    "a photo of a cat, trending on artstation, 8k, highly detailed",
    "An astronaut riding a horse on the moon, oil painting by Van Gogh",
    "portrait of an old man with a beard, (masterpiece:1.2), [best quality], {sharp focus}",
    "a  photo   of    a cat", "a\tphoto\nof\r\na cat", "  leading and trailing spaces  ", "\n\n\n",
    "it's a dog's life; don't, can't, won't, y'all'd've", "I'M YOU'RE IT'S WE'LL THEY'D", "'s't're've'm'll'd",
    "0", "7", "42", "123", "2024", "3.14159", "-273.15", "1,000,000", "v1.2.3", "x123y", "1st 2nd 3rd 4th",
    "100% off!!!", "!!!", "???", "...", "!?!?", "!a!", "hello!world", "a ! b", "wow!!", "(((cat)))", "cat:1.5",
    "#hashtag @mention $dollar ^caret ~tilde `backtick` |pipe| \\backslash /slash",
    "café naïve façade résumé crème brûlée jalapeño", "Ångström ÅNGSTRÖM über ÜBER", "cafe\u0301 (combining accent)",
    "ﬁne ﬂower (ligatures)", "①②③ ½ ¼ ² ³ ™ ©", "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ １２３", "Ⅻ ⅷ", "ß ẞ straße",
    "猫", "你好，世界！", "一只可爱的猫", "日本語のテキスト、東京タワー", "한국어 텍스트", "Привет, мир!", "Γειά σου κόσμε",
    "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก",
    "😀", "a cat 🐱 in a hat 🎩", "👍🏽👍🏿", "👨‍👩‍👧‍👦 family", "🇺🇸🇯🇵 flags", "❤️ love ✨ sparkle 🔥 fire", "a😀b",
    "<|endoftext|>", "<|startoftext|>", "a cat <|endoftext|> a dog", "<|startoftext|>hello<|endoftext|>",
    "<|ENDOFTEXT|>", "<|endoftext|><|endoftext|>", "x<|endoftext|>y", "<|endoftext", "endoftext|>",
    "</s>", "<pad>", "<unk>", "a cat </s> a dog", "<extra_id_0>", "fill <extra_id_0> the <extra_id_1> blank",
    "\u00a0non-breaking\u00a0space", "zero\u200bwidth", "\u3000ideographic space", "tab\tseparated\tvalues",
    "https://example.com/image.png?w=512&h=512", "user@example.org", "C:\\Users\\art\\image.png", "snake_case_name",
    "camelCaseName", "kebab-case-name", "dots.in.names", "a-b_c.d/e:f", "--no-watermark", "=> -> <= >= != ==",
]


def tokenizer_strings(seed=4321, count=300):
    rng = random.Random(seed)
    strings = list(HAND_WRITTEN)
    for _ in range(6):  # well past 77 CLIP tokens (and past T5's 16)
        strings.append(prompt(rng, long=True))
    while len(strings) < count:
        kind = rng.randrange(6)
        if kind < 3:
            s = prompt(rng)
        elif kind == 3:
            s = rng.choice(PUNCT).join(rng.choice(SUBJECTS + FOREIGN + EMOJI) for _ in range(rng.randint(2, 6)))
        elif kind == 4:
            s = prompt(rng).replace(" ", rng.choice(["  ", "\t", " \n ", "   "]))
        else:
            words = prompt(rng).split()
            k = rng.randrange(len(words) + 1)
            s = " ".join(words[:k] + [rng.choice([EOS, BOS, "</s>", "<pad>", "!", "<extra_id_3>"])] + words[k:])
        strings.append(s)
    seen, unique = set(), []
    for s in strings:
        if s not in seen:
            seen.add(s)
            unique.append(s)
    return unique


def main(folder):
    import time
    t = time.time()
    vocab, merges = train_clip_bpe(training_corpus(), 700)
    write_clip_bpe(folder, vocab, merges)
    ranks = {m: r for r, m in enumerate(merges)}
    table, _ = byte_symbols()
    sample = "a photo of a cat, trending on artstation"
    pieces = [p for w in pre_tokenize(sample) for p in bpe_encode_word(word_symbols(w, table), ranks)]
    assert all(p in vocab for p in pieces), pieces
    assert len(set(vocab.values())) == len(vocab) == 512 + len(merges) + 2
    print(f"vocab {len(vocab)} merges {len(merges)} in {time.time() - t:.1f}s; {sample!r} -> {pieces}")
    print(f"first merges {merges[:8]}; last {merges[-3:]}")
    print(f"{len(tokenizer_strings())} tokenizer strings, e.g. {tokenizer_strings()[-1]!r}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/clip-bpe")
