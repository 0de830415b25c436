"""PyTorch peers for `qzo finetune --images` on Stable Diffusion 3.5 (issue 15): one training step of the SD3 transformer,
timed and measured on one GPU. Not part of Qzo.

    python3 bench/sd3_zo_peer.py PIPELINE --mode zo|lora [--batch 16] [--resolution 512] [--steps 5] [--warmup 1]
        [--lr 1e-6] [--eps 1e-3] [--clip 100] [--lora-rank 16] [--lora-targets ...] [--gradient-checkpointing]
        [--json OUT.json] [--diffusers-tar .oracle/diffusers-src.tar.xz] [--text-tokens 333] [--device cuda]
    python3 bench/sd3_zo_peer.py --self-test [--device cpu]   # the hand NF4 linear, loader and ZO step on tiny shapes

--mode zo (PIPELINE's transformer/ is NF4, as `qzo quantize --method nf4` writes it): diffusers' SD3Transformer2DModel is
  built from transformer/config.json on the meta device; every nn.Linear with NF4 tensors in the checkpoint becomes a
  HandNF4Linear (packed uint8 codes, float32 absmax decoded from double quant at load as Qzo keeps its masters, bias;
  its forward dequantizes W = table[code] * absmax[block] to bf16 and calls F.linear, as bitsandbytes' Linear4bit
  does); every other tensor is assigned as stored (bf16). One step is MeZO/QZO's zo_step + zo_update written plainly
  on the absmax scales only, under torch.no_grad(): z from a torch.Generator seeded per step, regenerated for each
  use; +eps z, loss+; -2 eps z, loss-; d = (loss+ - loss-) / 2 eps (.item()); +eps z; absmax -= lr clip(d, ±C) z;
  absmax >= 0. Both losses see the same batch, noise and sigma.
--mode lora (PIPELINE is dense bf16): diffusers' examples/dreambooth/train_dreambooth_lora_sd3.py's transformer
  step: frozen bf16 base, peft LoraConfig(r, lora_alpha=r, init_lora_weights="gaussian", that script's
  target_modules) through transformer.add_adapter, LoRA parameters cast to float32 (its cast_training_params),
  forward under bf16 autocast (what accelerate's mixed precision does), loss.backward(), clip_grad_norm_ 1.0,
  AdamW (its defaults: betas 0.9/0.999, weight decay 1e-4, eps 1e-8), zero_grad. --gradient-checkpointing calls
  transformer.enable_gradient_checkpointing() first, as the script does.
Both: the flow-matching loss of that script (logit-normal u, sigma and timestep from the pipeline's scheduler table,
x_sigma = (1 - sigma) x0 + sigma noise, target noise - x0, MSE in float32) on random bf16 latents [batch, 16, res/8,
res/8], text states [batch, text_tokens, joint_attention_dim] and pooled [batch, pooled_projection_dim]. --warmup
steps, then --steps steps each between torch.cuda.synchronize() calls; peak = torch.cuda.max_memory_allocated() over
the timed steps (reset after warm-up). A CUDA out-of-memory is recorded ({"oom": true, "batch": B}) and the run is
tried again with half the batch, down to 1. The JSON is rewritten after every attempt; one SUMMARY line at the end.

diffusers is not installed on the device: its source comes from the tar that tests/oracle/pack-diffusers.sh makes.
"""
import argparse
import gc
import json
import math
import os
import statistics
import sys
import tempfile
import time
import traceback

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "oracle"))
from nf4_layout import (DTYPES, QUANT_MAP, TABLES, absmax_float, quant_state_keys,  # noqa: E402
                        quantized_modules, read_quant_state)

OOM = getattr(torch, "OutOfMemoryError", getattr(torch.cuda, "OutOfMemoryError", RuntimeError))
# train_dreambooth_lora_sd3.py's default --lora_layers
LORA_TARGETS = ["attn.add_k_proj", "attn.add_q_proj", "attn.add_v_proj", "attn.to_add_out",
                "attn.to_k", "attn.to_out.0", "attn.to_q", "attn.to_v"]


class PeerError(Exception):
    """Bad input: one line naming the file or tensor."""


def require(condition, message):
    if not condition:
        raise PeerError(message)


def gib(n):
    return None if n is None else round(n / 2**30, 3)


