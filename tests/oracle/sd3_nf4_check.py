"""Device-side check of `qzo quantize --method nf4` on a Stable Diffusion 3 pipeline, with torch alone (bitsandbytes
is not installed on the device and cannot be): every quantized component is read back from its safetensors and
dequantized in plain torch as bitsandbytes defines 4-bit blockwise quantization, and its names are checked against the
module trees that diffusers (SD3Transformer2DModel, AutoencoderKL) and transformers (CLIPTextModelWithProjection,
T5EncoderModel) build from the same config.json.

Per quantized linear <m> (bitsandbytes Linear4bit's state dict, QuantState.as_dict(packed=True)):
  <m>.weight                          uint8 [ceil(n/2), 1]: codes, two per byte, the first in the high nibble
  <m>.weight.absmax                   float32 [blocks], or uint8 [blocks] when double-quantized
  <m>.weight.nested_absmax            float32 [ceil(blocks/256)]   (double quant only)
  <m>.weight.nested_quant_map         float32 [256]                (double quant only)
  <m>.weight.quant_map                float32 [16]: the NF4 or FP4 table
  <m>.weight.quant_state.bitsandbytes__<nf4|fp4>  uint8: json.dumps({quant_type, blocksize, dtype, shape[, nested_*]})
Dequantization: W[k] = table[code k] * absmax[k // blocksize], with absmax = nested_quant_map[absmax_code] *
nested_absmax[b // nested_blocksize] + nested_offset when double-quantized; cast to quant_state's dtype.

Checks, per component whose config.json has a bitsandbytes quantization_config:
  1. quantization_config equals the library's BitsAndBytesConfig(...).to_dict() for the same options;
  2. the tensors are exactly the unquantized state dict plus the list above for each quantized linear;
  3. each quant_state's keys, order, shape and dtype; quant_map is the table; the codes are the nearest table entry of
     w / absmax (bitsandbytes' default backend), with absmax = max |w| per block and, double-quantized, offset = mean;
  4. the quantized modules are exactly the nn.Linear modules the library converts (diffusers: all but
     llm_int8_skip_modules and _keep_in_fp32_modules; transformers: also get_keys_to_not_convert);
  5. the dequantized weights plus the unquantized tensors load into the library's model with strict=True, and its
     output is NF4's error away from the dense model's (printed; must stay under 0.5 relative).
Prints one "SUMMARY <component> ok|FAILED ..." line per component; exits 1 if any failed.

Run on the device from the repository root with .oracle carried (tests/oracle/run-sd3-nf4-check.sh prepares it):
    python3 tests/oracle/sd3_nf4_check.py DENSE_PIPELINE QUANTIZED_PIPELINE [--diffusers-tar .oracle/diffusers-src.tar.xz]
DENSE/QUANTIZED may also be two component folders (e.g. .../transformer). Not part of Qzo.
"""
import json
import os
import sys
import tempfile
import traceback

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sd3_reference as R  # noqa: E402  (setup_diffusers: diffusers from the packed sources)
from nf4_layout import DTYPES, STATE, TABLES, absmax_float, quant_state_keys, read_quant_state, unpack_codes  # noqa: E402


class CheckFailed(Exception):
    pass


def require(condition, message):
    if not condition:
        raise CheckFailed(message)


def load_folder(folder):
    """Every tensor of a component folder (one file or shards with an index), on the CPU."""
    tensors = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".safetensors"):
            part = load_file(os.path.join(folder, name))
            require(not (set(part) & set(tensors)), f"{folder}: a tensor is stored twice")
            tensors.update(part)
    require(tensors, f"{folder}: no safetensors files")
    return tensors


def library_config(options, library):
    """The library's BitsAndBytesConfig(...).to_dict() for these options. load_in_4bit=True checks bitsandbytes' version,
    which is not installed here, so the object is made with load_in_4bit=False and the flag set afterwards."""
    if library == "diffusers":
        cls = R.D.BitsAndBytesConfig
    else:
        import transformers
        cls = transformers.BitsAndBytesConfig
    config = cls(bnb_4bit_quant_type=options["bnb_4bit_quant_type"],
                                    bnb_4bit_use_double_quant=options["bnb_4bit_use_double_quant"],
                                    bnb_4bit_compute_dtype=options["bnb_4bit_compute_dtype"])
    config._load_in_4bit = True
    return json.loads(json.dumps(config.to_dict()))  # QuantizationMethod is a str enum: compare as written


