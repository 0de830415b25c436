"""Device-side oracle for Qzo's tokenizers (issue 5): Hugging Face's own ids on small tokenizers of every kind Qzo reads.

Trains small tokenizers with the `tokenizers` library (and `sentencepiece` when it is importable) on generated text,
saves each in the files a Hub repository ships, and records for ~2,000 varied strings the ids that transformers'
AutoTokenizer.from_pretrained(folder) produces (so BOS/EOS are added as transformers adds them), plus the ids of the
raw `tokenizers` / `sentencepiece` object for comparison. Nothing is downloaded; everything is seeded.

Folders written (each with expected.jsonl.gz and reference.json):
  gpt2-bytelevel/     tokenizer.json + tokenizer_config.json   GPT-2 layout: ByteLevel pre-tokenizer with its regex
  gpt2-vocab-merges/  vocab.json + merges.txt + config         the same model as the classic slow-tokenizer files
  opt-style/          vocab.json + merges.txt + config         OPT: <s> <pad> </s> <unk> = 0..3, add_bos_token with </s>
  llama3-style/       tokenizer.json + config                  Split(Llama-3 regex) + ByteLevel, ignore_merges, BOS template
  qwen2-style/        tokenizer.json + config                  NFC + Split(Qwen2 regex) + ByteLevel, chat special tokens
  llama2-style/       tokenizer.json + config                  SentencePiece-style BPE: Prepend/Replace "▁", byte fallback
  spm-llama/          tokenizer.model + config                 a sentencepiece BPE model (only if sentencepiece imports)
and probes, the same files under other settings (build_probes says what each settles): llama2-class-flags/,
llama2-model-config/, llama3-as-llama-class/, spm-llama-defaults/, spm-llama-scores/.
Real vocabularies, read from the npm fixtures in the repository (tests/tokenizer-fixtures/make-*-fixture.mjs), whose
output folders hold only expected.jsonl.gz and reference.json (the tokenizer files stay in the fixture they came from):
  gemma3/   tests/fixtures/gemma3-tokenizer/   Gemma 3's tokenizer.json (GemmaTokenizer, 262k pieces, byte fallback)
  qwen3/    tests/fixtures/qwen3-tokenizer/    Qwen3's tokenizer.json (Qwen2Tokenizer)
Their lines also hold "decoded": AutoTokenizer's decode(ids_no_special) (special tokens kept).

expected.jsonl.gz (gzip): one {"text", "ids", "ids_no_special"[, "library_ids"]} per line (UTF-8); "ids" / "ids_no_special" are
AutoTokenizer's encode(text) / encode(text, add_special_tokens=False); "library_ids", present only where it differs
from "ids", is the raw library's encode (tokenizers: add_special_tokens=True; sentencepiece: BOS + encode_as_ids).
Qzo's test tests/Qzo.Tests/Text/HfTokenizerOracleTests.cs reads every folder under tests/fixtures/hf-tokenizers/
(HfRealVocabularyOracleTests.cs the real vocabularies').

Run on the device (needs tokenizers, transformers; sentencepiece optional), under 2 minutes, ~4 MB of output:
    python3 tests/oracle/tokenizers_reference.py "$OUT/hf-tokenizers" [folder ...]
then copy the folder to tests/fixtures/hf-tokenizers/ in the repository. Naming folders (e.g. gemma3 qwen3) writes
only those.
Not part of Qzo: nothing in the product needs Python.
"""
import gzip
import io
import json
import os
import random
import shutil
import sys
import time

N_STRINGS = 2000
SEED = 20241123

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")


# ---------------------------------------------------------------------------------------------------------------------
# Text: a training corpus and the test strings, generated with fixed seeds.
# ---------------------------------------------------------------------------------------------------------------------

