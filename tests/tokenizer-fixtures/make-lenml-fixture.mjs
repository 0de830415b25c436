// Shared by make-gemma3-fixture.mjs and make-qwen3-fixture.mjs: copies a @lenml/tokenizer-* package's tokenizer.json and
// tokenizer_config.json into a fixture folder (gzipped: the tree travels to the GPU machine, 64 MiB at most, and
// TokenizerFixture unpacks *.gz) and writes expected.jsonl: {"text", "ids"} per line, the ids @lenml/tokenizers 3.7.2
// (transformers.js's pipeline run on the shipped files) computes.

import zlib from "node:zlib";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TokenizerLoader } from "@lenml/tokenizers";
import { handWritten, generated, regexEngineDifference } from "./test-strings.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const version = (dir) => JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version;
export function check(cond, what) { if (!cond) throw new Error(`check failed: ${what}`); }
export const sameIds = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Loads the package's files; returns them with the @lenml/tokenizers encoder built over them. */
export function loadPackage(name, expectedVersion) {
  const pkg = path.join(here, "node_modules/@lenml", name);
  check(version(pkg) === expectedVersion, `@lenml/${name} ${expectedVersion}`);
  check(version(path.join(here, "node_modules/@lenml/tokenizers")) === "3.7.2", "@lenml/tokenizers 3.7.2");
  const tokenizerJson = fs.readFileSync(path.join(pkg, "models/tokenizer.json"));
  const tokenizerConfig = fs.readFileSync(path.join(pkg, "models/tokenizer_config.json"));
  const hf = TokenizerLoader.fromPreTrained({ tokenizerJSON: JSON.parse(tokenizerJson), tokenizerConfig: JSON.parse(tokenizerConfig) });
  return { tokenizerJson, tokenizerConfig, hf };
}

/**
 * Writes the fixture. Strings where JavaScript's regex engine and Oniguruma differ are left out when the file's
 * pre-tokenizer is a regex (byteLevel), as in the other byte-level fixtures; so are lone surrogates and duplicates.
 */
export function writeFixture({ folder, tokenizerJson, tokenizerConfig, hf, extraStrings, generatedCount, seed, byteLevel }) {
  const outDir = path.resolve(here, "../fixtures", folder);
  const lines = [];
  const excluded = { regexEngine: 0, loneSurrogate: 0, duplicate: 0 };
  const seen = new Set();
  for (const text of [...handWritten, ...extraStrings, ...generated(generatedCount, seed)]) {
    if (seen.has(text)) { excluded.duplicate++; continue; }
    seen.add(text);
    if (!text.isWellFormed()) { excluded.loneSurrogate++; continue; }
    if (byteLevel && regexEngineDifference(text)) { excluded.regexEngine++; continue; }
    lines.push(JSON.stringify({ text, ids: hf.encode(text) }));
  }
  fs.mkdirSync(outDir, { recursive: true });
  const gz = (bytes) => zlib.gzipSync(bytes, { level: 9 });
  fs.writeFileSync(path.join(outDir, "tokenizer.json.gz"), gz(tokenizerJson));
  fs.writeFileSync(path.join(outDir, "tokenizer_config.json.gz"), gz(tokenizerConfig));
  fs.writeFileSync(path.join(outDir, "expected.jsonl"), lines.join("\n") + "\n");
  const size = fs.readdirSync(outDir).reduce((sum, f) => sum + fs.statSync(path.join(outDir, f)).size, 0);
  console.log(`wrote ${outDir}: ${lines.length} expected lines, ${size} bytes; excluded: ${JSON.stringify(excluded)}`);
}
