#!/usr/bin/env python3
"""Writes a synthetic SST-2 dataset for timing `qzo finetune --task sst2` where nothing can be downloaded.

The files have glue/sst2's layout and schema (train.jsonl, validation.jsonl, test.jsonl; columns sentence, label, idx;
the test split unlabelled, -1) and its sizes (67,349 / 872 / 1,821 rows), so MeZO's sampling (1,000 train and 500 dev
rows from train, test = the first 1,000 of a permuted validation split, i.e. all 872) picks the same counts as on the
real data. The TEXT IS SYNTHETIC: only its length is modelled, so a run on it measures time, never accuracy.

Lengths: SST-2's validation sentences have about 19.5 words on average (2 to ~55), the GLUE train split holds phrases
as well as sentences (about 9.4 words on average). A step's time depends on tokens, not words, and a model synthesized
by `qzo synth` has a tokenizer learned from a few KB of English, which splits most words into 2-4 pieces where Llama-2's
takes ~1.3. So each row's length is drawn in words, turned into the Llama-2 token count it would have (1.3 tokens per
word), and the sentence is built from words of the synthesized tokenizer (single-token words and longer review words)
until it has that many tokens under it; the template " It was" and the answer are counted in, so that the training
sequence (<s> sentence It was great) is as long as Llama-2's would be. The token counts come from a small BPE encoder
of the checkpoint's tokenizer.json below (Llama-2's pipeline: "▁" for spaces, merges by rank, byte fallback);
`--check QZO` compares it with `qzo tokenize` on a few rows.

Usage: sst2_data.py --tokenizer MODEL/tokenizer.json --out FOLDER [--train-lengths sentences|phrases] [--seed 0]
"""
import argparse
import json
import os
import random
import subprocess
import sys

SPLITS = {"train": 67349, "validation": 872, "test": 1821}
LLAMA_TOKENS_PER_WORD = 1.3
# Llama-2's tokens for the template and an answer: "▁It", "▁was"; "▁great" / "▁terrible"
LLAMA_TEMPLATE_TOKENS, LLAMA_ANSWER_TOKENS = 2, 1
TEMPLATE, ANSWERS = " It was", {0: " terrible", 1: " great"}
# word-length models (gamma, clipped): mean, standard deviation, smallest, largest
LENGTHS = {"sentences": (19.5, 9.5, 2, 55), "phrases": (9.4, 8.5, 1, 52)}

COMMON = ("the and of to in on it is that as with for at by be was are has its this an one so more when who even "
          "still every many first new good time day year people they he she we you your them their me no any some "
          "about after along under across down from can will make feel run read open turn old few full slow early "
          "almost exactly different").split()
REVIEW = ("film movie story characters performance performances director script plot cast acting screenplay comedy "
          "drama thriller sequel scenes moments dialogue narrative audience viewers ending soundtrack cinematography "
          "-- 's n't , , , . ' ` -lrb- -rrb- ...").split()
POSITIVE = ("charming funny moving touching gorgeous clever witty entertaining delightful heartfelt beautifully "
            "compelling engaging remarkable brilliant refreshing powerful thoughtful enjoyable wonderful").split()
NEGATIVE = ("dull tedious boring predictable clumsy pointless forgettable lifeless shallow mediocre painful "
            "pretentious bland sluggish incoherent tiresome awkward uninspired stale unfunny").split()


class Bpe:
    """Token counts of Llama-2-style BPE (tokenizer.json: "▁" for spaces, merges by rank, byte fallback)."""

    def __init__(self, path):
        model = json.load(open(path, encoding="utf-8"))["model"]
        if model.get("type") != "BPE":
            raise SystemExit(f"{path}: model type {model.get('type')!r}, expected BPE")
        self.vocab = model["vocab"]
        merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model["merges"]]
        self.ranks = {pair: rank for rank, pair in enumerate(merges)}
        self.cache = {}

    def word(self, piece):
        """Tokens of one "▁word" piece."""
        if piece not in self.cache:
            symbols = list(piece)
            while len(symbols) > 1:
                pairs = [(self.ranks.get((a, b), 1 << 60), i) for i, (a, b) in enumerate(zip(symbols, symbols[1:]))]
                rank, i = min(pairs)
                if rank == 1 << 60:
                    break
                symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
            self.cache[piece] = sum(1 if s in self.vocab else len(s.encode("utf-8")) for s in symbols)
        return self.cache[piece]

    def text(self, text):
        """Tokens of a text without <s>: " " becomes "▁" and one "▁" is put in front."""
        return sum(self.word("▁" + w) for w in text.split(" "))


def draw_words(rng, model):
    mean, sd, low, high = LENGTHS[model]
    shape = (mean / sd) ** 2
    return min(high, max(low, round(rng.gammavariate(shape, mean / shape))))