WORDS = ("the of and to in is that for it as was with be by on not he this are or his from at which but have an they "
         "you were her all she there would their we him been has when who will more no if out so said what up its about "
         "model training token quantized gradient scale llama tokenizer fine tune loss batch learning rate epoch hello "
         "world sentence café naïve über señor привет мир язык модель 你好 世界 学习 日本語 한국어 مرحبا عالم").split()
SYLLABLES = ("ba be bi bo bu ka ke ki ko ku ta te ti to tu ra re ri ro ru na ne ni no nu sa se si so su la le li lo lu "
             "ma me mi mo mu st tr pl gr ch sh th ng er an in on en ar or al").split()
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'VE", "'M", "'LL", "'D", "n't", "'", "'\u017f"]
PUNCT = list(".,!?;:-()[]\"'/&%$#@*+=_|~^`{}<>") + ["--", "...", "…", "->", "=>", "!=", "**"]
SPACES = [" ", " ", " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n", "\n ", "\r", "\u00a0", "\u3000", "\t\n",
          "\u0085", "\ufeff", "\u2028", "\u200b", "    "]
EMOJI = ["😀", "😂", "🥲", "🤔", "👍", "👋🏽", "🙏🏿", "🔥", "✨", "🎉", "🚀", "🌍", "🦙", "❤️", "☀️", "👨‍👩‍👧", "🏳️‍🌈", "🇺🇸", "1️⃣"]
HAND_WRITTEN = [
    "Hello world!", "This is a test sentence.", " Hello", "Hello", "HELLO", "hello\nworld", "Hello\r\nworld", "",
    " ", "  ", "\n", "\n\n\n", "\t", " \t \n ", "a  b   c", "trailing   ", "   leading", "\r\n\r\n", "x \n\n y",
    "Don't, can't, won't, shouldn't've, y'all'd've.", "I'M YOU'RE IT'S WE'LL THEY'D", "it'ſt", "'s't're've'm'll'd",
    "0", "42", "123", "1234", "12345678901234567890", "3.14159", "-273.15", "1,000,000", "v1.2.3", "x123y", "𝟏𝟐𝟑𝟒",
    "٠١٢٣٤٥٦٧٨٩", "①②③", "½", "Ⅻ", "e\u0301", "cafe\u0301", "\u212b", "\u1100\u1161\u11a8", "ﬁ", "ǅ", "ß ẞ",
    "你好，世界！", "日本語のテキスト", "한국어", "مرحبا بالعالم", "שלום", "Привет, мир!", "Γειά σου", "नमस्ते", "สวัสดี",
    "𝐁𝐨𝐥𝐝", "a𝐁c", "x𠀀𠀁 y", "𓀀", "😀", "😀😀 a", "👍🏽", "👨‍👩‍👧‍👦", "🇺🇸🇯🇵", "a😀b",
    "a\ufeff\ufeffb", "\u0085\u0085a", "a\u0085b", "\ufeffBOM", "zero\u200bwidth", "\u00a0nbsp", "\u3000ideographic",
    "\u0000", "\u0001\u0002", "\u007f", "\ue000", "\ufffd", "▁", "a▁b", "▁▁x",
    "def f(x):\n    return x ** 2\n", "for (int i = 0; i < n; i++) { s += a[i]; }", "{\"a\": [1, 2]}",
    "https://example.com/a?b=c&d=e#f", "user@example.org", "<b>bold</b>", "#### Heading", "!!!", "???", "...",
]


