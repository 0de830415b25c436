// Builds tests/fixtures/spm-bpe/ (and spm-bpe-trimmed/) with Debian's sentencepiece tools (apt-get install sentencepiece):
//   tokenizer.model        a genuine SentencePiece BPE model trained by spm_train on generated text, with Llama-2's
//                          settings: byte_fallback, identity normalization, add_dummy_prefix, split_digits, and
//                          remove_extra_whitespaces false (spm-bpe) or true (spm-bpe-trimmed, SentencePiece's default)
//   tokenizer_config.json  LlamaTokenizer, add_bos_token true (as meta-llama/Llama-2-7b-hf)
//   expected.jsonl         {"text", "ids"} per line: spm_encode --output_format=id --extra_options=bos
// Run: node make-spm-fixture.mjs   (from tests/tokenizer-fixtures; needs spm_train / spm_encode on PATH).

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { handWritten, generated, mulberry32 } from "./test-strings.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const work = fs.mkdtempSync(path.join(os.tmpdir(), "qzo-spm-"));

// Training text: one sentence per line (SentencePiece trains on lines), generated with a fixed seed.
const noLineBreaks = (s) => !/[\r\n\u0000\u0085\u2028\u2029]/.test(s) && s.isWellFormed();
// Mostly English-like sentences (so BPE learns real merges), some of the mixed-script generated strings (so rare
// characters stay below the coverage and fall back to bytes).
const rand = mulberry32(4242);
const words = ("the of and to in is that for it as was with be by on not he this are or his from at which but have an they " +
  "you were her all she there would their we him been has when who will more no if out so said what up its about into than " +
  "model training token quantized gradient scale llama tokenizer fine tune loss batch learning rate epoch sentence world hello " +
  "café naïve über señor привет мир язык модель 你好 世界 学习 日本語 한국어").split(" ");
// A lexicon of pseudo-words made of syllables, drawn with a Zipf-like skew, so there are thousands of merges to learn.
const syllables = "ba be bi bo bu ka ke ki ko ku ta te ti to tu ra re ri ro ru na ne ni no nu sa se si so su la le li lo lu ma me mi mo mu st tr pl gr ch sh th ng er an in on en ar or al".split(" ");
const lexicon = [...words];
while (lexicon.length < 4000) {
  let w = "";
  for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) w += syllables[Math.floor(rand() * syllables.length)];
  lexicon.push(w);
}
const english = Array.from({ length: 12000 }, () => {
  const n = 3 + Math.floor(rand() * 15);
  let line = "";
  for (let k = 0; k < n; k++) {
    const w = lexicon[Math.floor(lexicon.length * rand() ** 3)];
    line += (k ? " " : "") + (rand() < 0.1 ? w[0].toUpperCase() + w.slice(1) : w) + (rand() < 0.1 ? [",", ".", "!", "?", ";"][Math.floor(rand() * 5)] : "");
    if (rand() < 0.05) line += " " + Math.floor(rand() * 10000);
  }
  return line;
});
const corpus = [...english, ...generated(300, 4242).map((s) => s.replace(/[\r\n\u0000\u0085\u2028\u2029]+/g, " "))].filter(noLineBreaks);
fs.writeFileSync(path.join(work, "corpus.txt"), corpus.join("\n") + "\n");

// Strings to encode: spm_encode reads one per line, so none may hold a line break. "<s>", "</s>", "<unk>" in the
// text are plain text to SentencePiece but special tokens to Hugging Face, so they are left out as well.
const specials = ["<s>", "</s>", "<unk>"];
const extra = ["Hello world!", "This is a test sentence.", " leading", "  two", "trailing  ", "a  b   c", "\t tab", " ", "", "▁", "▁▁x",
  "1234567890", "x1y22z333", "𠀀 rare", "ǅ", "😀😀😀"];
const seen = new Set();
const texts = [...handWritten, ...extra, ...generated(600, 777)].filter((s) => {
  if (seen.has(s) || !noLineBreaks(s) || specials.some((t) => s.includes(t))) return false;
  seen.add(s);
  return true;
});
fs.writeFileSync(path.join(work, "texts.txt"), texts.join("\n") + "\n");

const variants = [
  { dir: "spm-bpe", removeExtraWhitespaces: false },
  { dir: "spm-bpe-trimmed", removeExtraWhitespaces: true },
];
for (const v of variants) {
  const outDir = path.resolve(here, "../fixtures", v.dir);
  const args = [
    "--input=corpus.txt", `--model_prefix=${v.dir}`, "--model_type=bpe", "--vocab_size=3000",
    "--byte_fallback=true", "--normalization_rule_name=identity", `--remove_extra_whitespaces=${v.removeExtraWhitespaces}`,
    "--add_dummy_prefix=true", "--split_digits=true", "--character_coverage=0.99", "--num_threads=1", "--minloglevel=2",
  ];
  // Relative paths: the model stores its training arguments, and a temporary folder's name would change its bytes.
  execFileSync("spm_train", args, { cwd: work, stdio: ["ignore", "ignore", "inherit"] });
  const model = path.join(work, `${v.dir}.model`);
  const out = execFileSync("spm_encode", [`--model=${model}`, "--output_format=id", "--extra_options=bos", path.join(work, "texts.txt")], { maxBuffer: 1 << 26 })
    .toString("utf8").split("\n");
  if (out[out.length - 1] === "") out.pop();
  if (out.length !== texts.length) throw new Error(`spm_encode gave ${out.length} lines for ${texts.length} texts`);
  const lines = texts.map((text, i) => JSON.stringify({ text, ids: out[i].trim() === "" ? [] : out[i].trim().split(" ").map(Number) }));

  fs.mkdirSync(outDir, { recursive: true });
  fs.copyFileSync(model, path.join(outDir, "tokenizer.model"));
  fs.writeFileSync(path.join(outDir, "tokenizer_config.json"), JSON.stringify({
    add_bos_token: true, add_eos_token: false, bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>", pad_token: null,
    legacy: true, tokenizer_class: "LlamaTokenizer",
  }, null, 2) + "\n");
  fs.writeFileSync(path.join(outDir, "expected.jsonl"), lines.join("\n") + "\n");
  fs.writeFileSync(path.join(outDir, "README.md"),
    `A SentencePiece BPE model trained by \`tests/tokenizer-fixtures/make-spm-fixture.mjs\` (sentencepiece ${spmVersion()}):\n\n` +
    "```sh\nspm_train --input=corpus.txt --model_prefix=m " + args.slice(2).join(" ") + "\n" +
    "spm_encode --model=m.model --output_format=id --extra_options=bos texts.txt   # -> expected.jsonl ids\n```\n\n" +
    `corpus.txt: ${corpus.length} generated lines; texts.txt: the ${texts.length} strings of expected.jsonl, one per line.\n`);
  console.log(`wrote ${outDir}: ${lines.length} expected lines`);
}
fs.rmSync(work, { recursive: true });

function spmVersion() {
  try { return execFileSync("dpkg-query", ["-W", "-f=${Version}", "sentencepiece"]).toString().trim(); } catch { return "unknown version"; }
}
