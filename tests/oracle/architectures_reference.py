"""Device-side oracle for Qzo's Mistral, Qwen2, OPT (issue 5), Qwen3 and Gemma 3 (issue 13) forward passes,
modeled on llama_reference.py.

Builds small random MistralForCausalLM, Qwen2ForCausalLM, OPTForCausalLM, Qwen3ForCausalLM, Gemma3ForCausalLM and
(text only) Gemma3ForConditionalGeneration models with Hugging Face
transformers (seeded), saves them with save_pretrained (safetensors), and records what transformers computes:
  * on a right-padded batch, in the exact format of llama_reference.py (top-level keys), and on the same
    sequences padded on the left ("left_padding"): the mean loss (pads and prompt tokens ignored), per-sequence
    NLL sums, the logits at each sequence's last real token, and all logits of the first (unpadded) sequence,
    each in fp32 and fp64 arithmetic;
  * greedy generation of 32 new tokens from two unpadded prompts (model.generate, do_sample=False,
    min_new_tokens=32 so EOS never ends it early), with the margin between the best and second-best score
    at each step, and a check that a plain full-forward argmax loop picks the same tokens.
Qzo's CPU tests read OUT_DIR/<name>/ (tests/fixtures/hf-arch, HuggingFaceParityTests), so CI checks the same
equalities without Python. Llama-3 is covered by llama_reference.py and not repeated here.

Run on the device (CPU arithmetic; nothing is downloaded), from the repository root, then commit the folder:
    mkdir -p tests/fixtures/hf-arch
    python3 tests/oracle/architectures_reference.py tests/fixtures/hf-arch [NAME ...] 2>&1 | tee tests/fixtures/hf-arch/oracle-log.txt
(torch 2.11, transformers 5.17; about a minute). Not part of Qzo: nothing in the product needs Python.
"""
import json
import os
import sys

import torch
import transformers
from transformers import (Gemma3Config, Gemma3ForCausalLM, Gemma3ForConditionalGeneration, Gemma3TextConfig,
                          MistralConfig, MistralForCausalLM, OPTConfig, OPTForCausalLM, Qwen2Config, Qwen2ForCausalLM,
                          Qwen3Config, Qwen3ForCausalLM, SiglipVisionConfig)

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False

VOCAB = 256
NEW_TOKENS = 32
COMMON = dict(vocab_size=VOCAB, bos_token_id=1, eos_token_id=2, pad_token_id=0, attn_implementation="eager")

