#!/usr/bin/env python3
"""PyTorch peers for Qzo, measured side by side on one GPU (see bench/README.md).

Random-weight Llama-shaped models (HF transformers, sdpa attention, no download), batch B x T tokens,
labels = input ids. Peers: bf16 forward, MeZO step, QZO step on a plain-PyTorch GPTQ 4-bit g128 model,
AdamW full fine-tuning step, LoRA r=8 step. Reports median seconds per iteration, tokens/s and peak
GPU memory; writes one JSON.

    python3 bench/peers.py --shape llama2-7b --batch 16 --seq 256 --json out.json
    python3 bench/peers.py --self-test      # GPTQ unpack/dequant and ZO steps on tiny shapes, any device
"""
import argparse, gc, json, math, random, statistics, sys, time, traceback

import torch
import torch.nn as nn

SHAPES = {  # hidden, intermediate, layers, heads, kv heads (+ overrides)
    "tiny": (256, 688, 4, 8, 8, {}),
    "llama2-7b": (4096, 11008, 32, 32, 32, {}),
    "llama2-13b": (5120, 13824, 40, 40, 40, {}),
    "llama2-70b": (8192, 28672, 80, 64, 8, {}),
    "llama3-8b": (4096, 14336, 32, 32, 8, {"vocab_size": 128256, "rope_theta": 500000.0}),
}
PEERS = ("forward", "mezo", "qzo", "qzo-compile", "adamw", "lora")
GIB = 2 ** 30
OOM = getattr(torch, "OutOfMemoryError", getattr(torch.cuda, "OutOfMemoryError", RuntimeError))


# ---------------------------------------------------------------- GPTQ 4-bit linear, plain PyTorch
def dequant4(qweight, qzeros, scales, g_idx, group_size: int, grouped: bool, dtype: torch.dtype):
    """W[i, o] = scales[g_idx[i], o] * (q[i, o] - zero[g_idx[i], o]) as an [in, out] tensor of `dtype`.

    qweight int32 [in/8, out]: value k of a word at bits 4k, packed along the input dim.
    qzeros int32 [G, out/8]: v1 checkpoint format, stores zero - 1, packed along the output dim."""
    in_f, out_f = qweight.shape[0] * 8, qweight.shape[1]
    shifts = torch.arange(0, 32, 4, dtype=torch.int32, device=qweight.device)
    # arithmetic shifts of negative words smear the sign bit into the top, which the mask drops
    q = (qweight.unsqueeze(1) >> shifts.view(1, 8, 1)).bitwise_and_(15).view(in_f, out_f)
    z = ((qzeros.unsqueeze(2) >> shifts.view(1, 1, 8)) + 1).bitwise_and_(15).view(qzeros.shape[0], out_f)
    z, s, w = z.to(dtype), scales.to(dtype), q.to(dtype)
    if grouped:  # g_idx == i // group_size: broadcast per group instead of gathering [in, out] twice
        return w.view(-1, group_size, out_f).sub_(z.unsqueeze(1)).mul_(s.unsqueeze(1)).view(in_f, out_f)
    gi = g_idx.long()
    return w.sub_(z[gi]).mul_(s[gi])  # q - zero is a small integer, exact; one rounding in the product


DEQUANT = {"fn": dequant4}  # the qzo-compile peer swaps in torch.compile(dequant4)


