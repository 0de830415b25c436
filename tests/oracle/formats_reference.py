"""Device-side oracle for Qzo's bitsandbytes 4-bit (NF4/FP4, double quant) and AQLM layouts (issue 7).

Neither bitsandbytes nor aqlm is installed on the GPU machine, so the references here are written in plain PyTorch from
the published layouts (bitsandbytes functional.py + backends/default/ops.py + nn/modules.py Linear4bit/QuantState
.as_dict(packed=True); aqlm inference_lib utils.py _dequantize_weight / unpack_int_data), not imported.

For one checkpoint written by `qzo quantize --method nf4|aqlm` (or tuned by `qzo finetune`) and the weights Qzo
dequantized from it (`qzo inspect CHECKPOINT --dequantize DUMP`), it prints, per quantized linear:
  * max |Qzo − reference| with the reference computed in fp32 (expected 0 up to an fp32 ulp), and
    with the arithmetic the original libraries use (bnb casts to the quant_state dtype; aqlm sums fp16 codebooks
    in fp16 and multiplies by fp16 scales): the rounding those add;
  * bitsandbytes only: whether quant_map is the nf4/fp4 table, nested_quant_map is create_dynamic_map(), and
    the quant_state bytes are exactly json.dumps of their own content;
  * with --source DENSE (the unquantized checkpoint it was made from): bitsandbytes' default-backend quantization
    redone here in torch, compared byte for byte with Qzo's packed weight, absmax and nested tensors; for AQLM the
    relative reconstruction error ‖W − Ŵ‖/‖W‖ of Qzo's codes.
Exit code 1 when an fp32 comparison or a layout check fails.

Run (fixtures made on any machine with Qzo; the script needs torch and safetensors only):
    qzo synth --out fx/dense --hidden 128 --layers 2 --heads 4 --intermediate 256 --vocab 512
    qzo quantize fx/dense fx/nf4-dq --method nf4 --double-quant
    qzo quantize fx/dense fx/fp4 --method nf4 --quant-type fp4 --block-size 128
    qzo quantize fx/dense fx/aqlm-2x8 --method aqlm --scheme 2x8
    qzo quantize fx/dense fx/aqlm-1x16 --method aqlm --scheme 1x16
    for f in nf4-dq fp4 aqlm-2x8 aqlm-1x16; do qzo inspect fx/$f --dequantize fx/$f.dump.safetensors; done
    for f in nf4-dq fp4 aqlm-2x8 aqlm-1x16; do python3 tests/oracle/formats_reference.py fx/$f fx/$f.dump.safetensors --source fx/dense; done
A tuned checkpoint (`qzo finetune fx/nf4-dq ... --out fx/nf4-dq-tuned`) checks the re-encoded double-quant absmax the same way.
"""
import argparse
import json
import os
import sys

import torch
from safetensors.torch import load_file

NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
       -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
       0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
       0.7229568362236023, 1.0]
# FP4 by bit pattern (sign, 2 exponent bits, 1 mantissa bit), normalised by the largest magnitude.
FP4_UNSCALED = [0, 0.0625, 8.0, 12.0, 4.0, 6.0, 2.0, 3.0, 0, -0.0625, -8.0, -12.0, -4.0, -6.0, -2.0, -3.0]
QUANT_STATE = ".weight.quant_state.bitsandbytes__"
FAILURES = []


def table(quant_type):
    if quant_type == "nf4":
        return torch.tensor(NF4, dtype=torch.float32)
    values = torch.tensor(FP4_UNSCALED, dtype=torch.float32)
    return values / values.abs().max()


def dynamic_map():
    """bitsandbytes' signed 8-bit dynamic map: per decade 10^(i-6), the midpoints of 2^i + 1 points spaced evenly
    over [0.1, 1] (float32 linspace), both signs; then 0 and 1; sorted."""
    data = []
    for i in range(7):
        edges = torch.linspace(0.1, 1, 2 ** i + 1, dtype=torch.float32)
        mids = (edges[:-1] + edges[1:]) / 2.0
        decade = 10 ** (i - 6)
        data += (decade * mids).tolist()
        data += (-decade * mids).tolist()
    data += [0, 1.0]
    return torch.tensor(sorted(data), dtype=torch.float32)