MODELS = {
    # GQA, a sliding window (5) shorter than the longest sequence (17) and the generated ones, untied head, bf16 on disk.
    "mistral-window-gqa-bf16": dict(
        family="mistral", dtype=torch.bfloat16,
        config=dict(hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, sliding_window=5, rms_norm_eps=1e-5, max_position_embeddings=4096,
                    tie_word_embeddings=False, hidden_act="silu"),
        rope={"rope_type": "default", "rope_theta": 10000.0},
    ),
    # q/k/v biases, tied embeddings, Qwen2.5's theta, fp32 on disk; use_sliding_window false (as released models).
    "qwen2-bias-tied-fp32": dict(
        family="qwen2", dtype=torch.float32,
        config=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, rms_norm_eps=1e-6, max_position_embeddings=4096, tie_word_embeddings=True,
                    use_sliding_window=False, hidden_act="silu"),
        rope={"rope_type": "default", "rope_theta": 1000000.0},
    ),
    # Pre-LayerNorm (opt-125m's order) with word_embed_proj_dim != hidden (project_in/project_out), tied, fp32.
    "opt-prenorm-project-fp32": dict(
        family="opt", dtype=torch.float32,
        config=dict(hidden_size=64, ffn_dim=128, num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=64,
                    word_embed_proj_dim=48, do_layer_norm_before=True, activation_function="relu", enable_bias=True,
                    layer_norm_elementwise_affine=True, tie_word_embeddings=True, dropout=0.0, attention_dropout=0.0),
    ),
    # opt-350m's layout: post-LayerNorm (no final layer norm), project_in/out, here untied and bf16 on disk.
    "opt-postnorm-untied-bf16": dict(
        family="opt", dtype=torch.bfloat16,
        config=dict(hidden_size=64, ffn_dim=128, num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=64,
                    word_embed_proj_dim=32, do_layer_norm_before=False, activation_function="relu", enable_bias=True,
                    layer_norm_elementwise_affine=True, tie_word_embeddings=False, dropout=0.0, attention_dropout=0.0),
    ),
    # Qwen3: q/k RMSNorm per head, head_dim (32) != hidden / heads (16), no biases, tied, fp32.
    "qwen3-qknorm-headdim-tied-fp32": dict(
        family="qwen3", dtype=torch.float32,
        config=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=32, rms_norm_eps=1e-6, max_position_embeddings=4096,
                    tie_word_embeddings=True, attention_bias=False, use_sliding_window=False, hidden_act="silu"),
        rope={"rope_type": "default", "rope_theta": 1000000.0},
    ),
    # Qwen3 with attention_bias, untied, and a window (5) on the layers from max_window_layers (1) on, bf16 on disk.
    "qwen3-bias-window-bf16": dict(
        family="qwen3", dtype=torch.bfloat16,
        config=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-6, max_position_embeddings=4096,
                    tie_word_embeddings=False, attention_bias=True, use_sliding_window=True, sliding_window=5,
                    max_window_layers=1, hidden_act="silu"),
        rope={"rope_type": "default", "rope_theta": 10000.0},
    ),
    # Gemma 3 text: sqrt(48) embedding scale (not exact in bf16), head_dim 32 != 48 / 4, query_pre_attn_scalar 24,
    # two sliding layers (window 4, local RoPE base) then a global one (rope_theta with linear scaling x8), softcapping
    # on the attention scores and the logits, fp32; given in the Hub's config.json spelling (transformers converts it).
    "gemma3-softcap-fp32": dict(
        family="gemma3", dtype=torch.float32, norm_around=0.0,
        config=dict(hidden_size=48, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=32, query_pre_attn_scalar=24, rms_norm_eps=1e-6,
                    max_position_embeddings=4096, sliding_window=4,
                    layer_types=["sliding_attention", "sliding_attention", "full_attention"],
                    rope_theta=1000000.0, rope_local_base_freq=10000.0,
                    rope_scaling={"rope_type": "linear", "factor": 8.0},
                    final_logit_softcapping=5.0, attn_logit_softcapping=3.0, tie_word_embeddings=True,
                    hidden_activation="gelu_pytorch_tanh"),
    ),
    # Gemma 3 as released (no softcapping, default RoPE everywhere), 1 global layer after 1 sliding one, bf16 on disk.
    "gemma3-bf16": dict(
        family="gemma3", dtype=torch.bfloat16, norm_around=0.0,
        config=dict(hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=1, head_dim=16, query_pre_attn_scalar=16, rms_norm_eps=1e-6,
                    max_position_embeddings=4096, sliding_window=4,
                    layer_types=["sliding_attention", "full_attention"],
                    rope_theta=1000000.0, rope_local_base_freq=10000.0, tie_word_embeddings=True,
                    hidden_activation="gelu_pytorch_tanh"),
    ),
    # The language model inside a Gemma3ForConditionalGeneration checkpoint (a tiny SigLIP tower Qzo must ignore).
    "gemma3-multimodal-fp32": dict(
        family="gemma3-mm", dtype=torch.float32, norm_around=0.0,
        config=dict(hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=16, query_pre_attn_scalar=16, rms_norm_eps=1e-6,
                    max_position_embeddings=4096, sliding_window=4,
                    layer_types=["sliding_attention", "full_attention"],
                    rope_theta=1000000.0, rope_local_base_freq=10000.0, tie_word_embeddings=True,
                    hidden_activation="gelu_pytorch_tanh"),
    ),
}

CLASSES = {"mistral": (MistralConfig, MistralForCausalLM), "qwen2": (Qwen2Config, Qwen2ForCausalLM),
           "opt": (OPTConfig, OPTForCausalLM), "qwen3": (Qwen3Config, Qwen3ForCausalLM),
           "gemma3": (Gemma3TextConfig, Gemma3ForCausalLM), "gemma3-mm": (Gemma3Config, Gemma3ForConditionalGeneration)}


