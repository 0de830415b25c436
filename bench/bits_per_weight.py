#!/usr/bin/env python3
"""Bits per weight of the decoder-layer linears, everything they store included (codes, scales, zeros, g_idx,
codebooks, absmax, quant maps). Standard library only.

  bits_per_weight.py stored TEACHER QUANTIZED   what QUANTIZED's safetensors hold for the linears TEACHER has as .weight
  bits_per_weight.py formula OUT IN METHOD ...  the same count for one [OUT, IN] linear, from the format's layout
        (METHOD: bf16 | gptq BITS GROUP | aqlm CODEBOOKS BITS IN_GROUP | nf4 BLOCK DOUBLE_QUANT(0/1))
"""
import glob, json, math, os, re, struct, sys

LINEAR = re.compile(r"^model\.(layers\.\d+\.(self_attn\.(q|k|v|o)_proj|mlp\.(gate|up|down)_proj)|decoder\.layers\.\d+\.(self_attn\.(q|k|v|out)_proj|fc1|fc2))\.weight$")

def tensors(folder):
    for path in sorted(glob.glob(os.path.join(folder, "*.safetensors"))):
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
        for name, info in header.items():
            if name != "__metadata__":
                yield name, info

def stored(teacher, quantized):
    weights = {name[: -len(".weight")]: math.prod(info["shape"]) for name, info in tensors(teacher) if LINEAR.match(name)}
    bits = 0
    for name, info in tensors(quantized):
        prefix = next((p for p in (name.rsplit(".", k)[0] for k in (1, 2, 3)) if p in weights), None)
        if prefix is not None and name != prefix + ".bias":
            begin, end = info["data_offsets"]
            bits += 8 * (end - begin)
    return bits / sum(weights.values())

def formula(out, inp, method, *args):
    n = out * inp
    if method == "bf16":
        return 16.0
    if method == "gptq":  # qweight, qzeros, fp16 scales per (group, output), int32 g_idx per input
        b, g = int(args[0]), int(args[1])
        groups = 1 if g == -1 else math.ceil(inp / g)
        return (b * n + groups * out * (b + 16) + 32 * inp) / n
    if method == "aqlm":  # int8/int16 codes, fp16 codebooks [M, 2^B, 1, I], fp16 scale per output
        m, b, i = int(args[0]), int(args[1]), int(args[2])
        code_bits = 8 if b <= 8 else 16
        return (m * code_bits * n / i + m * 2**b * i * 16 + 16 * out) / n
    if method == "nf4":  # 4-bit codes, fp32 absmax per block (double quant: uint8 + fp32 per 256 blocks + 256-entry map), 16-entry map
        block, double = int(args[0]), args[1] == "1"
        blocks = math.ceil(n / block)
        absmax = 8 * blocks + 32 * math.ceil(blocks / 256) + 256 * 32 if double else 32 * blocks
        return (4 * n + absmax + 16 * 32) / n
    raise SystemExit(f"unknown method {method}")

if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "stored":
        print("%.3f" % stored(sys.argv[2], sys.argv[3]))
    elif len(sys.argv) >= 5 and sys.argv[1] == "formula":
        print("%.3f" % formula(int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:]))
    else:
        raise SystemExit(__doc__)
