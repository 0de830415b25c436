"""Device-side oracle for Qzo's Llama forward pass (issue 3).

Builds small random LlamaForCausalLM models with Hugging Face transformers, saves them with
save_pretrained (safetensors), and records what transformers computes on a padded batch:
the mean loss, per-sequence losses, logits at each sequence's last real token, all logits of
the first sequence, and the RoPE inverse frequencies it used. Qzo's CPU tests compare against
these numbers (tests/fixtures/hf-llama/*), so CI checks the same equalities without Python.

Run on the device:  python3 tests/oracle/llama_reference.py OUT_DIR
Not part of Qzo: nothing in the product needs Python.
"""
import json
import os
import sys

import torch
import transformers
from transformers import LlamaConfig, LlamaForCausalLM

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False

MODELS = {
    # GQA, llama3 RoPE scaling (all three frequency branches are hit for head_dim 16 at theta 5e5), untied head, bf16 on disk.
    "llama3-gqa-bf16": dict(
        vocab_size=320, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5, max_position_embeddings=131072,
        tie_word_embeddings=False,
        rope={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
              "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
        dtype=torch.bfloat16,
    ),
    # Multi-head (no GQA), explicit head_dim != hidden/heads, tied embeddings, default RoPE, fp32 on disk.
    "llama2-tied-fp32": dict(
        vocab_size=300, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=3, num_key_value_heads=3, head_dim=32, rms_norm_eps=1e-6, max_position_embeddings=4096,
        tie_word_embeddings=True,
        rope={"rope_type": "default", "rope_theta": 10000.0},
        dtype=torch.float32,
    ),
}


def make_config(spec):
    spec = dict(spec)
    rope = spec.pop("rope")
    spec.pop("dtype")
    common = dict(bos_token_id=1, eos_token_id=2, pad_token_id=0, attention_bias=False, mlp_bias=False,
                  hidden_act="silu", attn_implementation="eager")
    try:
        return LlamaConfig(**spec, **common, rope_parameters=rope), "rope_parameters"
    except TypeError:
        theta = rope["rope_theta"]
        scaling = None if rope["rope_type"] == "default" else {k: v for k, v in rope.items() if k != "rope_theta"}
        return LlamaConfig(**spec, **common, rope_theta=theta, rope_scaling=scaling), "rope_theta+rope_scaling"


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_(1.0 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p.shape[-1]
                p.copy_(torch.randn(p.shape, generator=g) * (1.5 / fan_in ** 0.5))


def batch(vocab):
    g = torch.Generator().manual_seed(7)
    lengths = [17, 12, 5]
    T = max(lengths)
    ids = torch.zeros(len(lengths), T, dtype=torch.long)
    mask = torch.zeros(len(lengths), T, dtype=torch.long)
    for b, n in enumerate(lengths):
        ids[b, :n] = torch.randint(3, vocab, (n,), generator=g)
        mask[b, :n] = 1
    labels = ids.clone()
    labels[mask == 0] = -100
    labels[0, :4] = -100  # a prompt whose tokens carry no loss
    return ids, mask, labels, lengths


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


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    report = {"transformers": transformers.__version__, "torch": torch.__version__, "models": {}}
    for name, spec in MODELS.items():
        config, spelling = make_config(spec)
        torch.manual_seed(0)
        model = LlamaForCausalLM(config).eval()
        randomize(model, seed=len(name))
        save_dir = os.path.join(out_dir, name)
        model.to(spec["dtype"]).save_pretrained(save_dir)
        # Reference arithmetic: the saved weights (bf16 ones rounded as on disk) widened to fp32 and fp64, on the CPU.
        ids, mask, labels, lengths = batch(config.vocab_size)
        entry = {"config_spelling": spelling, "lengths": lengths, "input_ids": ids.tolist(),
                 "attention_mask": mask.tolist(), "labels": labels.tolist()}
        for precision, dtype in (("fp32", torch.float32), ("fp64", torch.float64)):
            m = LlamaForCausalLM.from_pretrained(save_dir, attn_implementation="eager", dtype=dtype).eval()
            with torch.no_grad():
                out = m(input_ids=ids, attention_mask=mask, labels=labels)
            logits = out.logits
            entry[precision] = {
                "loss": out.loss.item(),
                "per_sequence": per_sequence_loss(logits, labels),
                "last_logits": [logits[b, n - 1].tolist() for b, n in enumerate(lengths)],
                "first_sequence_logits": logits[0].tolist(),
            }
            if precision == "fp32":
                entry["inv_freq"] = m.model.rotary_emb.inv_freq.tolist()
        with open(os.path.join(save_dir, "reference.json"), "w") as f:
            json.dump(entry, f)
        report["models"][name] = {"loss_fp32": entry["fp32"]["loss"], "loss_fp64": entry["fp64"]["loss"],
                                  "max_abs_fp32_vs_fp64_last_logits": max(
                                      abs(a - b) for r32, r64 in zip(entry["fp32"]["last_logits"], entry["fp64"]["last_logits"])
                                      for a, b in zip(r32, r64)),
                                  "files": sorted(os.listdir(save_dir))}
    with open(os.path.join(out_dir, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