class GPTQLinear4(nn.Module):
    """GPTQ 4-bit symmetric linear holding qweight/qzeros/scales/g_idx buffers (docs/formats.md §4);
    dequantizes to the activation dtype on every call, then x @ W (like GPTQModel's torch kernel)."""

    def __init__(self, in_features, out_features, group_size=128, device=None):
        super().__init__()
        assert in_features % 8 == 0 and out_features % 8 == 0
        self.in_features, self.out_features, self.group_size = in_features, out_features, group_size
        groups = -(-in_features // group_size)
        self.register_buffer("qweight", torch.empty(in_features // 8, out_features, dtype=torch.int32, device=device))
        self.register_buffer("qzeros", torch.empty(groups, out_features // 8, dtype=torch.int32, device=device))
        self.register_buffer("scales", torch.empty(groups, out_features, dtype=torch.float16, device=device))
        self.register_buffer("g_idx", torch.empty(in_features, dtype=torch.int32, device=device))
        self._grouped = None

    @torch.no_grad()
    def randomize(self):
        dev = self.qweight.device
        self.qweight.random_(-2 ** 31, 2 ** 31)
        self.qzeros.fill_(0x77777777)  # v1 symmetric: zero 8 stored as 7 in every nibble
        self.scales.copy_(torch.rand(self.scales.shape, device=dev) * 0.01 + 0.01)
        self.g_idx.copy_(torch.arange(self.in_features, dtype=torch.int32, device=dev) // self.group_size)
        self._grouped = None

    def forward(self, x):
        if self._grouped is None:  # one check (and one sync) per module, then cached
            ar = torch.arange(self.in_features, device=self.g_idx.device) // self.group_size
            self._grouped = self.in_features % self.group_size == 0 and torch.equal(self.g_idx.long(), ar)
        w = DEQUANT["fn"](self.qweight, self.qzeros, self.scales, self.g_idx, self.group_size, self._grouped, x.dtype)
        return x @ w


# ---------------------------------------------------------------- zeroth-order steps (official code's order)
def zo_perturb(tensors, seed, factor, eps, official):
    torch.manual_seed(seed)
    with torch.no_grad():
        for t in tensors:
            z = torch.normal(mean=0, std=1, size=t.size(), device=t.device, dtype=t.dtype)
            if official:
                t.data = t.data + factor * z * eps
            else:
                t.add_(z, alpha=factor * eps)


def zo_step(tensors, loss_fn, eps, official):
    """MeZO/QZO zo_step: seed; +eps, loss1; -2eps, loss2; d = (loss1 - loss2)/2eps (.item()); +eps restore."""
    seed = random.randrange(1000000000)
    zo_perturb(tensors, seed, 1, eps, official)
    loss1 = loss_fn()
    zo_perturb(tensors, seed, -2, eps, official)
    loss2 = loss_fn()
    d = ((loss1 - loss2) / (2 * eps)).item()
    zo_perturb(tensors, seed, 1, eps, official)
    return seed, loss1, d


def mezo_update(named, seed, d, lr, official, weight_decay=0.0):
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in named:
            z = torch.normal(mean=0, std=1, size=p.size(), device=p.device, dtype=p.dtype)
            if not official:
                p.add_(z, alpha=-lr * d)  # weight_decay is 0 in MeZO's runs
            elif "bias" not in name and "layer_norm" not in name and "layernorm" not in name:
                p.data = p.data - lr * (d * z + weight_decay * p.data)
            else:
                p.data = p.data - lr * (d * z)


def qzo_update(scales, seed, d, lr, official, clip=100.0):
    d = min(max(-clip, d), clip)  # directional derivative clipping, C = 100
    torch.manual_seed(seed)
    with torch.no_grad():
        for s in scales:
            z = torch.normal(mean=0, std=1, size=s.size(), device=s.device, dtype=s.dtype)
            if official:
                s.data = torch.clamp(s.data - lr * (d * z), min=1e-7)
            else:
                s.add_(z, alpha=-lr * d).clamp_(min=1e-7)


# ---------------------------------------------------------------- models
def make_config(shape, seq):
    import transformers
    from transformers import LlamaConfig
    h, inter, layers, heads, kv, extra = SHAPES[shape]
    extra = dict(extra)
    theta = extra.pop("rope_theta", 10000.0)
    if int(transformers.__version__.split(".")[0]) >= 5:
        extra["rope_parameters"] = {"rope_type": "default", "rope_theta": theta}
    else:
        extra["rope_theta"] = theta
    cfg = LlamaConfig(hidden_size=h, intermediate_size=inter, num_hidden_layers=layers, num_attention_heads=heads,
                      num_key_value_heads=kv, vocab_size=extra.pop("vocab_size", 32000), tie_word_embeddings=False,
                      max_position_embeddings=max(4096, seq), use_cache=False, **extra)
    cfg._attn_implementation = "sdpa"
    return cfg


def linear_shapes(cfg):
    h, i = cfg.hidden_size, cfg.intermediate_size
    kv = cfg.num_key_value_heads * (h // cfg.num_attention_heads)
    return [(h, h), (h, kv), (h, kv), (h, h), (h, i), (h, i), (i, h)]  # q k v o gate up down, (in, out)


def weight_bytes(cfg, quantized):
    h, layers = cfg.hidden_size, cfg.num_hidden_layers
    dense = 2 * (2 * cfg.vocab_size * h + (2 * layers + 1) * h)  # embeddings, lm_head, norms in bf16
    if not quantized:
        return dense + 2 * layers * sum(i * o for i, o in linear_shapes(cfg))
    per_layer = sum(i * o // 2 + math.ceil(i / 128) * o * 5 // 2 + 4 * i for i, o in linear_shapes(cfg))
    return dense + layers * per_layer


def build_model(cfg, dev, quantized=False):
    """Build on meta, materialize on `dev` with to_empty, fill in place: no full-precision copy, and in the
    quantized model the decoder linears never exist as bf16."""
    from transformers import LlamaForCausalLM
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device("meta"):
            model = LlamaForCausalLM(cfg)
    finally:
        torch.set_default_dtype(old)
    if quantized:
        for layer in model.model.layers:
            for parent, names in ((layer.self_attn, ("q_proj", "k_proj", "v_proj", "o_proj")),
                                  (layer.mlp, ("gate_proj", "up_proj", "down_proj"))):
                for n in names:
                    lin = getattr(parent, n)
                    setattr(parent, n, GPTQLinear4(lin.in_features, lin.out_features, 128, device="meta"))
    model.to_empty(device=dev)
    for name, mod in list(model.named_modules()):
        if type(mod).__name__.endswith("RotaryEmbedding"):  # inv_freq is a computed buffer: rebuild it
            parent, _, attr = name.rpartition(".")
            setattr(model.get_submodule(parent), attr, type(mod)(config=model.config, device=dev))
    with torch.no_grad():
        for p in model.parameters():
            assert p.dtype == torch.bfloat16, p.dtype
            p.fill_(1.0) if p.ndim == 1 else p.normal_(0.0, 0.02)  # RMSNorm weights are the only 1-d ones
        for m in model.modules():
            if isinstance(m, GPTQLinear4):
                m.randomize()
    return model


# ---------------------------------------------------------------- peers: each builds its model, returns one iteration
def eval_loss(model, batch):
    def loss_fn():
        with torch.inference_mode():
            return model(**batch).loss
    return loss_fn


def peer_forward(cfg, dev, batch, args):
    return eval_loss(build_model(cfg, dev).eval(), batch)


def peer_mezo(cfg, dev, batch, args):
    model = build_model(cfg, dev).eval()
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    loss_fn = eval_loss(model, batch)

    def it():
        seed, loss1, d = zo_step([p for _, p in named], loss_fn, args.eps, args.official_arith)
        mezo_update(named, seed, d, args.lr, args.official_arith)
        return loss1
    return it


def peer_qzo(cfg, dev, batch, args):
    model = build_model(cfg, dev, quantized=True).eval()
    scales = [m.scales for m in model.modules() if isinstance(m, GPTQLinear4)]
    loss_fn = eval_loss(model, batch)

    def it():
        seed, loss1, d = zo_step(scales, loss_fn, args.eps, args.official_arith)
        qzo_update(scales, seed, d, args.lr, args.official_arith)
        return loss1
    return it


def peer_qzo_compile(cfg, dev, batch, args):
    torch._dynamo.reset()  # fresh recompile budget per shape
    DEQUANT["fn"] = torch.compile(dequant4, dynamic=False)
    return peer_qzo(cfg, dev, batch, args)


def train_step(model, opt, batch):
    def it():
        loss = model(**batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.detach()
    return it


def peer_adamw(cfg, dev, batch, args):
    model = build_model(cfg, dev).train()
    return train_step(model, torch.optim.AdamW(model.parameters(), lr=1e-5), batch)


def peer_lora(cfg, dev, batch, args):
    from peft import LoraConfig, get_peft_model
    lcfg = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], lora_dropout=0.0, bias="none",
                      task_type="CAUSAL_LM")
    model = get_peft_model(build_model(cfg, dev), lcfg).train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    print(f"    lora: {sum(p.numel() for p in trainable):,} trainable params, dtype {trainable[0].dtype}", flush=True)
    return train_step(model, torch.optim.AdamW(trainable, lr=1e-4), batch)


PEER_FNS = {"forward": peer_forward, "mezo": peer_mezo, "qzo": peer_qzo, "qzo-compile": peer_qzo_compile,
            "adamw": peer_adamw, "lora": peer_lora}


# ---------------------------------------------------------------- measurement
def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def free(dev):
    DEQUANT["fn"] = dequant4
    gc.collect()
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        torch.cuda.empty_cache()


def run_peer(peer, cfg, dev, batch, args, tokens):
    res = {"seconds": None, "tokens_per_s": None, "peak_allocated_bytes": None, "peak_reserved_bytes": None,
           "oom": False}
    quantized = peer.startswith("qzo")
    need = weight_bytes(cfg, quantized)
    total = torch.cuda.get_device_properties(dev).total_memory if dev.type == "cuda" else None
    if total is not None and need > total:
        kind = "4-bit + bf16 embedding" if quantized else "bf16"
        res["skipped"] = f"needs ~{need / GIB:.1f} GiB of {kind} weights, GPU has {total / GIB:.1f} GiB"
        return res
    free(dev)
    if dev.type == "cuda":
        res["start_allocated_bytes"] = torch.cuda.memory_allocated(dev)
        torch.cuda.reset_peak_memory_stats(dev)
    it = None
    torch.manual_seed(args.seed)  # same random weights for every peer of a shape
    try:
        t0 = time.perf_counter()
        it = PEER_FNS[peer](cfg, dev, batch, args)
        sync(dev)
        res["build_seconds"] = time.perf_counter() - t0
        for _ in range(args.warmup):
            it()
        times = []
        for _ in range(args.steps):
            sync(dev)
            t0 = time.perf_counter()
            loss = it()
            sync(dev)
            times.append(time.perf_counter() - t0)
        res["seconds"] = statistics.median(times)
        res["times"] = times
        res["tokens_per_s"] = tokens / res["seconds"]
        res["loss"] = float(loss)
        if not math.isfinite(res["loss"]):
            print(f"    warning: {peer} loss is {res['loss']}", flush=True)
    except OOM:
        res["oom"] = True
    except Exception as e:  # report and go on with the next peer
        traceback.print_exc()
        res["error"] = f"{type(e).__name__}: {e}"[:500]
    it = None
    if dev.type == "cuda":
        res["peak_allocated_bytes"] = torch.cuda.max_memory_allocated(dev)
        res["peak_reserved_bytes"] = torch.cuda.max_memory_reserved(dev)
    free(dev)
    return res


def row(shape, peer, r):
    gib = lambda b: f"{b / GIB:7.2f}" if b is not None else "      -"
    if r.get("skipped"):
        note = "skipped (" + r["skipped"] + ")"
    elif r["oom"]:
        note = "OOM"
    elif r.get("error"):
        note = "error: " + r["error"][:60]
    else:
        note = f"loss {r['loss']:.3f}  min {min(r['times']):.4f} s  build {r['build_seconds']:.1f} s"
    sec = f"{r['seconds']:9.4f}" if r["seconds"] else "        -"
    tps = f"{r['tokens_per_s']:10.0f}" if r["tokens_per_s"] else "         -"
    return f"{shape:11s} {peer:12s} {sec} {tps} {gib(r['peak_allocated_bytes'])} {gib(r['peak_reserved_bytes'])}  {note}"


HEADER = f"{'shape':11s} {'peer':12s} {'s/iter':>9s} {'tokens/s':>10s} {'peakGiB':>7s} {'resvGiB':>7s}  notes"


def bench(args):
    import transformers
    transformers.logging.set_verbosity_error()
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    shapes = [s for arg in (args.shape or ["llama2-7b"]) for s in arg.split(",") if s]
    which = [p for p in args.which.split(",") if p]
    for name in shapes + which:
        if name not in SHAPES and name not in PEERS:
            sys.exit(f"unknown shape or peer {name!r}; shapes {list(SHAPES)}, peers {list(PEERS)}")
    out = {"device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu", "torch": torch.__version__,
           "transformers": transformers.__version__, "batch": args.batch, "seq": args.seq, "steps": args.steps,
           "warmup": args.warmup, "eps": args.eps, "lr": args.lr,
           "zo_arithmetic": "official out-of-place" if args.official_arith else "in place", "shapes": {}}
    print(f"device {out['device']}, torch {out['torch']}, transformers {out['transformers']}, batch {args.batch} x "
          f"{args.seq}, {args.steps} timed after {args.warmup} warm-up; MeZO on bf16 weights; ZO arithmetic "
          f"{out['zo_arithmetic']}", flush=True)
    lines = []
    for shape in shapes:
        cfg = make_config(shape, args.seq)
        g = torch.Generator(device="cpu").manual_seed(args.seed)
        ids = torch.randint(0, cfg.vocab_size, (args.batch, args.seq), generator=g).to(dev)
        batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids}
        out["shapes"][shape] = {}
        for peer in which:
            print(f"  {shape} {peer} ...", flush=True)
            random.seed(args.seed)
            r = run_peer(peer, cfg, dev, batch, args, args.batch * args.seq)
            out["shapes"][shape][peer] = r
            lines.append(row(shape, peer, r))
            print(HEADER + "\n" + lines[-1], flush=True)
            if args.json:  # rewritten after every peer so a run cut short keeps what it measured
                with open(args.json, "w") as f:
                    json.dump(out, f, indent=1)
        del batch, ids
    print("\n" + HEADER + "\n" + "\n".join(lines), flush=True)


# ---------------------------------------------------------------- self-test (no transformers needed)
def pack4(codes, dim):
    """Pack int codes 0..15 eight to an int32 word along `dim`, value k at bits 4k (docs/formats.md §4)."""
    c = codes.long().movedim(dim, -1)
    words = (c.reshape(*c.shape[:-1], -1, 8) << torch.arange(0, 32, 4, device=c.device)).sum(-1)
    words = torch.where(words >= 2 ** 31, words - 2 ** 32, words).to(torch.int32)
    return words.movedim(-1, dim).contiguous()


def self_test(dev):
    torch.manual_seed(0)
    random.seed(0)
    failures = []

    def check(name, ok, detail=""):
        print(f"{'ok  ' if ok else 'FAIL'} {name} {detail}", flush=True)
        if not ok:
            failures.append(name)

    def rel(a, b):
        return ((a.double() - b.double()).norm() / b.double().norm()).item()

    # docs/formats.md §4 worked example: word 0x76543210 holds rows 0..7 = codes 0..7, zero 8, scale 0.01
    m = GPTQLinear4(128, 8, device=dev)
    m.qweight.zero_()
    m.qweight[0, 0] = 0x76543210
    m.qzeros.fill_(0x77777777)
    m.scales.fill_(0.01)
    m.g_idx.zero_()
    w = dequant4(m.qweight, m.qzeros, m.scales, m.g_idx, 128, True, torch.float32).cpu()
    s01 = float(torch.tensor(0.01, dtype=torch.float16))
    check("formats example", torch.equal(w[:8, 0], torch.tensor([(k - 8) * s01 for k in range(8)])) and
          bool((w[8:, 0] == -8 * s01).all()) and bool((w[:, 1:] == -8 * s01).all()))

    # random codes, zeros and scales; the reference applies the formula to the unpacked values directly
    for in_f, out_f, layout in ((256, 48, "grouped"), (320, 40, "partial last group"), (384, 64, "act-order"),
                                (4096, 1024, "grouped, asymmetric zeros")):
        groups = -(-in_f // 128)
        codes = torch.randint(0, 16, (in_f, out_f))
        zeros = torch.randint(1, 16, (groups, out_f)) if "asym" in layout else torch.full((groups, out_f), 8)
        scales = (torch.rand(groups, out_f) * 0.01 + 0.01).half()
        g_idx = torch.arange(in_f) // 128
        if layout == "act-order":  # g_idx[i] = rank(i) // g for a random column order
            g_idx = torch.argsort(torch.randperm(in_f)) // 128
        m = GPTQLinear4(in_f, out_f, device=dev)
        m.qweight.copy_(pack4(codes, 0))
        m.qzeros.copy_(pack4(zeros - 1, 1))  # v1 stores zero - 1
        m.scales.copy_(scales)
        m.g_idx.copy_(g_idx.int())
        ref = scales.double()[g_idx] * (codes - zeros[g_idx]).double()
        w32 = dequant4(m.qweight, m.qzeros, m.scales, m.g_idx, 128, False, torch.float32).cpu()
        check(f"dequant fp32 exact, gather path, {layout}", torch.equal(w32.double(), ref))
        x = torch.randn(7, in_f, device=dev).to(torch.bfloat16)
        y = m(x)
        check(f"forward bf16 ({'grouped' if m._grouped else 'gather'} path), {layout}",
              y.dtype == torch.bfloat16 and rel(y.cpu(), x.cpu().double() @ ref) < 1e-2, f"rel {rel(y.cpu(), x.cpu().double() @ ref):.2e}")
        if m._grouped:
            w32 = dequant4(m.qweight, m.qzeros, m.scales, m.g_idx, 128, True, torch.float32).cpu()
            check(f"dequant fp32 exact, grouped path, {layout}", torch.equal(w32.double(), ref))
            wb = dequant4(m.qweight, m.qzeros, m.scales, m.g_idx, 128, True, torch.bfloat16).cpu()
            check(f"dequant bf16 grouped path, {layout}", rel(wb, ref) < 2 ** -8, f"rel {rel(wb, ref):.2e}")
    m = GPTQLinear4(256, 64, device=dev)
    m.randomize()
    check("randomize: codes use all 32 bits", bool((m.qweight < 0).any()) and bool((m.qweight > 0).any()))

    # ZO steps on a toy regression. CPU half RNG may be missing in old torch: use fp32 scales there.
    torch.manual_seed(1)
    sdt = torch.float16 if dev.type == "cuda" else torch.float32
    layers = [GPTQLinear4(128, 128, device=dev), GPTQLinear4(128, 16, device=dev)]
    for l in layers:
        l.randomize()
        l.scales = l.scales.to(sdt)
    x = torch.randn(64, 128, device=dev)
    with torch.no_grad():
        teacher = layers[1](torch.tanh(layers[0](x))) * 1.2
    scales = [l.scales for l in layers]
    loss_fn = lambda: ((layers[1](torch.tanh(layers[0](x))) - teacher) ** 2).mean()
    before = [s.clone() for s in scales]
    seed, l1, d = zo_step(scales, loss_fn, 1e-3, False)
    tol = 5e-5 if sdt == torch.float16 else 1e-8  # +eps, -2eps, +eps rounds three times
    check("zo_step restores the scales", max((a - b).abs().max().item() for a, b in zip(scales, before)) <= tol)
    for s, b in zip(scales, before):
        s.copy_(b)
    qzo_update(scales, seed, d, 1e-4, False)
    inplace = [s.clone() for s in scales]
    for s, b in zip(scales, before):
        s.copy_(b)
    qzo_update(scales, seed, d, 1e-4, True)
    check("qzo_update: official arithmetic == in place",
          all(torch.allclose(a, b, rtol=0, atol=tol) for a, b in zip(scales, inplace)))
    start = loss_fn().item()
    for _ in range(300):
        seed, l1, d = zo_step(scales, loss_fn, 1e-3, False)
        qzo_update(scales, seed, d, 1e-4, False)
    check("QZO lowers the toy loss", loss_fn().item() < 0.7 * start, f"{start:.4g} -> {loss_fn().item():.4g}")
    check("QZO keeps scales >= 1e-7", all(bool((s >= 1e-7).all()) for s in scales))

    lin = nn.Linear(32, 4).to(dev)
    named = list(lin.named_parameters())
    xs = torch.randn(64, 32, device=dev)
    ys = xs @ torch.randn(32, 4, device=dev)
    mse = lambda: ((lin(xs) - ys) ** 2).mean()
    start = mse().item()
    for _ in range(300):
        seed, l1, d = zo_step([p for _, p in named], mse, 1e-3, True)
        mezo_update(named, seed, d, 1e-3, True)
    check("MeZO (official arithmetic) lowers the toy loss", mse().item() < 0.7 * start, f"{start:.4g} -> {mse().item():.4g}")
    print(f"{'FAILED: ' + ', '.join(failures) if failures else 'all passed'} ({dev}, torch {torch.__version__})")
    return not failures


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", action="append", help=f"comma-separated, repeatable: {','.join(SHAPES)}")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--which", default="forward,mezo,qzo,adamw,lora", help=f"comma-separated of {','.join(PEERS)}")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--eps", type=float, default=1e-3)
    ap.add_argument("--lr", type=float, default=1e-7, help="MeZO and QZO learning rate")
    ap.add_argument("--official-arith", action="store_true",
                    help="ZO perturb/update as the official code writes them (param.data = param.data + f*z*eps, "
                         "out of place, MeZO's weight-decay term too) instead of one in-place add_ per tensor")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json")
    ap.add_argument("--self-test", action="store_true", help="check the GPTQ linear and ZO steps on tiny shapes")
    args = ap.parse_args()
    if args.self_test:
        ok = self_test(torch.device("cuda" if torch.cuda.is_available() else "cpu"))
        sys.exit(0 if ok else 1)
    bench(args)


if __name__ == "__main__":
    main()
