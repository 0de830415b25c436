// Builds tests/fixtures/t5-unigram/ with Debian's sentencepiece tools (apt-get install sentencepiece): a T5-style
// tokenizer folder as the Hub ships one (SD3.5's tokenizer_3/, google/t5-v1_1-*):
//   spiece.model           a genuine SentencePiece Unigram model trained by spm_train with T5's settings: pad 0, eos 1,
//                          unk 2, no bos, the default nmt_nfkc normalization (a precompiled character map),
//                          add_dummy_prefix, remove_extra_whitespaces, no byte fallback
//   tokenizer.json         the pipeline transformers 5's T5Tokenizer builds and save_pretrained writes, filled in from
//                          spiece.model by this script: Unigram over the pieces (scores as written) followed by the 100
//                          <extra_id_N> sentinels (<extra_id_99> first), unk_id 2; Precompiled normalizer with the
//                          model's character map; WhitespaceSplit + Metaspace("▁", always, split); "$A </s>" template
//   tokenizer_config.json  T5Tokenizer, extra_ids 100, the special tokens and added_tokens_decoder
//   special_tokens_map.json
//   expected.jsonl         {"text", "ids"} per line: spm_encode --output_format=id --extra_options=eos
// Run: node make-t5-fixture.mjs   (from tests/tokenizer-fixtures; needs spm_train / spm_encode on PATH).

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { handWritten, generated, mulberry32 } from "./test-strings.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(here, "../fixtures/t5-unigram");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "qzo-t5-"));
const noLineBreaks = (s) => !/[\r\n\u0000\u0085\u2028\u2029]/.test(s) && s.isWellFormed();

// Training text: English-like sentences over a pseudo-word lexicon (so the Unigram model learns real pieces), plus
// mixed-script strings (rare characters stay below the coverage and come out as <unk>).
const rand = mulberry32(5151);
const words = ("the of and to in is that for it as was with be by on not he this are or his from at which but have an they " +
  "you were her all she there would their we him been has when who will more no if out so said what up its about into than " +
  "photo painting of a cat dog astronaut riding horse on mars highly detailed cinematic lighting portrait landscape " +
  "café naïve über señor привет мир 你好 世界").split(" ");
const syllables = "ba be bi bo bu ka ke ki ko ku ta te ti to tu ra re ri ro ru na ne ni no nu sa se si so su la le li lo lu ma me mi mo mu st tr pl gr ch sh th ng er an in on en ar or al".split(" ");
const lexicon = [...words];
while (lexicon.length < 3000) {
  let w = "";
  for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) w += syllables[Math.floor(rand() * syllables.length)];
  lexicon.push(w);
}
const english = Array.from({ length: 10000 }, () => {
  const n = 3 + Math.floor(rand() * 15);
  let line = "";
  for (let k = 0; k < n; k++) {
    const w = lexicon[Math.floor(lexicon.length * rand() ** 3)];
    line += (k ? " " : "") + (rand() < 0.1 ? w[0].toUpperCase() + w.slice(1) : w) + (rand() < 0.1 ? [",", ".", "!", "?", ";"][Math.floor(rand() * 5)] : "");
    if (rand() < 0.05) line += " " + Math.floor(rand() * 10000);
  }
  return line;
});
const corpus = [...english, ...generated(300, 5151).map((s) => s.replace(/[\r\n\u0000\u0085\u2028\u2029]+/g, " "))].filter(noLineBreaks);
fs.writeFileSync(path.join(work, "corpus.txt"), corpus.join("\n") + "\n");

// Strings to encode, one per line for spm_encode (so none holds a line break). "<pad>", "</s>", "<unk>" and the
// sentinels are plain text to SentencePiece but special tokens to Hugging Face: left out.
const specials = ["<pad>", "</s>", "<unk>", "<extra_id_"];
const extra = ["a photo of a cat", "A PHOTO OF A CAT", " leading", "  two", "trailing  ", "a  b   c", "\t tab", " ", "", "▁", "▁▁x", "a▁b",
  "ＡＢＣ ｆｕｌｌｗｉｄｔｈ １２３", "ﬁnance ﬂower", "①②③ ⑴ ㈱", "e\u0301 a\u0308", "Ａ\u0301", "x\u00a0y", "x\u3000y", "x\u2003y", "x\u200by",
  "soft\u00adhyphen", "\u0001\u0002ctrl", "\u007f", "ǅ ǆ", "™ ℃ ㎏", "Ⅻ", "…", "“quotes” ‘single’", "𝐁𝐨𝐥𝐝", "😀 😀😀", "가나다",
  "a\ttab", "\t\tx\t\t", "end.  ", "x \u00a0 y", "\u3000lead", "trail\u3000"];
const seen = new Set();
const texts = [...handWritten, ...extra, ...generated(500, 919)].filter((s) => {
  if (seen.has(s) || !noLineBreaks(s) || specials.some((t) => s.includes(t))) return false;
  seen.add(s);
  return true;
});
fs.writeFileSync(path.join(work, "texts.txt"), texts.join("\n") + "\n");

const args = [
  "--input=corpus.txt", "--model_prefix=spiece", "--model_type=unigram", "--vocab_size=2000",
  "--pad_id=0", "--eos_id=1", "--unk_id=2", "--bos_id=-1", "--character_coverage=0.995", "--num_threads=1", "--minloglevel=2",
];
// Relative paths: the model stores its training arguments, and a temporary folder's name would change its bytes.
execFileSync("spm_train", args, { cwd: work, stdio: ["ignore", "ignore", "inherit"] });
const modelPath = path.join(work, "spiece.model");
const out = execFileSync("spm_encode", [`--model=${modelPath}`, "--output_format=id", "--extra_options=eos", path.join(work, "texts.txt")],
  { maxBuffer: 1 << 26 }).toString("utf8").split("\n");