def make_corpus(rng, lines):
    lexicon = list(WORDS)
    while len(lexicon) < 3000:
        lexicon.append("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))))
    out = []
    for _ in range(lines):
        words = []
        for _ in range(rng.randint(3, 18)):
            w = lexicon[int(len(lexicon) * rng.random() ** 3)]
            if rng.random() < 0.1:
                w = w.capitalize()
            if rng.random() < 0.05:
                w += rng.choice(CONTRACTIONS[:8])
            if rng.random() < 0.08:
                w += rng.choice(PUNCT[:6])
            if rng.random() < 0.05:
                w = str(rng.randint(0, 99999))
            words.append(w)
        out.append(" ".join(words))
    return out


def random_piece(rng):
    kind = rng.randrange(16)
    if kind < 5:
        w = rng.choice(WORDS)
        return w.upper() if rng.random() < 0.1 else w.capitalize() if rng.random() < 0.2 else w
    if kind == 5:
        return rng.choice(WORDS) + rng.choice(CONTRACTIONS)
    if kind == 6:
        return "".join(rng.choice(PUNCT) for _ in range(rng.randint(1, 3)))
    if kind == 7:
        return str(rng.randint(0, 10 ** rng.randint(1, 20)))
    if kind == 8:
        return "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(rng.randint(1, 4)))
    if kind == 9:
        return "".join(chr(rng.randint(0xAC00, 0xD7A3)) for _ in range(rng.randint(1, 3)))
    if kind == 10:
        return chr(rng.choice([0x00C0, 0x0100, 0x0370, 0x0400, 0x0590, 0x0600, 0x0900, 0x0E00, 0x2000, 0x3040]) + rng.randrange(0x80))
    if kind == 11:
        return chr(rng.choice([0x1D400, 0x20000, 0x1F300, 0x10000, 0x1D7CE]) + rng.randrange(0x300))  # astral letters, digits, symbols
    if kind == 12:
        return rng.choice(EMOJI)
    if kind == 13:
        return rng.choice(SPACES) + rng.choice(SPACES)
    if kind == 14:
        return rng.choice(["e\u0301", "a\u0308", "n\u0303", "\u212b", "\u1100\u1161", "ﬁ", "\u0041\u030a"])  # NFC matters
    return chr(rng.randint(0, 31))


def make_strings(rng, specials):
    strings = list(HAND_WRITTEN)
    for s in specials:
        strings += [s, f"a{s}b", f" {s} ", f"{s}{s}", f"x {s}\n\ny", s[:-1]]
    while len(strings) < N_STRINGS:
        parts = []
        for _ in range(rng.randint(1, 40 if rng.random() < 0.1 else 12)):
            parts.append(random_piece(rng))
            if specials and rng.random() < 0.03:
                parts.append(rng.choice(specials))
            parts.append(" " if rng.random() < 0.7 else rng.choice(["", rng.choice(SPACES)]))
        s = "".join(parts)
        if rng.random() < 0.15:
            s = rng.choice(SPACES) + s
        strings.append(s)
    seen, unique = set(), []
    for s in strings:
        if s not in seen:
            seen.add(s)
            unique.append(s)
    return unique[:N_STRINGS]


# ---------------------------------------------------------------------------------------------------------------------
# Tokenizers
# ---------------------------------------------------------------------------------------------------------------------

def train_bpe(pre_tokenizer, normalizer, corpus, vocab_size, special_tokens, initial_alphabet, limit_alphabet=None):
    from tokenizers import Tokenizer, models, trainers
    tok = Tokenizer(models.BPE())
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    options = dict(vocab_size=vocab_size, min_frequency=2, special_tokens=special_tokens, initial_alphabet=initial_alphabet,
                   show_progress=False)
    if limit_alphabet is not None:  # tokenizers 0.23 refuses limit_alphabet=None ("cannot be interpreted as an integer")
        options["limit_alphabet"] = limit_alphabet
    trainer = trainers.BpeTrainer(**options)
    tok.train_from_iterator(corpus, trainer=trainer)
    return tok


def edit_json(tok, edit):
    """Applies edit(dict) to the tokenizer's JSON and reloads it: the final layout is set explicitly, not left to defaults."""
    from tokenizers import Tokenizer
    d = json.loads(tok.to_str())
    edit(d)
    return Tokenizer.from_str(json.dumps(d, ensure_ascii=False))


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def byte_level_tokenizer(corpus, pattern, special_tokens, vocab_size):
    from tokenizers import pre_tokenizers, normalizers, Regex
    if pattern is None:
        pre = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    else:
        pre = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
                                       pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    norm = normalizers.NFC() if pattern == QWEN2_PATTERN else None
    return train_bpe(pre, norm, corpus, vocab_size, special_tokens, pre_tokenizers.ByteLevel.alphabet())


def build_gpt2(out, corpus):
    from tokenizers import decoders, processors
    tok = byte_level_tokenizer(corpus, None, ["<|endoftext|>"], 3000)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    folders = {}
    d = os.path.join(out, "gpt2-bytelevel")
    os.makedirs(d, exist_ok=True)
    tok.save(os.path.join(d, "tokenizer.json"))
    write_json(os.path.join(d, "tokenizer_config.json"), {"tokenizer_class": "GPT2Tokenizer", "model_max_length": 1024,
               "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"})
    folders["gpt2-bytelevel"] = (tok, ["<|endoftext|>"])
    d = os.path.join(out, "gpt2-vocab-merges")
    os.makedirs(d, exist_ok=True)
    tok.model.save(d)
    write_json(os.path.join(d, "tokenizer_config.json"), {"tokenizer_class": "GPT2Tokenizer", "model_max_length": 1024})
    folders["gpt2-vocab-merges"] = (tok, ["<|endoftext|>"])
    return folders


def build_opt(out, corpus):
    tok = byte_level_tokenizer(corpus, None, ["<s>", "<pad>", "</s>", "<unk>"], 3000)
    d = os.path.join(out, "opt-style")
    os.makedirs(d, exist_ok=True)
    tok.model.save(d)
    special = lambda s: {"content": s, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False, "__type": "AddedToken"}
    write_json(os.path.join(d, "tokenizer_config.json"), {
        "tokenizer_class": "GPT2Tokenizer", "add_bos_token": True, "add_prefix_space": False, "errors": "replace",
        "bos_token": special("</s>"), "eos_token": special("</s>"), "unk_token": special("</s>"), "pad_token": special("<pad>"),
        "model_max_length": 1000000000000000019884624838656})
    return {"opt-style": (tok, ["</s>", "<pad>"])}


LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
                   "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>", "<|start_header_id|>", "<|end_header_id|>",
                   "<|eom_id|>", "<|eot_id|>", "<|python_tag|>"]