def make_config(spec):
    config_class, _ = CLASSES[spec["family"]]
    if spec["family"] == "gemma3-mm":
        text = Gemma3TextConfig(**spec["config"], **COMMON)
        vision = SiglipVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                                    image_size=28, patch_size=14)
        return Gemma3Config(text_config=text.to_dict(), vision_config=vision.to_dict(), mm_tokens_per_image=4,
                            image_token_index=VOCAB - 1, boi_token_index=VOCAB - 3, eoi_token_index=VOCAB - 2,
                            tie_word_embeddings=True), "text_config"
    rope = spec.get("rope")
    if rope is None:
        return config_class(**spec["config"], **COMMON), "none"
    try:
        return config_class(**spec["config"], **COMMON, rope_parameters=rope), "rope_parameters"
    except TypeError:
        return config_class(**spec["config"], **COMMON, rope_theta=rope["rope_theta"], rope_scaling=None), "rope_theta"


def randomize(model, seed, norm_around=1.0):
    """Gemma's RMSNorm multiplies by (1 + weight), so its weights are drawn around 0 (norm_around=0)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "vision_tower" in name or "multi_modal_projector" in name:
                p.copy_(0.02 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            elif "norm" in name:
                p.copy_(norm_around + 0.2 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_(1.0 * torch.randn(p.shape, generator=g))
            elif "embed_positions" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p.shape[-1]
                p.copy_(torch.randn(p.shape, generator=g) * (1.5 / fan_in ** 0.5))


def sequences():
    g = torch.Generator().manual_seed(7)
    return [torch.randint(3, VOCAB, (n,), generator=g).tolist() for n in (17, 12, 5)]


def padded_batch(seqs, left):
    """Pads with 0; labels ignore pads, the first 4 tokens of sequence 0 (a prompt) and each sequence's first token."""
    T = max(len(s) for s in seqs)
    ids = torch.zeros(len(seqs), T, dtype=torch.long)
    mask = torch.zeros(len(seqs), T, dtype=torch.long)
    labels = torch.full((len(seqs), T), -100, dtype=torch.long)
    for b, s in enumerate(seqs):
        start = T - len(s) if left else 0
        ids[b, start:start + len(s)] = torch.tensor(s)
        mask[b, start:start + len(s)] = 1
        labels[b, start + 1:start + len(s)] = torch.tensor(s[1:])  # the first real token is predicted by nothing
    labels[0, :4] = -100
    return ids, mask, labels


def per_sequence_loss(logits, labels):
    out = []
    for b in range(logits.shape[0]):
        lg = logits[b, :-1].double()
        lb = labels[b, 1:]
        keep = lb != -100
        lp = torch.log_softmax(lg[keep], dim=-1)
        nll = -lp.gather(1, lb[keep].unsqueeze(1)).squeeze(1)
        out.append({"sum": nll.sum().item(), "count": int(keep.sum())})
    return out


def run_batch(model, ids, mask, labels):
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
    logits = out.logits
    last = [int(mask[b].nonzero().max()) for b in range(ids.shape[0])]
    return {
        "loss": out.loss.item(),
        "per_sequence": per_sequence_loss(logits, labels),
        "last_logits": [logits[b, t].tolist() for b, t in enumerate(last)],
        "first_sequence_logits": logits[0].tolist(),
    }


def batch_record(models, seqs, left):
    ids, mask, labels = padded_batch(seqs, left)
    record = {"lengths": [len(s) for s in seqs], "input_ids": ids.tolist(), "attention_mask": mask.tolist(),
              "labels": labels.tolist()}
    for precision, model in models.items():
        record[precision] = run_batch(model, ids, mask, labels)
    return record


def greedy(model, prompt, suppressed):
    """model.generate's greedy tokens and score margins, checked against a plain full-forward argmax loop."""
    ids = torch.tensor([prompt])
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False, num_beams=1,
                             max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, output_scores=True,
                             return_dict_in_generate=True, pad_token_id=0)
    tokens = out.sequences[0, len(prompt):].tolist()
    margins = []
    for scores in out.scores:
        top = torch.topk(scores[0].float(), 2).values
        margins.append((top[0] - top[1]).item())
    plain = list(prompt)
    with torch.no_grad():
        for _ in range(NEW_TOKENS):
            logits = model(input_ids=torch.tensor([plain])).logits[0, -1].clone()
            logits[suppressed] = float("-inf")
            plain.append(int(logits.argmax()))
    return {"prompt": prompt, "tokens": tokens, "margins": margins,
            "plain_loop_agrees": plain[len(prompt):] == tokens}


