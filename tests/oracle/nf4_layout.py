"""bitsandbytes' 4-bit blockwise layout (Linear4bit's state dict, QuantState.as_dict(packed=True)) decoded in plain torch:
the pieces that tests/oracle/sd3_nf4_check.py checks and bench/sd3_zo_peer.py computes with. Torch only; not part of Qzo.

Per quantized linear <m>:
  <m>.weight                          uint8 [ceil(n/2), 1]: codes, two per byte, the first in the high nibble
  <m>.weight.absmax                   float32 [blocks], or uint8 [blocks] when double-quantized
  <m>.weight.nested_absmax            float32 [ceil(blocks/nested_blocksize)]   (double quant only)
  <m>.weight.nested_quant_map         float32 [256]                             (double quant only)
  <m>.weight.quant_map                float32 [16]: the NF4 or FP4 table
  <m>.weight.quant_state.bitsandbytes__<nf4|fp4>  uint8: json.dumps({quant_type, blocksize, dtype, shape[, nested_*]})
W[k] = table[code k] * absmax[k // blocksize], absmax = nested_quant_map[absmax_code] * nested_absmax[b // nested_blocksize]
+ nested_offset when double-quantized (all in float32), then cast to quant_state's dtype.
"""
import json

import torch

# bitsandbytes functional.get_4bit_type
NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
       -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
       0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
       0.7229568362236023, 1.0]
FP4 = [v / 12.0 for v in [0.0, 0.0625, 8.0, 12.0, 4.0, 6.0, 2.0, 3.0, -0.0, -0.0625, -8.0, -12.0, -4.0, -6.0, -2.0, -3.0]]
TABLES = {"nf4": NF4, "fp4": FP4}
DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}
STATE = ".weight.quant_state.bitsandbytes__"
QUANT_MAP = ".weight.quant_map"


def quantized_modules(tensors):
    """Names of the quantized linears of a state dict, sorted: those with a <m>.weight.quant_map tensor."""
    return sorted(k[:-len(QUANT_MAP)] for k in tensors if k.endswith(QUANT_MAP))


def quant_state_keys(tensors, module):
    return [k for k in tensors if k.startswith(module + STATE)]


def read_quant_state(tensor):
    """(dict, raw bytes) of a quant_state tensor: uint8 bytes of a json object."""
    raw = bytes(tensor.reshape(-1).tolist())
    return json.loads(raw), raw


def unpack_codes(packed, n):
    """The n 4-bit codes of a packed uint8 tensor (any shape), high nibble first, as int64 [n]."""
    flat = packed.reshape(-1).to(torch.int64)
    return torch.stack([flat >> 4, flat & 0xF], dim=1).reshape(-1)[:n]


def decode_nested_absmax(codes, nested_absmax, nested_map, nested_blocksize, offset):
    """Double quantization's absmax in float32: nested_map[code] * nested_absmax[b // nested_blocksize] + offset."""
    index = torch.arange(codes.numel(), device=codes.device) // nested_blocksize
    return nested_map.float()[codes.reshape(-1).to(torch.int64)] * nested_absmax.float()[index] + offset


def absmax_float(tensors, module, state):
    """A quantized linear's per-block absmax as float32 [blocks], decoded if double-quantized."""
    absmax = tensors[module + ".weight.absmax"]
    if "nested_blocksize" not in state:
        return absmax.reshape(-1).to(torch.float32)
    return decode_nested_absmax(absmax, tensors[module + ".weight.nested_absmax"],
                                tensors[module + ".weight.nested_quant_map"], state["nested_blocksize"],
                                state["nested_offset"])