def build_llama3(out, corpus):
    from tokenizers import decoders, processors
    tok = byte_level_tokenizer(corpus, LLAMA3_PATTERN, [], 3000)
    base = tok.get_vocab_size()
    tok.add_special_tokens(LLAMA3_SPECIALS)
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
                                      special_tokens=[("<|begin_of_text|>", bos)])])

    def edit(d):
        d["model"]["ignore_merges"] = True
    tok = edit_json(tok, edit)
    d = os.path.join(out, "llama3-style")
    os.makedirs(d, exist_ok=True)
    tok.save(os.path.join(d, "tokenizer.json"))
    write_json(os.path.join(d, "tokenizer_config.json"), {
        "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>",
        "clean_up_tokenization_spaces": True, "model_input_names": ["input_ids", "attention_mask"], "model_max_length": 131072})
    assert bos == base
    return {"llama3-style": (tok, LLAMA3_SPECIALS)}


def build_qwen2(out, corpus):
    from tokenizers import decoders, processors
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = byte_level_tokenizer(corpus, QWEN2_PATTERN, [], 3000)
    tok.add_special_tokens(specials)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    d = os.path.join(out, "qwen2-style")
    os.makedirs(d, exist_ok=True)
    tok.save(os.path.join(d, "tokenizer.json"))
    write_json(os.path.join(d, "tokenizer_config.json"), {
        "tokenizer_class": "Qwen2Tokenizer", "add_prefix_space": False, "bos_token": None, "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>", "unk_token": None, "errors": "replace", "model_max_length": 32768,
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"], "split_special_tokens": False,
        "clean_up_tokenization_spaces": False})
    return {"qwen2-style": (tok, specials)}