def dequantize(tensors, module):
    """The weight of one Linear4bit, decoded in plain torch (float32), and its quant_state."""
    states = quant_state_keys(tensors, module)
    require(len(states) == 1, f"{module}: {len(states)} quant_state tensors")
    state, raw = read_quant_state(tensors[states[0]])
    keys = ["quant_type", "blocksize", "dtype", "shape"]
    nested = "nested_blocksize" in state
    if nested:
        keys += ["nested_blocksize", "nested_dtype", "nested_offset"]
    require(list(state) == keys, f"{module}: quant_state keys {list(state)}, expected {keys}")
    require(raw == json.dumps(state).encode(), f"{module}: quant_state bytes are not json.dumps of its dict")
    require(states[0] == module + STATE + state["quant_type"], f"{module}: quant_state named {states[0]}")
    table = torch.tensor(TABLES[state["quant_type"]], dtype=torch.float32)
    out_features, in_features = state["shape"]
    n, block = out_features * in_features, state["blocksize"]
    blocks = (n + block - 1) // block

    packed = tensors[module + ".weight"]
    require(packed.dtype == torch.uint8 and tuple(packed.shape) == ((n + 1) // 2, 1),
            f"{module}.weight: {packed.dtype} {tuple(packed.shape)}")
    quant_map = tensors[module + ".weight.quant_map"]
    require(quant_map.dtype == torch.float32 and torch.equal(quant_map, table),
            f"{module}: quant_map is not the {state['quant_type']} table")
    codes = unpack_codes(packed, n)

    absmax = tensors[module + ".weight.absmax"]
    if nested:
        require(absmax.dtype == torch.uint8 and absmax.numel() == blocks,
                f"{module}: nested absmax codes {absmax.dtype} {absmax.numel()}")
        nested_absmax = tensors[module + ".weight.nested_absmax"]
        nested_map = tensors[module + ".weight.nested_quant_map"]
        nb = state["nested_blocksize"]
        require(nested_absmax.numel() == (blocks + nb - 1) // nb and nested_map.numel() == 256, f"{module}: nested shapes")
    else:
        require(absmax.dtype == torch.float32 and absmax.numel() == blocks, f"{module}: absmax {absmax.dtype} {absmax.numel()}")
    absmax = absmax_float(tensors, module, state)
    scale = absmax.repeat_interleave(block)[:n]
    weight = (table[codes] * scale).reshape(out_features, in_features)
    return weight, state, codes


def check_codes(module, dense, codes, state):
    """The codes bitsandbytes' default backend gives: nearest table entry of clamp(w * (1 / absmax), -1, 1)."""
    table = torch.tensor(TABLES[state["quant_type"]], dtype=torch.float32)
    w = dense.to(torch.float32).reshape(-1)
    n, block = w.numel(), state["blocksize"]
    padded = torch.nn.functional.pad(w, (0, (-n) % block)).reshape(-1, block)
    absmax = padded.abs().max(dim=1).values
    if "nested_offset" in state:
        offset = absmax.double().mean().float().item()
        require(abs(offset - state["nested_offset"]) <= 1e-6 * max(1.0, abs(offset)),
                f"{module}: nested_offset {state['nested_offset']}, mean absmax {offset}")
    scaled = torch.clamp(padded * (1.0 / absmax.clamp(min=1e-38)).unsqueeze(1), -1, 1).reshape(-1)[:n]
    distance = (scaled.unsqueeze(1) - table.unsqueeze(0)).abs()
    best = distance.min(dim=1).values
    chosen = distance.gather(1, codes.unsqueeze(1)).squeeze(1)
    bad = (chosen > best + 1e-6).nonzero().reshape(-1)
    require(bad.numel() == 0, f"{module}: {bad.numel()} codes are not the nearest entry (first at {bad[:3].tolist()})")


def linear_names(model):
    return {name for name, m in model.named_modules() if isinstance(m, torch.nn.Linear)}


def converted_by_diffusers(model, skip):
    """diffusers' _replace_with_bnb_linear: every nn.Linear but llm_int8_skip_modules + _keep_in_fp32_modules."""
    keep = [k for k in (skip or []) + list(getattr(model, "_keep_in_fp32_modules", None) or []) if k is not None]
    def kept(full):
        short = full.rsplit(".", 1)[-1]
        return short in keep or any(k + "." in full or k == full for k in keep)
    return {n for n in linear_names(model) if not kept(n)}, keep


def converted_by_transformers(model, skip):
    """transformers 5's bitsandbytes quantizer: get_keys_to_not_convert (tied and output embeddings, the last
    parameter's module) + llm_int8_skip_modules + _keep_in_fp32_modules, matched by should_convert_module."""
    get_keys = None
    for where in ("transformers.quantizers.base", "transformers.integrations.bitsandbytes", "transformers.integrations"):
        try:
            module = __import__(where, fromlist=["get_keys_to_not_convert"])
            get_keys = getattr(module, "get_keys_to_not_convert")
            break
        except (ImportError, AttributeError):
            continue
    require(get_keys is not None, "transformers has no get_keys_to_not_convert")
    keep = list(get_keys(model)) if skip is None else []
    keep += list(skip or []) + list(getattr(model, "_keep_in_fp32_modules", None) or [])
    keep = [k[:-len(".weight")] if k.endswith(".weight") else k for k in keep]
    try:
        from transformers.quantizers.quantizers_utils import should_convert_module
    except ImportError:
        import re
        def should_convert_module(full, patterns):
            return not any(re.match(f"{k}\\.", full) or re.match(k, full) or full.endswith(k) for k in patterns)
    return {n for n in linear_names(model) if should_convert_module(n, keep)}, keep


def untied(model, missing, loaded):
    """Missing keys that are not the tied twin of a loaded parameter (transformers saves T5's shared table once)."""
    params = dict(model.named_parameters(remove_duplicate=False))
    loaded_ids = {id(params[k]) for k in loaded if k in params}
    return [k for k in missing if k not in params or id(params[k]) not in loaded_ids]


def build_model(folder, config):
    """The library's model for this config.json, with random weights (they are all replaced)."""
    if "_class_name" in config:
        cls = getattr(R.D, config["_class_name"])
        clean = {k: v for k, v in config.items() if k != "quantization_config"}
        return cls.from_config(clean), "diffusers"
    import transformers
    arch = (config.get("architectures") or [None])[0]
    cls = getattr(transformers, arch)
    cfg_cls = cls.config_class
    clean = {k: v for k, v in config.items() if k != "quantization_config"}
    return cls(cfg_cls.from_dict(clean)), "transformers"


def forward(model, library, config, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        name = type(model).__name__
        if name == "SD3Transformer2DModel":
            c = model.config
            hidden = torch.randn(1, c.in_channels, 8, 8, generator=g)
            context = torch.randn(1, 7, c.joint_attention_dim, generator=g)
            pooled = torch.randn(1, c.pooled_projection_dim, generator=g)
            return model(hidden_states=hidden, encoder_hidden_states=context, pooled_projections=pooled,
                         timestep=torch.tensor([500.0])).sample
        if name == "AutoencoderKL":
            z = torch.randn(1, model.config.latent_channels, 4, 4, generator=g)
            return model.decode(z).sample
        ids = torch.randint(3, 60, (1, 8), generator=g)
        result = model(input_ids=ids)
        return result.text_embeds if hasattr(result, "text_embeds") else result.last_hidden_state


def check_component(dense_folder, quantized_folder, label):
    with open(os.path.join(quantized_folder, "config.json")) as f:
        config = json.load(f)
    q = config.get("quantization_config")
    require(q is not None and q.get("quant_method") == "bitsandbytes", f"{label}: no bitsandbytes quantization_config")
    expected_config = library_config(q, "diffusers" if "_class_name" in config else "transformers")
    require(q == expected_config, f"{label}: quantization_config {q} != BitsAndBytesConfig.to_dict() {expected_config}")

    dense = load_folder(dense_folder)
    quantized = load_folder(quantized_folder)
    modules = sorted(k[:k.index(STATE)] for k in quantized if STATE in k)
    require(modules, f"{label}: no quantized linear")

    state_dict, errors = {}, []
    for module in modules:
        weight, state, codes = dequantize(quantized, module)
        reference = dense[module + ".weight"]
        require(list(state["shape"]) == list(reference.shape), f"{module}: shape {state['shape']} vs {list(reference.shape)}")
        require(DTYPES[state["dtype"]] == reference.dtype, f"{module}: quant_state dtype {state['dtype']} vs {reference.dtype}")
        check_codes(module, reference, codes, state)
        decoded = weight.to(DTYPES[state["dtype"]])
        errors.append(((decoded.float() - reference.float()).norm() / reference.float().norm()).item())
        state_dict[module + ".weight"] = decoded
    for name, t in quantized.items():
        module = next((m for m in modules if name.startswith(m + ".weight")), None)
        if module is not None:
            suffix = name[len(module):]
            linear4bit = {".weight", ".weight.absmax", ".weight.quant_map", ".weight.nested_absmax", ".weight.nested_quant_map"}
            require(suffix in linear4bit or suffix.startswith(STATE), f"{name}: not a Linear4bit tensor")
            continue
        require(name in dense, f"{name}: not in the dense checkpoint")
        require(t.dtype == dense[name].dtype and torch.equal(t, dense[name]), f"{name}: differs from the dense tensor")
        state_dict[name] = t
    require(set(dense) == set(state_dict), f"{label}: tensors missing: {sorted(set(dense) - set(state_dict))[:5]}")

    model, library = build_model(quantized_folder, config)
    model = model.float()  # the comparison runs in fp32: a model built with bf16 and fp32 parts cannot mix them in a matmul
    converted, keep = (converted_by_diffusers if library == "diffusers" else converted_by_transformers)(
        model, q.get("llm_int8_skip_modules"))
    require(set(modules) == converted,
            f"{label}: quantized {sorted(set(modules) - converted)[:5]} not converted by {library}; "
            f"converted but not quantized {sorted(converted - set(modules))[:5]} (kept: {keep})")
    result = model.load_state_dict({k: v.float() for k, v in state_dict.items()}, strict=False)
    missing = untied(model, result.missing_keys, state_dict)
    require(not missing and not result.unexpected_keys,
            f"{label}: load_state_dict missing {missing[:5]} unexpected {result.unexpected_keys[:5]}")
    model.eval()
    out_q = forward(model, library, config, seed=1)
    model.load_state_dict({k: v.float() for k, v in dense.items()}, strict=False)
    out_d = forward(model, library, config, seed=1)
    relative = ((out_q - out_d).norm() / out_d.norm()).item()
    require(relative < 0.5, f"{label}: output {relative:.3f} from the dense model's")
    return (f"{len(modules)} linears ({library} converts the same {len(converted)}; kept {sorted(set(keep))}), "
            f"weight error mean {sum(errors) / len(errors):.4f} max {max(errors):.4f}, output error {relative:.4f}")


def components(dense, quantized):
    if not os.path.isfile(os.path.join(quantized, "model_index.json")):
        return [(os.path.basename(os.path.normpath(quantized)), dense, quantized)]
    found = []
    for key in sorted(os.listdir(quantized)):
        path = os.path.join(quantized, key, "config.json")
        if os.path.isfile(path):
            with open(path) as f:
                if "quantization_config" in json.load(f):
                    found.append((key, os.path.join(dense, key), os.path.join(quantized, key)))
    return found


def main(argv):
    tar = ".oracle/diffusers-src.tar.xz"
    if "--diffusers-tar" in argv:
        i = argv.index("--diffusers-tar")
        tar = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    if len(argv) != 2:
        print(__doc__)
        return 2
    dense, quantized = argv
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        R.setup_diffusers(tar, tmp)
        import transformers
        print(f"torch {torch.__version__}, transformers {transformers.__version__}")
        todo = components(dense, quantized)
        if not todo:
            print(f"SUMMARY {quantized} FAILED no quantized component")
            return 1
        for label, d, q in todo:
            try:
                print(f"SUMMARY {label} ok {check_component(d, q, label)}")
            except Exception as e:  # one component failing does not stop the others
                failed += 1
                if not isinstance(e, CheckFailed):
                    traceback.print_exc()
                print(f"SUMMARY {label} FAILED {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