def sentence(rng, bpe, words, tokens, label, singles, longer):
    """`words` words (fewer when the tokens run out) holding about `tokens` tokens of `bpe`."""
    flavour = POSITIVE if label == 1 else NEGATIVE
    out, used = [], 0
    for i in range(words):
        left_words, extra = words - i, tokens - used - (words - i)
        w = rng.choice(singles)
        if extra > 0 and rng.random() < min(1.0, 2.0 * extra / left_words):
            fits = [c for c in (flavour if rng.random() < 0.4 else longer) if bpe.word("▁" + c) - 1 <= extra]
            if fits:
                w = rng.choice(fits)
        out.append(w)
        used += bpe.word("▁" + w)
    return " ".join(out), used


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def stats(values):
    return {"mean": round(sum(values) / len(values), 2), "median": percentile(values, 0.5),
            "p90": percentile(values, 0.9), "min": min(values), "max": max(values)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tokenizer", required=True, help="the synthesized checkpoint's tokenizer.json")
    p.add_argument("--out", required=True, help="folder for train.jsonl, validation.jsonl, test.jsonl, lengths.json")
    p.add_argument("--train-lengths", choices=sorted(LENGTHS), default="sentences",
                   help="train split lengths: sentences (SST-2's ~19.5 words, the default) or phrases (GLUE's train, ~9.4)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--check", metavar="QZO", help="command that runs qzo (e.g. 'qzo'): compare the counts with qzo tokenize")
    a = p.parse_args()
    if not os.path.isfile(a.tokenizer):
        raise SystemExit(f"{a.tokenizer}: not found (the synthesized checkpoint's tokenizer.json)")
    bpe = Bpe(a.tokenizer)
    singles = [w for w in COMMON if bpe.word("▁" + w) == 1]
    if len(singles) < 10:
        raise SystemExit(f"{a.tokenizer}: only {len(singles)} of the common words are single tokens; not a qzo synth tokenizer?")
    longer = [w for w in REVIEW + POSITIVE + NEGATIVE if bpe.word("▁" + w) > 1]
    template = bpe.text(TEMPLATE.strip())
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    summary = {"synthetic": True, "note": "synthetic text with SST-2's schema, sizes and lengths; only timing is meaningful",
               "train_lengths": a.train_lengths, "llama_tokens_per_word": LLAMA_TOKENS_PER_WORD,
               "single_token_words": len(singles), "splits": {}}
    checks = []
    for split, rows in SPLITS.items():
        model = a.train_lengths if split == "train" else "sentences"
        words, sequence = [], []
        with open(os.path.join(a.out, split + ".jsonl"), "w", encoding="utf-8") as f:
            for idx in range(rows):
                label = rng.random() < 0.55
                n = draw_words(rng, model)
                answer = bpe.text(ANSWERS[int(label)].strip())
                llama = round(n * LLAMA_TOKENS_PER_WORD)
                target = max(1, llama + LLAMA_TEMPLATE_TOKENS + LLAMA_ANSWER_TOKENS - template - answer)
                text, used = sentence(rng, bpe, n, target, int(label), singles, longer)
                words.append(len(text.split(" ")))
                sequence.append(1 + used + template + answer)  # <s> sentence It was answer
                if len(checks) < 4 and split == "validation":
                    checks.append((text + TEMPLATE + ANSWERS[int(label)], sequence[-1]))
                f.write(json.dumps({"sentence": text, "label": int(label) if split != "test" else -1, "idx": idx}) + "\n")
        summary["splits"][split] = {"rows": rows, "words": stats(words), "sequence_tokens": stats(sequence)}
    if a.check:
        for text, expected in checks:
            ids = json.loads(subprocess.run(a.check.split() + ["tokenize", "--tokenizer", os.path.dirname(a.tokenizer), text],
                                            check=True, capture_output=True, text=True).stdout)
            if len(ids) != expected:
                raise SystemExit(f"token count of {text!r}: qzo tokenize {len(ids)}, this encoder {expected}")
        summary["checked_with_qzo_tokenize"] = len(checks)
    json.dump(summary, open(os.path.join(a.out, "lengths.json"), "w"), indent=1)
    for split, s in summary["splits"].items():
        print(f"{split:10} {s['rows']:6} rows  words mean {s['words']['mean']:5} max {s['words']['max']:3}  "
              f"tokens (<s> + prompt + answer) mean {s['sequence_tokens']['mean']:5} p90 {s['sequence_tokens']['p90']:3} "
              f"max {s['sequence_tokens']['max']:3}")
    print("SYNTHETIC text with SST-2's schema and lengths: the run's timing is meaningful, its accuracy is not")


if __name__ == "__main__":
    sys.exit(main())