def build_llama2(out, corpus):
    """SentencePiece-style BPE in Llama-2's tokenizer.json layout: <unk> <s> </s>, <0x00>..<0xFF>, then learned tokens."""
    from tokenizers import pre_tokenizers
    tok = train_bpe(pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True), None,
                    corpus, 3000, [], [], limit_alphabet=400)  # rarer characters fall back to bytes
    reserved = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]

    def edit(d):
        learned = sorted(d["model"]["vocab"].items(), key=lambda kv: kv[1])
        vocab = {t: i for i, t in enumerate(reserved)}
        for t, _ in learned:
            vocab.setdefault(t, len(vocab))
        d["model"].update({"vocab": vocab, "unk_token": "<unk>", "byte_fallback": True, "fuse_unk": True, "ignore_merges": False})
        d["added_tokens"] = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                              "normalized": False, "special": True} for i, t in enumerate(reserved[:3])]
        d["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                                                               {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}
        d["pre_tokenizer"] = None
        d["post_processor"] = {"type": "TemplateProcessing",
                               "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                               "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                        {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                               "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
        d["decoder"] = {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
                                                          {"type": "ByteFallback"}, {"type": "Fuse"},
                                                          {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    tok = edit_json(tok, edit)
    d = os.path.join(out, "llama2-style")
    os.makedirs(d, exist_ok=True)
    tok.save(os.path.join(d, "tokenizer.json"))
    write_json(os.path.join(d, "tokenizer_config.json"), {
        "tokenizer_class": "LlamaTokenizer", "add_bos_token": True, "add_eos_token": False, "legacy": True,
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": None, "clean_up_tokenization_spaces": False,
        "model_max_length": 4096})
    return {"llama2-style": (tok, ["<s>", "</s>", "<unk>"])}


def build_sentencepiece(out, corpus):
    try:
        import sentencepiece as spm
    except ImportError:
        print("sentencepiece is not importable: skipping spm-llama (tokenizer.model)")
        return {}
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus), model_writer=model, model_type="bpe", vocab_size=3000, byte_fallback=True,
        normalization_rule_name="identity", remove_extra_whitespaces=False, add_dummy_prefix=True, split_digits=True,
        character_coverage=0.995, num_threads=1, minloglevel=2)
    d = os.path.join(out, "spm-llama")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "tokenizer.model"), "wb") as f:
        f.write(model.getvalue())
    write_json(os.path.join(d, "tokenizer_config.json"), {
        "tokenizer_class": "LlamaTokenizer", "add_bos_token": True, "add_eos_token": False, "legacy": True,
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": None, "clean_up_tokenization_spaces": False})
    sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
    return {"spm-llama": (sp, ["<s>", "</s>", "<unk>"])}


def copy_folder(out, source, name, files, config):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    for f in files:
        with open(os.path.join(out, source, f), "rb") as src, open(os.path.join(d, f), "wb") as dst:
            dst.write(src.read())
    if config is not None:
        write_json(os.path.join(d, "tokenizer_config.json"), config)
    return d


def build_probes(out, folders):
    """The built tokenizers under other settings, each settling a point Qzo took from reading transformers' source:
    llama2-class-flags   tokenizer.json: are add_bos_token/add_eos_token ignored (the file's template kept)? legacy false
    llama2-model-config  the same files plus a config.json with model_type llama: does the model type change the class?
    llama3-as-llama-class a byte-level tokenizer.json named LlamaTokenizerFast: Metaspace over it, or the file's pipeline?
    spm-llama-defaults   tokenizer.model, config naming only the class: BOS by default? legacy's default?
    spm-llama-scores     tokenizer.model with the normal pieces' scores reversed: merges by piece id or by score?"""
    probes = {}
    llama = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
    if "llama2-style" in folders:
        copy_folder(out, "llama2-style", "llama2-class-flags", ["tokenizer.json"],
                    {"tokenizer_class": "LlamaTokenizerFast", "add_bos_token": False, "add_eos_token": True, "legacy": False, **llama})
        probes["llama2-class-flags"] = folders["llama2-style"]
        d = copy_folder(out, "llama2-style", "llama2-model-config", ["tokenizer.json", "tokenizer_config.json"], None)
        write_json(os.path.join(d, "config.json"), {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 3000})
        probes["llama2-model-config"] = folders["llama2-style"]
    if "llama3-style" in folders:
        copy_folder(out, "llama3-style", "llama3-as-llama-class", ["tokenizer.json"],
                    {"tokenizer_class": "LlamaTokenizerFast", "bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"})
        probes["llama3-as-llama-class"] = folders["llama3-style"]
    if "spm-llama" in folders:
        import sentencepiece as spm
        from sentencepiece import sentencepiece_model_pb2
        copy_folder(out, "spm-llama", "spm-llama-defaults", ["tokenizer.model"], {"tokenizer_class": "LlamaTokenizer"})
        probes["spm-llama-defaults"] = folders["spm-llama"]
        proto = sentencepiece_model_pb2.ModelProto()
        with open(os.path.join(out, "spm-llama", "tokenizer.model"), "rb") as f:
            proto.ParseFromString(f.read())
        normal = [p for p in proto.pieces if p.type == 1]  # NORMAL
        for p, score in zip(normal, reversed([p.score for p in normal])):
            p.score = score
        d = copy_folder(out, "spm-llama", "spm-llama-scores", [], {"tokenizer_class": "LlamaTokenizer", "add_bos_token": True,
                        "add_eos_token": False, "legacy": True, **llama})
        with open(os.path.join(d, "tokenizer.model"), "wb") as f:
            f.write(proto.SerializeToString())
        probes["spm-llama-scores"] = (spm.SentencePieceProcessor(model_proto=proto.SerializeToString()), folders["spm-llama"][1])
    return probes


# ---------------------------------------------------------------------------------------------------------------------
# Reference ids
# ---------------------------------------------------------------------------------------------------------------------

REAL_VOCABULARIES = {  # output folder: (fixture folder, special tokens to mix into the strings)
    "gemma3": ("gemma3-tokenizer", ["<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>",
                                    "<start_of_image>", "<image_soft_token>"]),
    "qwen3": ("qwen3-tokenizer", ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_call>"]),
}


def build_real_vocabularies(out, names):
    """The npm fixtures' own files, unpacked (*.gz) into a folder beside the output; returns {name: (lib, specials, source)}."""
    from tokenizers import Tokenizer
    fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
    built = {}
    for name in names:
        fixture, specials = REAL_VOCABULARIES[name]
        source = os.path.join(out, "sources", fixture)  # deleted at the end: not part of the fixture
        os.makedirs(source, exist_ok=True)
        os.makedirs(os.path.join(out, name), exist_ok=True)
        for f in os.listdir(os.path.join(fixtures, fixture)):
            if f == "expected.jsonl":
                continue
            opener = gzip.open if f.endswith(".gz") else open
            with opener(os.path.join(fixtures, fixture, f), "rb") as src, open(os.path.join(source, f.removesuffix(".gz")), "wb") as dst:
                dst.write(src.read())
        built[name] = (Tokenizer.from_file(os.path.join(source, "tokenizer.json")), specials, source)
    return built


def library_ids(lib, text):
    if hasattr(lib, "encode_as_ids"):  # sentencepiece: BOS as the config asks
        return [lib.bos_id()] + lib.encode_as_ids(text)
    return lib.encode(text, add_special_tokens=True).ids


def record(folder, lib, specials, strings, versions, source=None):
    """source: the tokenizer folder when it is not the output folder (the real vocabularies); their lines also get "decoded"."""
    import transformers
    auto = transformers.AutoTokenizer.from_pretrained(source or folder)
    lines, differ = [], 0
    for text in strings:
        ids = auto.encode(text)
        no_special = auto.encode(text, add_special_tokens=False)
        line = {"text": text, "ids": ids, "ids_no_special": no_special}
        if source is not None:
            line["decoded"] = auto.decode(no_special)
        lib_ids = library_ids(lib, text)
        if lib_ids != ids:  # kept only where it differs, to keep the files small
            differ += 1
            line["library_ids"] = lib_ids
        lines.append(json.dumps(line, ensure_ascii=False))
    # gzip (mtime 0, so reruns give the same bytes): the fixtures travel to the GPU machine inside a 64 MiB tree.
    with gzip.GzipFile(os.path.join(folder, "expected.jsonl.gz"), "wb", compresslevel=9, mtime=0) as f:
        f.write(("\n".join(lines) + "\n").encode("utf-8"))
    write_json(os.path.join(folder, "reference.json"), {
        "reference": "ids and ids_no_special: transformers AutoTokenizer.from_pretrained(folder).encode(text[, add_special_tokens=False])",
        "autotokenizer_class": type(auto).__name__, "strings": len(strings), "specials_in_strings": specials,
        "library_ids_differ_from_ids": differ, "bos_token_id": auto.bos_token_id, "eos_token_id": auto.eos_token_id,
        "versions": versions})
    return type(auto).__name__, differ


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out, only = sys.argv[1], set(sys.argv[2:])
    os.makedirs(out, exist_ok=True)
    start = time.time()
    import tokenizers
    import transformers
    versions = {"python": sys.version.split()[0], "tokenizers": tokenizers.__version__, "transformers": transformers.__version__}
    try:
        import sentencepiece
        versions["sentencepiece"] = sentencepiece.__version__
    except ImportError:
        pass
    print(f"versions: {versions}")

    unknown = only - REAL_VOCABULARIES.keys()
    if unknown:
        sys.exit(f"only the real vocabularies can be named ({', '.join(REAL_VOCABULARIES)}), not {', '.join(sorted(unknown))}")
    failures = []
    folders = {}  # name: (library object, specials, tokenizer folder when it is not the output folder)
    if not only:
        corpus = make_corpus(random.Random(SEED), 12000)
        corpus += [s.replace("\n", " ") for s in make_strings(random.Random(SEED + 1), [])[:500]]  # some rare characters
        for build in (build_gpt2, build_opt, build_llama3, build_qwen2, build_llama2, build_sentencepiece, build_probes):
            try:
                built = build_probes(out, folders) if build is build_probes else build(out, corpus)
                folders.update({name: (lib, specials, None) for name, (lib, specials) in built.items()})
            except Exception as e:  # keep going: one broken builder must not hide the others' results
                failures.append(f"{build.__name__}: {type(e).__name__}: {e}")
                print(f"FAILED {failures[-1]}")
    try:
        folders.update(build_real_vocabularies(out, sorted(only or REAL_VOCABULARIES)))
    except Exception as e:
        failures.append(f"build_real_vocabularies: {type(e).__name__}: {e}")
        print(f"FAILED {failures[-1]}")
    for name, (lib, specials, source) in folders.items():
        strings = make_strings(random.Random(f"{SEED}:{name}"), specials)
        try:
            cls, differ = record(os.path.join(out, name), lib, specials, strings, versions, source)
            print(f"{name}: {len(strings)} strings, AutoTokenizer class {cls}, library ids differ on {differ}")
        except Exception as e:
            failures.append(f"{name}: {type(e).__name__}: {e}")
            print(f"FAILED {failures[-1]}")
    shutil.rmtree(os.path.join(out, "sources"), ignore_errors=True)
    size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(out) for f in fs)
    print(f"wrote {out}: {size / 1e6:.1f} MB in {time.time() - start:.0f} s")
    if failures:
        sys.exit("failures:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
