"""The PyTorch peer for `qzo imagine` at full size: diffusers' StableDiffusion3Pipeline in bf16 on one GPU, timed and
measured the way Qzo reports itself (encode, denoise, decode; the device's peak bytes). Not part of Qzo.

    python3 bench/sd3_peer.py PIPELINE_DIR --mode pipeline|transformer [--size 1024] [--steps 28] [--guidance 3.5]
                              [--max-sequence-length 256] [--json OUT.json] [--diffusers-tar .oracle/diffusers-src.tar.xz]

--mode pipeline: the whole bf16 pipeline on the GPU (what a user of diffusers runs), one warm-up call of 2 steps, then
  one timed call of --steps steps with classifier-free guidance. Denoise time runs from the transformer's first call
  to the last step's end (CUDA synchronised at both); peak is torch.cuda.max_memory_allocated over the timed call, and
  separately over the denoising loop alone.
--mode transformer: SD3Transformer2DModel alone in bf16, --steps forward passes on the batch of 2 that guidance runs
  (latents of --size, 77 + max_sequence_length text tokens), after one warm-up pass; the peak over those passes.

diffusers is not installed on the device: its source comes from the tar that tests/oracle/pack-diffusers.sh makes.
"""
import argparse
import json
import os
import sys
import tarfile
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402


def import_diffusers(tar_path, tmp):
    with tarfile.open(tar_path) as tar:
        tar.extractall(tmp, filter="data")
    sys.path.insert(0, os.path.join(tmp, "src"))
    import diffusers  # noqa: F401
    return diffusers


def synchronized_time():
    torch.cuda.synchronize()
    return time.perf_counter()


def gib(n):
    return round(n / 2**30, 3)


def run_pipeline(diffusers, folder, a):
    load = synchronized_time()
    # a pipeline written without T5 (qzo synth --no-t5) names text_encoder_3 null: diffusers wants it passed as None
    no_t5 = {} if os.path.isdir(os.path.join(folder, "text_encoder_3")) else {"text_encoder_3": None, "tokenizer_3": None}
    pipe = diffusers.StableDiffusion3Pipeline.from_pretrained(folder, torch_dtype=torch.bfloat16, **no_t5).to("cuda")
    pipe.set_progress_bar_config(disable=True)
    load = synchronized_time() - load
    marks = {}

    def first_call(_module, _args, _kwargs):
        if "denoise_start" not in marks:
            marks["denoise_start"] = synchronized_time()
            torch.cuda.reset_peak_memory_stats()

    def step_end(_pipe, step, _t, kwargs):
        marks["denoise_end"] = synchronized_time()
        marks["denoise_peak"] = torch.cuda.max_memory_allocated()
        return kwargs

    pipe.transformer.register_forward_pre_hook(first_call, with_kwargs=True)
    call = dict(prompt="a red fox in the snow", negative_prompt="", height=a.size, width=a.size, guidance_scale=a.guidance,
                max_sequence_length=a.max_sequence_length, callback_on_step_end=step_end, output_type="pil")
    pipe(num_inference_steps=2, generator=torch.Generator("cuda").manual_seed(1), **call)   # warm-up
    marks.clear()
    torch.cuda.reset_peak_memory_stats()
    start = synchronized_time()
    image = pipe(num_inference_steps=a.steps, generator=torch.Generator("cuda").manual_seed(0), **call).images[0]
    end = synchronized_time()
    total_peak = max(torch.cuda.max_memory_allocated(), marks["denoise_peak"])
    return {"mode": "pipeline", "load_seconds": round(load, 3), "total_seconds": round(end - start, 3),
            "encode_seconds": round(marks["denoise_start"] - start, 3),
            "denoise_seconds": round(marks["denoise_end"] - marks["denoise_start"], 3),
            "decode_seconds": round(end - marks["denoise_end"], 3),
            "denoise_peak_gib": gib(marks["denoise_peak"]), "peak_gib": gib(total_peak), "image_size": list(image.size)}


def run_transformer(diffusers, folder, a):
    load = synchronized_time()
    model = diffusers.SD3Transformer2DModel.from_pretrained(os.path.join(folder, "transformer"),
                                                           torch_dtype=torch.bfloat16).to("cuda").eval()
    load = synchronized_time() - load
    c = model.config
    side = a.size // 8
    g = torch.Generator("cuda").manual_seed(0)
    latents = torch.randn(2, c.in_channels, side, side, generator=g, device="cuda", dtype=torch.bfloat16)
    context = torch.randn(2, 77 + a.max_sequence_length, c.joint_attention_dim, generator=g, device="cuda",
                          dtype=torch.bfloat16)
    pooled = torch.randn(2, c.pooled_projection_dim, generator=g, device="cuda", dtype=torch.bfloat16)
    timestep = torch.tensor([500.0, 500.0], device="cuda")
    with torch.no_grad():
        model(hidden_states=latents, encoder_hidden_states=context, pooled_projections=pooled, timestep=timestep)
        torch.cuda.reset_peak_memory_stats()
        start = synchronized_time()
        for _ in range(a.steps):
            model(hidden_states=latents, encoder_hidden_states=context, pooled_projections=pooled, timestep=timestep)
        seconds = synchronized_time() - start
    return {"mode": "transformer", "load_seconds": round(load, 3), "denoise_seconds": round(seconds, 3),
            "step_seconds": round(seconds / a.steps, 4), "peak_gib": gib(torch.cuda.max_memory_allocated()),
            "tokens": 2 * (side // c.patch_size) ** 2 + 2 * (77 + a.max_sequence_length)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder")
    p.add_argument("--mode", choices=["pipeline", "transformer"], required=True)
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--steps", type=int, default=28)
    p.add_argument("--guidance", type=float, default=3.5)
    p.add_argument("--max-sequence-length", type=int, default=256)
    p.add_argument("--json")
    p.add_argument("--diffusers-tar", default=".oracle/diffusers-src.tar.xz")
    a = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    with tempfile.TemporaryDirectory() as tmp:
        diffusers = import_diffusers(a.diffusers_tar, tmp)
        result = (run_pipeline if a.mode == "pipeline" else run_transformer)(diffusers, a.folder, a)
    result.update({"size": a.size, "steps": a.steps, "gpu": torch.cuda.get_device_name(0), "torch": torch.__version__,
                   "diffusers": diffusers.__version__})
    line = json.dumps(result)
    print("PEER " + line)
    if a.json:
        with open(a.json, "w") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