if (out[out.length - 1] === "") out.pop();
if (out.length !== texts.length) throw new Error(`spm_encode gave ${out.length} lines for ${texts.length} texts`);
const lines = texts.map((text, i) => JSON.stringify({ text, ids: out[i].trim() === "" ? [] : out[i].trim().split(" ").map(Number) }));

// The parts of ModelProto the tokenizer.json needs: pieces (field 1: piece 1, score 2, type 3) and
// normalizer_spec.precompiled_charsmap (field 3, then 2).
const model = fs.readFileSync(modelPath);
const { pieces, charsmap } = readModel(model);
const extraIds = 100;
const sentinels = Array.from({ length: extraIds }, (_, k) => `<extra_id_${extraIds - 1 - k}>`);
const vocab = [...pieces.map((p) => [p.piece, p.score]), ...sentinels.map((s) => [s, 0])];
const addedToken = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
const added = [addedToken(0, "<pad>"), addedToken(1, "</s>"), addedToken(2, "<unk>"), ...sentinels.map((s, k) => addedToken(pieces.length + k, s))];
const tokenizerJson = {
  version: "1.0", truncation: null, padding: null, added_tokens: added,
  normalizer: { type: "Precompiled", precompiled_charsmap: charsmap.toString("base64") },
  pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "WhitespaceSplit" }, { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true }] },
  post_processor: {
    type: "TemplateProcessing",
    single: [{ Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
    pair: [{ Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }, { Sequence: { id: "B", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
    special_tokens: { "</s>": { id: "</s>", ids: [1], tokens: ["</s>"] } },
  },
  decoder: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true },
  model: { type: "Unigram", unk_id: 2, vocab, byte_fallback: false },
};
const decoderEntry = (content) => ({ content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true });
const addedTokensDecoder = Object.fromEntries(added.map((t) => [String(t.id), decoderEntry(t.content)]));
const config = {
  added_tokens_decoder: addedTokensDecoder, additional_special_tokens: [...sentinels].reverse(), clean_up_tokenization_spaces: true,
  eos_token: "</s>", extra_ids: extraIds, model_max_length: 512, pad_token: "<pad>", tokenizer_class: "T5Tokenizer", unk_token: "<unk>",
};

fs.mkdirSync(outDir, { recursive: true });
fs.copyFileSync(modelPath, path.join(outDir, "spiece.model"));
fs.writeFileSync(path.join(outDir, "tokenizer.json"), JSON.stringify(tokenizerJson, null, 2) + "\n");
fs.writeFileSync(path.join(outDir, "tokenizer_config.json"), JSON.stringify(config, null, 2) + "\n");
fs.writeFileSync(path.join(outDir, "special_tokens_map.json"), JSON.stringify({
  additional_special_tokens: [...sentinels].reverse(), eos_token: "</s>", pad_token: "<pad>", unk_token: "<unk>",
}, null, 2) + "\n");
fs.writeFileSync(path.join(outDir, "expected.jsonl"), lines.join("\n") + "\n");
fs.writeFileSync(path.join(outDir, "README.md"),
  `A SentencePiece Unigram model trained by \`tests/tokenizer-fixtures/make-t5-fixture.mjs\` (sentencepiece ${spmVersion()}) with T5's\n` +
  "special ids, and the tokenizer.json / tokenizer_config.json transformers 5's T5Tokenizer would save for it:\n\n" +
  "```sh\nspm_train --input=corpus.txt --model_prefix=spiece " + args.slice(2).join(" ") + "\n" +
  "spm_encode --model=spiece.model --output_format=id --extra_options=eos texts.txt   # -> expected.jsonl ids\n```\n\n" +
  `corpus.txt: ${corpus.length} generated lines; texts.txt: the ${texts.length} strings of expected.jsonl, one per line.\n` +
  `The precompiled character map (nmt_nfkc) is ${charsmap.length} bytes; ${pieces.length} pieces + ${extraIds} sentinels.\n`);
console.log(`wrote ${outDir}: ${lines.length} expected lines, ${pieces.length} pieces, charsmap ${charsmap.length} bytes`);
fs.rmSync(work, { recursive: true });

function readModel(bytes) {
  const result = { pieces: [], charsmap: Buffer.alloc(0) };
  for (const [field, value] of fields(bytes)) {
    if (field === 1) {
      const p = { piece: "", score: 0, type: 1 };
      for (const [f, v] of fields(value)) {
        if (f === 1) p.piece = v.toString("utf8");
        else if (f === 2) p.score = v.readFloatLE(0);
        else if (f === 3) p.type = v;
      }
      result.pieces.push(p);
    } else if (field === 3) {
      for (const [f, v] of fields(value)) if (f === 2) result.charsmap = Buffer.from(v);
    }
  }
  return result;
}

// Protobuf fields of a message: [number, value] with value a varint (number), a length-delimited Buffer, or 4/8 raw bytes.
function* fields(buf) {
  let pos = 0;
  const varint = () => {
    let v = 0n, shift = 0n;
    for (;;) {
      const b = buf[pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const tag = Number(varint());
    const field = tag >> 3, wire = tag & 7;
    if (wire === 0) yield [field, Number(BigInt.asIntN(64, varint()))];
    else if (wire === 2) { const n = Number(varint()); yield [field, buf.subarray(pos, pos + n)]; pos += n; }
    else if (wire === 5) { yield [field, buf.subarray(pos, pos + 4)]; pos += 4; }
    else if (wire === 1) { yield [field, buf.subarray(pos, pos + 8)]; pos += 8; }
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

function spmVersion() {
  try { return execFileSync("dpkg-query", ["-W", "-f=${Version}", "sentencepiece"]).toString().trim(); } catch { return "unknown version"; }
}