def load_checkpoint(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    tensors = {}
    if os.path.exists(index):
        for shard in sorted(set(json.load(open(index))["weight_map"].values())):
            tensors.update(load_file(os.path.join(folder, shard)))
    else:
        tensors.update(load_file(os.path.join(folder, "model.safetensors")))
    config = json.load(open(os.path.join(folder, "config.json")))
    return tensors, config


def torch_dtype(name):
    return {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[name]


def report(name, what, diff, tolerance=None):
    status = ""
    if tolerance is not None:
        ok = diff <= tolerance
        status = "  ok" if ok else "  FAIL"
        if not ok:
            FAILURES.append(f"{name}: {what} {diff:.3e} > {tolerance:.3e}")
    print(f"  {what:<44} {diff:.3e}{status}")


def check(name, what, condition):
    print(f"  {what:<44} {'ok' if condition else 'FAIL'}")
    if not condition:
        FAILURES.append(f"{name}: {what}")


# ---------------------------------------------------------------- bitsandbytes 4-bit

def bnb_absmax(t, prefix, state):
    absmax = t[prefix + ".weight.absmax"]
    if "nested_blocksize" not in state:
        return absmax.float()
    nested = t[prefix + ".weight.nested_absmax"].float()
    code = t[prefix + ".weight.nested_quant_map"].float()
    per_block = nested.repeat_interleave(state["nested_blocksize"])[: absmax.numel()]
    decoded = code[absmax.long()] * per_block  # float32 product, then the float32 offset added (dequantize_blockwise)
    return decoded + torch.tensor(float(state["nested_offset"]), dtype=torch.float32)


def bnb_dequantize(t, prefix, state):
    packed = t[prefix + ".weight"].reshape(-1)
    n = state["shape"][0] * state["shape"][1]
    nibbles = torch.empty(packed.numel() * 2, dtype=torch.long)
    nibbles[0::2] = (packed >> 4).long()  # the first value of each pair sits in the high nibble
    nibbles[1::2] = (packed & 0xF).long()
    values = table(state["quant_type"])[nibbles[:n]]
    scale = bnb_absmax(t, prefix, state).repeat_interleave(state["blocksize"])[:n]
    return (values * scale).reshape(state["shape"])


def bnb_blockwise(values, blocksize):
    """bitsandbytes' default-backend blockwise quantizer: absmax per block, values times the float32 reciprocal
    (divided in a short last block), clamped to [-1, 1], then the index of the nearest code (bucketize on midpoints)."""
    flat = values.reshape(-1).float()
    n = flat.numel()
    full = n - n % blocksize
    blocks = flat[:full].reshape(-1, blocksize)
    absmax = blocks.abs().max(dim=-1)[0]
    scaled = torch.clamp(blocks * (1.0 / absmax.clamp(min=1e-38).view(-1, 1)), -1, 1).reshape(-1)
    if n % blocksize:
        last = flat[full:].abs().max().clamp(min=1e-38)
        absmax = torch.cat([absmax, last.unsqueeze(0)])
        scaled = torch.cat([scaled, torch.clamp(flat[full:] / last, -1, 1)])
    return scaled, absmax


def bnb_requantize(weight, quant_type, blocksize, nested):
    code = table(quant_type)
    order = torch.argsort(code, stable=True)
    bounds = (code[order[:-1]] + code[order[1:]]) / 2
    scaled, absmax = bnb_blockwise(weight, blocksize)
    if scaled.numel() % 2:
        scaled = torch.nn.functional.pad(scaled, (0, 1))
    q = order[torch.bucketize(scaled, bounds)].to(torch.uint8)
    packed = ((q[0::2] << 4) | q[1::2]).unsqueeze(1)
    result = {"weight": packed, "absmax": absmax}
    if nested:
        offset = absmax.mean()
        dmap = dynamic_map()
        scaled2, nested_absmax = bnb_blockwise(absmax - offset, 256)
        result.update(absmax=torch.bucketize(scaled2, (dmap[:-1] + dmap[1:]) / 2).to(torch.uint8),
                      nested_absmax=nested_absmax, offset=offset)
    return result


def check_bnb(t, dump, prefix, state_name, source):
    state = json.loads(bytes(t[state_name].numpy()).decode("utf-8"))
    print(f"{prefix}: bitsandbytes {state['quant_type']} block {state['blocksize']}"
          f"{' double quant' if 'nested_blocksize' in state else ''} {state['shape']}")
    check(prefix, "quant_state bytes == json.dumps(content)", json.dumps(state).encode("utf-8") == bytes(t[state_name].numpy()))
    check(prefix, "quant_map is the type's table", torch.equal(t[prefix + ".weight.quant_map"].float(), table(state["quant_type"])))
    if "nested_blocksize" in state:
        # torch.linspace's last bit depends on the build and CPU (its vectorized path rounds differently), so
        # create_dynamic_map() itself varies by an ulp between installs; loaders use the stored map either way.
        # (Seen: up to 2 ulps in 44 of 256 entries between torch 1.13 here and Qzo's scalar linspace.) Reported, not failed.
        stored, ours = t[prefix + ".weight.nested_quant_map"].float(), dynamic_map()
        ulp = torch.nextafter(ours.abs(), torch.tensor(float("inf"))) - ours.abs()
        differing = (stored != ours).sum().item()
        report(prefix, f"nested_quant_map vs create_dynamic_map(), ulps", ((stored - ours).abs() / ulp).max().item())
        print(f"  {'  entries that differ':<44} {differing} of 256")
    reference = bnb_dequantize(t, prefix, state)
    ours = dump[prefix + ".weight"].float()
    report(prefix, "max |Qzo - reference| (fp32)", (ours - reference).abs().max().item(), 1e-6 * reference.abs().max().item())
    as_dtype = reference.to(torch_dtype(state["dtype"])).float()
    report(prefix, f"max |Qzo - reference cast to {state['dtype']}|", (ours - as_dtype).abs().max().item())
    if source is not None:
        redone = bnb_requantize(source[prefix + ".weight"], state["quant_type"], state["blocksize"], "nested_blocksize" in state)
        stored = t[prefix + ".weight"]
        print(f"  packed bytes differing from bnb's quantizer      {(redone['weight'] != stored).sum().item()} of {stored.numel()}")
        print(f"  absmax entries differing                          {(redone['absmax'] != t[prefix + '.weight.absmax']).sum().item()}")
        if "nested_blocksize" in state:
            report(prefix, "nested_absmax max difference", (redone["nested_absmax"] - t[prefix + ".weight.nested_absmax"]).abs().max().item())
            report(prefix, "nested_offset difference", abs(redone["offset"].item() - float(state["nested_offset"])))


# ---------------------------------------------------------------- AQLM

def aqlm_dequantize(codes, codebooks, scales, nbits, dtype):
    """W[O·r + a, I·k + j] = scales[r] · Σ_c codebooks[c, codes[r, k, c] mod 2^bits, a, j], summed in `dtype`."""
    codes = codes.long() % (2 ** nbits)
    books = codebooks.to(dtype)
    out_groups, in_groups, num_codebooks = codes.shape
    _, _, o, i = books.shape
    groups = torch.zeros(out_groups, in_groups, o, i, dtype=dtype)
    for c in range(num_codebooks):
        groups = groups + books[c][codes[:, :, c]]
    groups = groups * scales.to(dtype)  # [out_groups, 1, 1, 1] broadcasts over the group
    return groups.permute(0, 2, 1, 3).reshape(out_groups * o, in_groups * i)


def check_aqlm(t, dump, prefix, config, source):
    nbits = config["nbits_per_codebook"]
    codes, books, scales = t[prefix + ".codes"], t[prefix + ".codebooks"], t[prefix + ".scales"]
    print(f"{prefix}: AQLM {config['num_codebooks']}x{nbits} codes {list(codes.shape)} {codes.dtype}, codebooks {list(books.shape)} {books.dtype}")
    check(prefix, "codes dtype is aqlm's get_int_dtype", codes.dtype == (torch.int8 if nbits <= 8 else torch.int16))
    reference = aqlm_dequantize(codes, books.float(), scales.float(), nbits, torch.float32)
    ours = dump[prefix + ".weight"].float()
    report(prefix, "max |Qzo - reference| (fp32)", (ours - reference).abs().max().item(), 1e-6 * reference.abs().max().item())
    in_fp16 = aqlm_dequantize(codes, books, scales, nbits, torch.float16).float()
    report(prefix, "max |Qzo - reference in fp16 (aqlm's)|", (ours - in_fp16).abs().max().item())
    if source is not None:
        w = source[prefix + ".weight"].float()
        print(f"  relative error |W - W_hat|/|W|                   {((w - ours).norm() / w.norm()).item():.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("dump", help="qzo inspect CHECKPOINT --dequantize DUMP")
    parser.add_argument("--source", help="the unquantized checkpoint the quantized one was made from")
    args = parser.parse_args()
    t, config = load_checkpoint(args.checkpoint)
    dump = load_file(args.dump)
    source = load_checkpoint(args.source)[0] if args.source else None
    quant = config.get("quantization_config", {})
    method = quant.get("quant_method")
    print(f"{args.checkpoint}: quant_method {method}; torch {torch.__version__}")
    linears = 0
    for name in sorted(t):
        if method == "bitsandbytes" and QUANT_STATE in name:
            check_bnb(t, dump, name[: name.index(QUANT_STATE)], name, source)
            linears += 1
        elif method == "aqlm" and name.endswith(".codes"):
            check_aqlm(t, dump, name[: -len(".codes")], quant, source)
            linears += 1
    check("checkpoint", f"{linears} quantized linears, {len(dump)} dumped", linears == len(dump) and linears > 0)
    print(f"{len(FAILURES)} failures" + "".join(f"\n  {f}" for f in FAILURES))
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