# ---------------------------------------------------------------- the NF4 linear, by hand
class HandNF4Linear(nn.Module):
    """bitsandbytes Linear4bit's arithmetic in plain torch: codes stay packed; the forward dequantizes the whole weight
    to the compute dtype (W = quant_map[code] * absmax[block], in float32, then cast) and calls F.linear."""

    def __init__(self, codes, absmax, quant_map, blocksize, out_features, in_features, bias, compute_dtype):
        super().__init__()
        self.out_features, self.in_features, self.blocksize = out_features, in_features, blocksize
        self.compute_dtype = compute_dtype
        self.register_buffer("codes", codes.reshape(-1))
        self.register_buffer("quant_map", quant_map.to(torch.float32))
        self.absmax = nn.Parameter(absmax.to(torch.float32), requires_grad=False)  # what QZO trains
        self.bias = None if bias is None else nn.Parameter(bias.to(compute_dtype), requires_grad=False)

    @classmethod
    def from_checkpoint(cls, tensors, module, compute_dtype):
        keys = quant_state_keys(tensors, module)
        require(len(keys) == 1, f"{module}: {len(keys)} quant_state tensors")
        state, _ = read_quant_state(tensors[keys[0]])
        out_features, in_features = state["shape"]
        n, blocksize = out_features * in_features, state["blocksize"]
        quant_map = tensors[module + QUANT_MAP]
        require(state["quant_type"] in TABLES and torch.equal(quant_map.float(), torch.tensor(TABLES[state["quant_type"]])),
                f"{module}{QUANT_MAP}: not the {state['quant_type']} table")
        codes = tensors[module + ".weight"]
        require(codes.dtype == torch.uint8 and codes.numel() == (n + 1) // 2, f"{module}.weight: {codes.dtype} "
                f"{tuple(codes.shape)}, expected uint8 codes of a {out_features}x{in_features} weight")
        absmax = absmax_float(tensors, module, state)
        require(absmax.numel() == -(-n // blocksize), f"{module}.weight.absmax: {absmax.numel()} blocks of {blocksize}")
        bias = tensors.get(module + ".bias")
        return cls(codes, absmax, quant_map, blocksize, out_features, in_features, bias, compute_dtype)

    def dequantize(self, dtype=None):
        n = self.out_features * self.in_features
        codes = torch.stack((self.codes >> 4, self.codes & 15), dim=1).reshape(-1)[:n]
        values = self.quant_map[codes.long()]
        blocks = self.absmax.numel()
        pad = blocks * self.blocksize - n  # SD3's linears are whole blocks: no pad, no copy
        if pad:
            values = F.pad(values, (0, pad))
        weight = (values.view(blocks, self.blocksize) * self.absmax.unsqueeze(1)).reshape(-1)[:n]
        return weight.view(self.out_features, self.in_features).to(dtype or self.compute_dtype)

    def forward(self, x):
        y = F.linear(x.to(self.compute_dtype), self.dequantize(), self.bias)
        return y.to(x.dtype)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, blocksize={self.blocksize}"


def replace_nf4_linears(model, tensors, compute_dtype):
    """Every nn.Linear <m> with <m>.weight.quant_map in the checkpoint becomes a HandNF4Linear; returns their names."""
    modules = quantized_modules(tensors)
    require(modules, "the checkpoint has no NF4 linear (no *.weight.quant_map tensor)")
    for name in modules:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        old = getattr(parent, child, None)
        require(isinstance(old, nn.Linear), f"{name}: NF4 tensors in the checkpoint, but the model has {type(old).__name__}")
        new = HandNF4Linear.from_checkpoint(tensors, name, compute_dtype)
        require((new.out_features, new.in_features) == (old.out_features, old.in_features)
                and (new.bias is None) == (old.bias is None),
                f"{name}: checkpoint {new.out_features}x{new.in_features} bias {new.bias is not None}, model "
                f"{old.out_features}x{old.in_features} bias {old.bias is not None}")
        setattr(parent, child, new)
    count = sum(isinstance(m, HandNF4Linear) for m in model.modules())
    require(count == len(modules), f"{count} HandNF4Linear modules for {len(modules)} '{QUANT_MAP}' entries")
    return modules


def assign_tensors(model, tensors, nf4_modules, dtype):
    """Every tensor that is not an NF4 linear's replaces the model's parameter or buffer of that name, as stored
    (load_state_dict(assign=True)'s effect: no copy into meta tensors); floating ones in `dtype`."""
    owned = set()
    for m in nf4_modules:
        owned.update(k for k in tensors if k.startswith(m + ".weight") or k == m + ".bias")
    expected = {k for k, _ in model.named_parameters()} | {k for k, _ in model.named_buffers()}
    for key, t in tensors.items():
        if key in owned:
            continue
        module_name, _, attr = key.rpartition(".")
        try:
            module = model.get_submodule(module_name) if module_name else model
        except AttributeError:
            module = None
        current = None if module is None else module._parameters.get(attr, module._buffers.get(attr))
        require(current is not None, f"{key}: in the checkpoint, not in the model")
        require(tuple(current.shape) == tuple(t.shape), f"{key}: checkpoint {tuple(t.shape)}, model {tuple(current.shape)}")
        value = t.to(dtype) if t.is_floating_point() else t
        if attr in module._parameters:
            module._parameters[attr] = nn.Parameter(value, requires_grad=False)
        else:
            module._buffers[attr] = value
        expected.discard(key)
    hand = {f"{m}.{k}" for m in nf4_modules for k in ("codes", "quant_map", "absmax", "bias")}
    left = sorted(expected - hand)
    meta = [k for k, t in list(model.named_parameters()) + list(model.named_buffers()) if t.is_meta]
    require(not meta, f"{len(meta)} tensors still on the meta device (not in the checkpoint): {meta[:5]}")
    return left  # model tensors the checkpoint did not hold but that exist (computed buffers): reported


def load_checkpoint(folder):
    """Every tensor of a component folder (one file, or the shards its *.index.json names), on the CPU."""
    from safetensors.torch import load_file
    index = [f for f in os.listdir(folder) if f.endswith(".safetensors.index.json")]
    if index:
        with open(os.path.join(folder, index[0])) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = sorted(f for f in os.listdir(folder) if f.endswith(".safetensors"))
    require(files, f"{folder}: no safetensors files")
    tensors = {}
    for name in files:
        part = load_file(os.path.join(folder, name))
        require(not set(part) & set(tensors), f"{folder}/{name}: a tensor is stored twice")
        tensors.update(part)
    return tensors


def read_config(folder):
    path = os.path.join(folder, "config.json")
    require(os.path.isfile(path), f"{path}: not found (PIPELINE must be a diffusers SD3 pipeline folder)")
    with open(path) as f:
        return json.load(f)


def gemm_settings():
    matmul = torch.backends.cuda.matmul
    try:
        bf16_reduction = matmul.allow_bf16_reduced_precision_reduction
    except (AttributeError, AssertionError):  # torch < 1.12; 1.13 asserts instead of raising AttributeError
        bf16_reduction = None
    return {"matmul.allow_tf32": matmul.allow_tf32, "cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
            "matmul.allow_bf16_reduced_precision_reduction": bf16_reduction}


def load_diffusers(tar, tmp):
    """diffusers from the packed sources, offline (tests/oracle/sd3_reference.py's setup_diffusers). That module pins
    exact GEMM settings for its oracle when imported; a peer runs with torch's defaults, so they are put back."""
    saved = gemm_settings()
    import sd3_reference as R
    R.setup_diffusers(tar, tmp)
    torch.backends.cuda.matmul.allow_tf32 = saved["matmul.allow_tf32"]
    torch.backends.cudnn.allow_tf32 = saved["cudnn.allow_tf32"]
    if saved["matmul.allow_bf16_reduced_precision_reduction"] is not None:
        torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = saved["matmul.allow_bf16_reduced_precision_reduction"]
    require(gemm_settings() == saved, f"GEMM settings changed by importing diffusers: {gemm_settings()} != {saved}")
    return R.D


def empty_transformer(diffusers, config):
    """SD3Transformer2DModel from a config with its parameters on the meta device (buffers as diffusers computes them)."""
    clean = {k: v for k, v in config.items() if k != "quantization_config"}
    try:
        from accelerate import init_empty_weights
        context = init_empty_weights()
    except ImportError:
        context = torch.device("meta")
    with context:
        return diffusers.SD3Transformer2DModel.from_config(clean)


def build_nf4_transformer(diffusers, folder, dev):
    config = read_config(folder)
    q = config.get("quantization_config") or {}
    require(q.get("quant_method") == "bitsandbytes" and q.get("load_in_4bit", q.get("_load_in_4bit")),
            f"{folder}/config.json: no bitsandbytes 4-bit quantization_config (--mode zo needs `qzo quantize --method nf4`'s "
            "output)")
    compute_dtype = DTYPES[q.get("bnb_4bit_compute_dtype") or "bfloat16"]
    tensors = load_checkpoint(folder)
    model = empty_transformer(diffusers, config)
    modules = replace_nf4_linears(model, tensors, compute_dtype)
    left = assign_tensors(model, tensors, modules, compute_dtype)
    quant_maps = sum(k.endswith(QUANT_MAP) for k in tensors)
    del tensors
    hand = sum(isinstance(m, HandNF4Linear) for m in model.modules())
    require(hand == quant_maps, f"{hand} HandNF4Linear modules for {quant_maps} '{QUANT_MAP}' tensors")
    plain = [n for n, m in model.named_modules() if type(m) is nn.Linear]
    checks = {"nf4_linears": hand, "quant_map_entries": quant_maps, "plain_linears_left": len(plain),
              "model_tensors_not_in_checkpoint": left, "meta_tensors": 0, "compute_dtype": str(compute_dtype)}
    return model.to(dev).eval(), checks


# ---------------------------------------------------------------- the objective
class FlowMatching:
    """train_dreambooth_(lora_)sd3.py's noising: u = sigmoid(N(0, 1)) on the CPU, idx = (u T).long(), timestep and sigma
    from the scheduler's training table, x_sigma = (1 - sigma) x0 + sigma noise, target noise - x0."""

    def __init__(self, diffusers, pipeline):
        path = os.path.join(pipeline, "scheduler", "scheduler_config.json")
        cls = diffusers.FlowMatchEulerDiscreteScheduler
        if os.path.isfile(path):
            with open(path) as f:
                scheduler = cls.from_config(json.load(f))
            self.source = path
        else:
            scheduler = cls(shift=3.0)
            self.source = "FlowMatchEulerDiscreteScheduler(shift=3.0): no scheduler/scheduler_config.json"
        self.timesteps = scheduler.timesteps.float().cpu()
        self.sigmas = scheduler.sigmas.float().cpu()
        self.train_timesteps = scheduler.config.num_train_timesteps

    def draw(self, x0, seed):
        generator = torch.Generator(device=x0.device).manual_seed(seed)
        noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        u = torch.sigmoid(torch.randn(x0.shape[0], generator=torch.Generator().manual_seed(seed)))
        index = (u * self.train_timesteps).long().clamp(max=self.train_timesteps - 1)
        timesteps = self.timesteps[index].to(x0.device)
        sigmas = self.sigmas[index].to(x0.device, x0.dtype).view(-1, *([1] * (x0.ndim - 1)))
        return (1.0 - sigmas) * x0 + sigmas * noise, timesteps, noise - x0


def flow_loss(pred, target):
    return ((pred.float() - target.float()) ** 2).reshape(target.shape[0], -1).mean(1).mean()


def make_inputs(config, batch, resolution, text_tokens, dev, dtype, seed=0):
    g = torch.Generator(device=dev).manual_seed(seed)
    side = resolution // 8
    rand = lambda *shape: torch.randn(shape, generator=g, device=dev, dtype=dtype)  # noqa: E731
    return {"x0": rand(batch, config["in_channels"], side, side),
            "context": rand(batch, text_tokens, config["joint_attention_dim"]),
            "pooled": rand(batch, config["pooled_projection_dim"])}


def predict(model, noisy, timesteps, inputs):
    return model(hidden_states=noisy, encoder_hidden_states=inputs["context"], pooled_projections=inputs["pooled"],
                 timestep=timesteps, return_dict=False)[0]


# ---------------------------------------------------------------- the ZO step, plainly
def perturb(scales, seed, factor, eps):
    generator = torch.Generator(device=scales[0].device).manual_seed(seed)
    for s in scales:
        z = torch.randn(s.shape, generator=generator, device=s.device, dtype=s.dtype)
        s.add_(z, alpha=factor * eps)


def zo_step(scales, loss_fn, seed, eps, lr, clip, floor=0.0):
    """MeZO's zo_step + QZO's zo_update on `scales`: returns (loss+, loss-, d before clipping). An out-of-memory error
    in a forward takes the perturbation back before it propagates, so a retry starts from the same scales."""
    applied = 0
    with torch.no_grad():
        try:
            perturb(scales, seed, 1, eps)
            applied = 1
            loss_plus = loss_fn()
            perturb(scales, seed, -2, eps)
            applied = -1
            loss_minus = loss_fn()
            d = ((loss_plus - loss_minus) / (2 * eps)).item()
            perturb(scales, seed, 1, eps)
            applied = 0
        except OOM:
            if applied:
                perturb(scales, seed, -applied, eps)
            raise
        step = min(max(-clip, d), clip)
        generator = torch.Generator(device=scales[0].device).manual_seed(seed)
        for s in scales:
            z = torch.randn(s.shape, generator=generator, device=s.device, dtype=s.dtype)
            s.add_(z, alpha=-lr * step).clamp_(min=floor)
    return loss_plus.item(), loss_minus.item(), d


def zo_runner(model, noising, inputs, a, seed_base):
    scales = [m.absmax for m in model.modules() if isinstance(m, HandNF4Linear)]
    counter = [0]

    def step():
        k = counter[0]
        counter[0] += 1
        noisy, timesteps, target = noising.draw(inputs["x0"], seed_base + 2 * k)

        def loss_fn():
            return flow_loss(predict(model, noisy, timesteps, inputs), target)
        loss_plus, loss_minus, d = zo_step(scales, loss_fn, seed_base + 2 * k + 1, a.eps, a.lr, a.clip)
        return {"loss": loss_plus, "loss_minus": loss_minus, "projected_grad": d}
    return step


# ---------------------------------------------------------------- the LoRA step
def add_lora(model, a):
    from peft import LoraConfig
    model.requires_grad_(False)
    if a.gradient_checkpointing:
        model.enable_gradient_checkpointing()
    config = LoraConfig(r=a.lora_rank, lora_alpha=a.lora_rank, lora_dropout=0.0, init_lora_weights="gaussian",
                        target_modules=a.lora_targets)
    model.add_adapter(config)
    params = [p for p in model.parameters() if p.requires_grad]
    require(params, f"no LoRA parameter: target_modules {a.lora_targets} matched nothing")
    for p in params:  # diffusers.training_utils.cast_training_params(dtype=torch.float32)
        p.data = p.data.to(torch.float32)
    return params


def lora_runner(model, params, noising, inputs, a, seed_base):
    optimizer = torch.optim.AdamW(params, lr=a.lora_lr, betas=(0.9, 0.999), weight_decay=1e-4, eps=1e-8)
    counter = [0]
    model.train()

    def step():
        k = counter[0]
        counter[0] += 1
        noisy, timesteps, target = noising.draw(inputs["x0"], seed_base + 2 * k)
        with torch.autocast(device_type=inputs["x0"].device.type, dtype=torch.bfloat16):
            pred = predict(model, noisy, timesteps, inputs)
        loss = flow_loss(pred, target)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return {"loss": loss.detach().item()}
    return step


# ---------------------------------------------------------------- measurement
def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def free(dev):
    gc.collect()
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        torch.cuda.empty_cache()


def tensor_bytes(model):
    seen, total = set(), 0
    for t in list(model.parameters()) + list(model.buffers()):
        if id(t) not in seen:
            seen.add(id(t))
            total += t.numel() * t.element_size()
    return total


def measure(make_step, a, dev):
    """Warm-up, then the timed steps; returns the step records, times and the peak over the timed steps."""
    step = make_step()
    warm = [step() for _ in range(a.warmup)]
    sync(dev)
    load_and_warmup_peak = torch.cuda.max_memory_allocated(dev) if dev.type == "cuda" else None
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    records, times = [], []
    for _ in range(a.steps):
        sync(dev)
        start = time.perf_counter()
        records.append(step())
        sync(dev)
        times.append(time.perf_counter() - start)
        print(f"  step {len(times)}/{a.steps}: {times[-1]:.4f} s, loss {records[-1]['loss']:.5g}", flush=True)
    peak = torch.cuda.max_memory_allocated(dev) if dev.type == "cuda" else None
    return {"warmup_records": warm, "records": records, "times": times, "peak_bytes": peak,
            "load_and_warmup_peak_bytes": load_and_warmup_peak}


def write_json(path, result):
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, path)


def run(a):
    dev = torch.device(a.device)
    require(dev.type != "cuda" or torch.cuda.is_available(), "--device cuda: no CUDA device (use --device cpu)")
    transformer_dir = os.path.join(a.pipeline, "transformer")
    config = read_config(transformer_dir)
    quantized = "quantization_config" in config
    require(quantized == (a.mode == "zo"), f"{transformer_dir}/config.json: " + (
        "no quantization_config: --mode zo needs the NF4 pipeline" if a.mode == "zo"
        else "has a quantization_config: --mode lora needs the dense bf16 pipeline"))
    result = {"peer": "sd3_zo_peer", "mode": a.mode, "pipeline": os.path.abspath(a.pipeline), "torch": torch.__version__,
              "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu", "batch_requested": a.batch,
              "batch": a.batch,
              "resolution": a.resolution, "text_tokens": a.text_tokens, "steps": a.steps, "warmup": a.warmup,
              "image_tokens": (a.resolution // 8 // config["patch_size"]) ** 2, "attempts": []}
    with tempfile.TemporaryDirectory() as tmp:
        diffusers = load_diffusers(a.diffusers_tar, tmp)
        result.update(diffusers=diffusers.__version__, gemm_settings=gemm_settings())
        free(dev)
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats(dev)
        start = time.perf_counter()
        if a.mode == "zo":
            model, checks = build_nf4_transformer(diffusers, transformer_dir, dev)
            scales = [m.absmax for m in model.modules() if isinstance(m, HandNF4Linear)]
            result.update(checks=checks, eps=a.eps, lr=a.lr, clip=a.clip, trainable_values=sum(s.numel() for s in scales))
            hand = [m for m in model.modules() if isinstance(m, HandNF4Linear)]
            codes = sum(m.codes.numel() for m in hand)
            absmax = sum(m.absmax.numel() * 4 for m in hand)
        else:
            import peft
            model = diffusers.SD3Transformer2DModel.from_pretrained(transformer_dir, torch_dtype=torch.bfloat16).to(dev)
            params = add_lora(model, a)
            result.update(peft=peft.__version__, lora_rank=a.lora_rank, lora_targets=a.lora_targets, lora_lr=a.lora_lr,
                          gradient_checkpointing=a.gradient_checkpointing,
                          trainable_values=sum(p.numel() for p in params))
        sync(dev)
        result["load_seconds"] = round(time.perf_counter() - start, 3)
        result["weight_bytes"] = tensor_bytes(model)
        if a.mode == "zo":
            result["weight_breakdown_bytes"] = {"codes": codes, "absmax_fp32": absmax,
                                                "other": result["weight_bytes"] - codes - absmax}
        result["allocated_after_load_bytes"] = torch.cuda.memory_allocated(dev) if dev.type == "cuda" else None
        noising = FlowMatching(diffusers, a.pipeline)
        result["scheduler"] = noising.source
        write_json(a.json, result)
        print(f"{a.mode}: {result['trainable_values']:,} trainable values, weights {gib(result['weight_bytes'])} GiB, "
              f"loaded in {result['load_seconds']} s on {result['device']}", flush=True)

        batch = a.batch
        while True:
            attempt = {"batch": batch, "oom": False}
            oom = False
            try:
                inputs = make_inputs(config, batch, a.resolution, a.text_tokens, dev, torch.bfloat16)
                if a.mode == "zo":
                    out = measure(lambda: zo_runner(model, noising, inputs, a, a.seed * 1_000_003), a, dev)
                else:
                    out = measure(lambda: lora_runner(model, params, noising, inputs, a, a.seed * 1_000_003), a, dev)
            except OOM:
                oom = True
            inputs = None
            if oom:
                attempt.update(oom=True, peak_bytes=torch.cuda.max_memory_allocated(dev) if dev.type == "cuda" else None)
                if a.mode == "lora":
                    for p in params:
                        p.grad = None
                free(dev)
                if dev.type == "cuda":
                    torch.cuda.reset_peak_memory_stats(dev)
                result["attempts"].append(attempt)
                print(f"  batch {batch}: CUDA out of memory", flush=True)
                write_json(a.json, result)
                if batch == 1:
                    break
                batch //= 2
                continue
            times = out["times"]
            losses = [r["loss"] for r in out["records"]]
            attempt.update(seconds_per_step=times, median_seconds=statistics.median(times),
                           mean_seconds=statistics.mean(times), peak_bytes=out["peak_bytes"],
                           load_and_warmup_peak_bytes=out["load_and_warmup_peak_bytes"], losses=losses,
                           warmup_losses=[r["loss"] for r in out["warmup_records"]])
            if a.mode == "zo":
                attempt.update(losses_minus=[r["loss_minus"] for r in out["records"]],
                               projected_grads=[r["projected_grad"] for r in out["records"]])
            attempt["finite"] = all(math.isfinite(x) for x in losses + attempt.get("losses_minus", []))
            result["attempts"].append(attempt)
            result.update({k: v for k, v in attempt.items() if k != "oom"})
            result["peak_gib"], result["weight_gib"] = gib(out["peak_bytes"]), gib(result["weight_bytes"])
            break
    write_json(a.json, result)
    return result


def summary(result):
    if "median_seconds" not in result:
        return f"SUMMARY sd3_zo_peer {result['mode']} FAILED out of memory at every batch down to 1"
    losses = result["losses"]
    return (f"SUMMARY sd3_zo_peer {result['mode']} ok batch {result['batch']} res {result['resolution']} "
            f"text {result['text_tokens']}: median {result['median_seconds']:.4f} s/step (mean {result['mean_seconds']:.4f}), "
            f"peak {result['peak_gib']} GiB, weights {result['weight_gib']} GiB, {result['trainable_values']:,} trainable, "
            f"loss {losses[0]:.4g} -> {losses[-1]:.4g} ({'finite' if result['finite'] else 'NOT FINITE'}), "
            f"{result['device']}")


# ---------------------------------------------------------------- self-test (no diffusers)
def self_test(dev):
    from nf4_layout import NF4, STATE
    failures = []

    def check(name, ok, detail=""):
        print(f"{'ok  ' if ok else 'FAIL'} {name} {detail}", flush=True)
        if not ok:
            failures.append(name)

    def quantize(weight, blocksize, nested):
        """A minimal bitsandbytes-layout NF4 state dict of one linear (nearest code of w / absmax per block)."""
        out_f, in_f = weight.shape
        n = weight.numel()
        blocks = -(-n // blocksize)
        w = F.pad(weight.reshape(-1).float(), (0, blocks * blocksize - n)).view(blocks, blocksize)
        absmax = w.abs().amax(1)
        table = torch.tensor(NF4)
        codes = ((w / absmax.unsqueeze(1)).unsqueeze(-1) - table).abs().argmin(-1).reshape(-1)[:n]
        codes = F.pad(codes, (0, n % 2))
        packed = (codes[0::2] * 16 + codes[1::2]).to(torch.uint8).view(-1, 1)
        state = {"quant_type": "nf4", "blocksize": blocksize, "dtype": "bfloat16", "shape": [out_f, in_f]}
        t = {"weight": packed, "weight.quant_map": table.clone()}
        if nested:
            offset = absmax.mean().item()
            nested_map = torch.linspace(-1, 1, 256)
            nb = 256
            groups = F.pad(absmax - offset, (0, (-blocks) % nb)).view(-1, nb)
            nested_absmax = groups.abs().amax(1)
            scaled = (groups / nested_absmax.unsqueeze(1)).reshape(-1)[:blocks]
            t["weight.absmax"] = (scaled.unsqueeze(1) - nested_map).abs().argmin(1).to(torch.uint8)
            t["weight.nested_absmax"], t["weight.nested_quant_map"] = nested_absmax, nested_map
            state.update(nested_blocksize=nb, nested_dtype="float32", nested_offset=offset)
        else:
            t["weight.absmax"] = absmax
        t[STATE[1:] + "nf4"] = torch.tensor(list(json.dumps(state).encode()), dtype=torch.uint8)
        return t

    def rel(a, b):
        return ((a.double() - b.double()).norm() / b.double().norm()).item()

    # 1. a hand-made example: codes k*7 mod 16, three blocks of 64 (the last partial), an odd count of codes
    for out_f, in_f in ((2, 80), (3, 21)):
        n = out_f * in_f
        codes = [(7 * k) % 16 for k in range(n)]
        padded = codes + [0] * (n % 2)
        packed = torch.tensor([padded[i] * 16 + padded[i + 1] for i in range(0, len(padded), 2)], dtype=torch.uint8)
        absmax = [0.5, 2.0, 0.25][:-(-n // 64)]
        bias = torch.randn(out_f)
        m = HandNF4Linear(packed.view(-1, 1), torch.tensor(absmax), torch.tensor(NF4), 64, out_f, in_f, bias,
                          torch.bfloat16).to(dev)
        expected = torch.tensor([NF4[c] * absmax[k // 64] for k, c in enumerate(codes)], dtype=torch.float32)
        got = m.dequantize(torch.float32).cpu().reshape(-1)
        check(f"dequantize {out_f}x{in_f}: table[code] * absmax[block] exactly", torch.equal(got, expected))
        x = torch.randn(5, in_f).to(dev, torch.bfloat16)
        reference = x.double().cpu() @ expected.double().view(out_f, in_f).T + bias.bfloat16().double()
        y = m(x).cpu()
        check(f"forward {out_f}x{in_f} bf16", y.dtype == torch.bfloat16 and rel(y, reference) < 1e-2, f"rel {rel(y, reference):.1e}")

    # 2. the loader on a small module tree built on meta (a ModuleList child as diffusers' to_out.0)
    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj_in = nn.Linear(96, 128, device="meta")
            self.norm = nn.LayerNorm(128, device="meta")
            self.to_out = nn.ModuleList([nn.Linear(128, 64, bias=False, device="meta"), nn.Dropout(0.0)])
            self.register_buffer("table", torch.arange(4.0))  # computed, not in the checkpoint

        def forward(self, x):
            return self.to_out[0](torch.tanh(self.norm(self.proj_in(x))))

    torch.manual_seed(0)
    dense = {"proj_in.weight": torch.randn(128, 96) * 0.1, "proj_in.bias": torch.randn(128) * 0.1,
             "norm.weight": 1 + 0.1 * torch.randn(128), "norm.bias": 0.1 * torch.randn(128),
             "to_out.0.weight": torch.randn(64, 128) * 0.1}
    for nested in (False, True):
        tensors = {"norm.weight": dense["norm.weight"].bfloat16(), "norm.bias": dense["norm.bias"].bfloat16(),
                   "proj_in.bias": dense["proj_in.bias"].bfloat16()}
        for name in ("proj_in", "to_out.0"):
            tensors.update({f"{name}.{k}": v for k, v in quantize(dense[name + ".weight"], 64, nested).items()})
        model = Tiny()
        modules = replace_nf4_linears(model, tensors, torch.bfloat16)
        left = assign_tensors(model, tensors, modules, torch.bfloat16)
        model.to(dev)
        check(f"loader (double quant {nested}): {len(modules)} HandNF4Linear, buffer 'table' reported",
              modules == ["proj_in", "to_out.0"] and left == ["table"] and isinstance(model.to_out[0], HandNF4Linear))
        errors = [rel(model.get_submodule(k).dequantize(torch.float32).cpu(), dense[k + ".weight"]) for k in modules]
        check(f"loader (double quant {nested}): weights within NF4's error", max(errors) < 0.2, f"{max(errors):.3f}")
        x = torch.randn(4, 96).to(dev, torch.bfloat16)
        with torch.no_grad():
            y = model(x).float().cpu()
            ref_model = nn.Sequential(nn.Linear(96, 128), nn.LayerNorm(128), nn.Tanh(), nn.Linear(128, 64, bias=False))
            ref_model[0].weight.data = model.proj_in.dequantize(torch.float32).cpu()
            ref_model[0].bias.data = tensors["proj_in.bias"].float()
            ref_model[1].weight.data, ref_model[1].bias.data = tensors["norm.weight"].float(), tensors["norm.bias"].float()
            ref_model[3].weight.data = model.to_out[0].dequantize(torch.float32).cpu()
            ref = ref_model(x.float().cpu())
        check(f"loader (double quant {nested}): forward", rel(y, ref) < 3e-2, f"rel {rel(y, ref):.1e}")
    bad = {k: v for k, v in tensors.items() if k != "norm.bias"}
    bad["extra.weight"] = torch.zeros(3)
    try:
        model = Tiny()
        assign_tensors(model, bad, replace_nf4_linears(model, bad, torch.bfloat16), torch.bfloat16)
        check("loader refuses a tensor the model lacks", False)
    except PeerError as e:
        check("loader refuses a tensor the model lacks", "extra.weight" in str(e), str(e))
    try:
        model = Tiny()
        del bad["extra.weight"]
        assign_tensors(model, bad, replace_nf4_linears(model, bad, torch.bfloat16), torch.bfloat16)
        check("loader refuses a model tensor left on meta", False)
    except PeerError as e:
        check("loader refuses a model tensor left on meta", "norm.bias" in str(e), str(e))

    # 3. the ZO step on a toy regression of the scales (float32 compute)
    model = Tiny()
    modules = replace_nf4_linears(model, tensors, torch.float32)
    assign_tensors(model, tensors, modules, torch.float32)
    model.to(dev)
    scales = [m.absmax for m in model.modules() if isinstance(m, HandNF4Linear)]
    x = torch.randn(64, 96, device=dev)
    with torch.no_grad():
        teacher = model(x) * 1.3
    loss_fn = lambda: ((model(x) - teacher) ** 2).mean()  # noqa: E731
    before = [s.detach().clone() for s in scales]
    zo_step(scales, loss_fn, 7, 1e-3, 0.0, 100.0)
    drift = max((s - b).abs().max().item() for s, b in zip(scales, before))
    check("zo_step with lr 0 restores the scales (+eps, -2eps, +eps)", drift < 1e-6, f"max drift {drift:.1e}")
    for s, b in zip(scales, before):
        s.data.copy_(b)
    _, _, d = zo_step(scales, loss_fn, 7, 1e-3, 1e-3, 1e-9)
    step = max((s - b).abs().max().item() for s, b in zip(scales, before))
    check("zo_step clips d to [-clip, clip]", abs(d) > 1e-3 and step < 1e-6, f"d {d:.3g}, moved {step:.1e}")
    for s, b in zip(scales, before):
        s.data.copy_(b)
    start = loss_fn().item()
    for k in range(300):
        zo_step(scales, loss_fn, 100 + k, 1e-3, 0.05, 100.0)
    end = loss_fn().item()
    check("QZO lowers the toy loss", end < 0.7 * start, f"{start:.4g} -> {end:.4g}")
    zo_step(scales, lambda: (sum(s.sum() for s in scales)), 5, 1e-3, 10.0, 1e9)
    check("zo_step keeps the scales >= 0", all(bool((s >= 0).all()) for s in scales) and
          any(bool((s == 0).any()) for s in scales))

    # 4. the noising
    class Stub:
        timesteps = torch.linspace(1000, 1, 1000)
        sigmas = torch.linspace(1000, 1, 1000) / 1000
    noising = FlowMatching.__new__(FlowMatching)
    noising.timesteps, noising.sigmas, noising.train_timesteps = Stub.timesteps, Stub.sigmas, 1000
    x0 = torch.randn(3, 4, 8, 8, device=dev)
    noisy, t, target = noising.draw(x0, 11)
    noisy2, t2, target2 = noising.draw(x0, 11)
    sigma = (t / 1000).view(-1, 1, 1, 1)
    noise = target + x0
    check("noising: same seed, same draw", torch.equal(noisy, noisy2) and torch.equal(t, t2) and torch.equal(target, target2))
    check("noising: x_sigma = (1 - sigma) x0 + sigma noise", torch.allclose(noisy, (1 - sigma) * x0 + sigma * noise, atol=1e-5))
    print(f"{'FAILED: ' + ', '.join(failures) if failures else 'all passed'} ({dev}, torch {torch.__version__})")
    return not failures


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("pipeline", nargs="?")
    p.add_argument("--mode", choices=["zo", "lora"])
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--resolution", type=int, default=512)
    p.add_argument("--text-tokens", type=int, default=333, help="77 CLIP + 256 T5 tokens, the pipeline's default")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--lr", type=float, default=1e-6, help="ZO learning rate (the paper's for SD)")
    p.add_argument("--eps", type=float, default=1e-3)
    p.add_argument("--clip", type=float, default=100.0, help="directional derivative clipping C")
    p.add_argument("--lora-rank", type=int, default=16)
    p.add_argument("--lora-lr", type=float, default=1e-4, help="train_dreambooth_lora_sd3.py's default")
    p.add_argument("--lora-targets", type=lambda s: [t for t in s.split(",") if t], default=LORA_TARGETS,
                   help="comma-separated peft target_modules (default: the script's --lora_layers default)")
    p.add_argument("--gradient-checkpointing", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cuda")
    p.add_argument("--json")
    p.add_argument("--diffusers-tar", default=".oracle/diffusers-src.tar.xz")
    p.add_argument("--self-test", action="store_true")
    a = p.parse_args()
    if a.self_test:
        dev = torch.device(a.device if a.device != "cuda" or torch.cuda.is_available() else "cpu")
        sys.exit(0 if self_test(dev) else 1)
    if not a.pipeline or not a.mode:
        p.error("PIPELINE and --mode are required (or --self-test)")
    if a.resolution % 16 or a.batch < 1 or a.steps < 1 or a.warmup < 0 or a.text_tokens < 1:
        p.error("--resolution must be a multiple of 16; --batch, --steps, --text-tokens >= 1; --warmup >= 0")
    try:
        result = run(a)
    except PeerError as e:
        print(f"sd3_zo_peer: {e}", file=sys.stderr)
        sys.exit(1)
    print(summary(result), flush=True)
    sys.exit(0 if "median_seconds" in result and result["finite"] else 1)


if __name__ == "__main__":
    main()