def window_matters(save_dir, model_class, ids):
    """Mistral only: the window must change the logits past it (proof that eager attention applied it)."""
    windowed = model_class.from_pretrained(save_dir, attn_implementation="eager", dtype=torch.float32).eval()
    full = model_class.from_pretrained(save_dir, attn_implementation="eager", dtype=torch.float32, sliding_window=None).eval()
    with torch.no_grad():
        a = windowed(input_ids=ids).logits[0]
        b = full(input_ids=ids).logits[0]
    w = windowed.config.sliding_window
    return {"before_window_max_abs": (a[:w] - b[:w]).abs().max().item(),
            "past_window_max_abs": (a[w:] - b[w:]).abs().max().item()}


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    report = {"transformers": transformers.__version__, "torch": torch.__version__, "models": {}}
    seqs = sequences()
    g = torch.Generator().manual_seed(11)
    prompts = [torch.randint(3, VOCAB, (n,), generator=g).tolist() for n in (5, 9)]
    only = set(sys.argv[2:])
    for name, spec in MODELS.items():
        if only and name not in only:
            continue
        try:
            report["models"][name] = one_model(out_dir, name, spec, seqs, prompts)
        except Exception as e:  # one family failing must not lose the others' fixtures
            import traceback
            traceback.print_exc()
            report["models"][name] = {"error": repr(e)}
    with open(os.path.join(out_dir, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


def one_model(out_dir, name, spec, seqs, prompts):
    config, spelling = make_config(spec)
    _, model_class = CLASSES[spec["family"]]
    torch.manual_seed(0)
    model = model_class(config).eval()
    randomize(model, seed=len(name), norm_around=spec.get("norm_around", 1.0))
    save_dir = os.path.join(out_dir, name)
    model.to(spec["dtype"]).save_pretrained(save_dir)
    # Reference arithmetic: the saved weights (bf16 ones rounded as on disk) widened to fp32 and fp64, on the CPU.
    models = {p: model_class.from_pretrained(save_dir, attn_implementation="eager", dtype=d).eval()
              for p, d in (("fp32", torch.float32), ("fp64", torch.float64))}
    eos = models["fp32"].generation_config.eos_token_id
    suppressed = sorted(set(eos if isinstance(eos, list) else [] if eos is None else [eos]))
    entry = {"config_spelling": spelling, **batch_record(models, seqs, left=False),
             "left_padding": batch_record(models, seqs, left=True),
             "suppressed_token_ids": suppressed,
             "generation": [greedy(models["fp32"], p, suppressed) for p in prompts]}
    inv_freqs = {n: m.inv_freq.tolist() for n, m in models["fp32"].named_modules() if hasattr(m, "inv_freq")}
    inv_freqs.update({n: b.tolist() for n, b in models["fp32"].named_buffers() if "inv_freq" in n and "." in n})
    if inv_freqs:
        entry["inv_freq"] = next(iter(inv_freqs.values()))
        entry["inv_freqs"] = inv_freqs
    with open(os.path.join(save_dir, "reference.json"), "w") as f:
        json.dump(entry, f)
    summary = {"loss_fp32": entry["fp32"]["loss"], "loss_fp64": entry["fp64"]["loss"],
               "left_loss_fp32": entry["left_padding"]["fp32"]["loss"],
               "max_abs_fp32_vs_fp64_last_logits": max(
                   abs(a - b) for r32, r64 in zip(entry["fp32"]["last_logits"], entry["fp64"]["last_logits"])
                   for a, b in zip(r32, r64)),
               "generation_plain_loop_agrees": [g["plain_loop_agrees"] for g in entry["generation"]],
               "smallest_generation_margin": min(m for g in entry["generation"] for m in g["margins"]),
               "files": sorted(os.listdir(save_dir))}
    if spec["family"] == "mistral":
        summary["sliding_window_check"] = window_matters(save_dir, model_class, torch.tensor([seqs[0]]))
    with open(os.path.join(save_dir, "config.json")) as f:
        summary["saved_config"] = json.load(f)
    from safetensors import safe_open
    with safe_open(os.path.join(save_dir, "model.safetensors"), "pt") as f:
        summary["tensor_names"] = sorted(f.keys())
    return summary


if __name__ == "__main__":
    main(sys.argv[1])
