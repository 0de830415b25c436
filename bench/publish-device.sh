#!/usr/bin/env bash
# Publishes the device-side binary (.gpu/qzo-device: the qzo CLI plus the GPU tests) for the GPU machine, which has no
# .NET, and trims what the device runs never use, because the tree that travels there is limited to 64 MiB.
# READY_TO_RUN=1 precompiles the code (a start-up without the JIT; 8 minutes to publish on 2 cores, 45 MiB xz'd, not 28).
set -eu
cd "$(dirname "$0")/.."
rm -rf .gpu
dotnet publish tests/Qzo.DeviceTests -c Release -o .gpu -p:EnableCompressionInSingleFile=false \
  -p:QzoReadyToRun=$([ "${READY_TO_RUN:-0}" = 1 ] && echo true || echo false) > /tmp/qzo-publish.log 2>&1 || { tail -20 /tmp/qzo-publish.log; exit 1; }
# HarfBuzz (text shaping for ScottPlot; plots are drawn on the machine that runs `qzo report`), the CLI's own apphost, the
# library's XML docs, and fixtures the device tests do not read.
rm -rf .gpu/libHarfBuzzSharp.so .gpu/Qzo.Cli .gpu/*.pdb .gpu/*.xml .gpu/fixtures/hf-arch .gpu/fixtures/hf-tokenizers
# xz over the uncompressed bundle is far smaller than the bundle's own compression (28 MiB against 44 MiB):
# the device side unpacks it with bench/unpack-device.sh, which every device script calls first.
xz -T0 -6 -f .gpu/qzo-device
# Llama-2's real tokenizer (tests/fixtures/llama2-tokenizer), for bench/sst2-device.sh's model: its verbalizers are one
# token each, as with the real model, where the synthesized tokenizer splits them.
mkdir -p .gpu/tokenizers/llama2
xz -T0 -6 -c tests/fixtures/llama2-tokenizer/tokenizer.json > .gpu/tokenizers/llama2/tokenizer.json.xz
cp tests/fixtures/llama2-tokenizer/tokenizer_config.json .gpu/tokenizers/llama2/
# SkiaSharp's native library (PNG in and out for `qzo imagine`) stays beside the binary, xz'd the same way (9 -> 3 MiB).
[ -f .gpu/libSkiaSharp.so ] && xz -T0 -6 -f .gpu/libSkiaSharp.so
tracked=$(git ls-files -z | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
untracked=$(git ls-files -z --others --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
binary=$(du -sb .gpu | cut -f1)
echo "published .gpu: $((binary >> 20)) MiB; the tree that travels: $(((tracked + untracked + binary) >> 20)) MiB of 64"
