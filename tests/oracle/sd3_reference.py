"""Device-side oracle for Qzo's Stable Diffusion 3.5 port: what diffusers v0.39.0 + transformers 5.17 compute on tiny,
seeded SD3-shaped models, written as the fixtures the C# parity tests read (layout: the notes' sd3-fixtures spec).

diffusers is not installed on the device: tests/oracle/pack-diffusers.sh packs its src/diffusers (tag v0.39.0) into
.oracle/diffusers-src.tar.xz, which this script unpacks into a temporary folder and puts first on sys.path (with
HF_HUB_OFFLINE=1; a stub `requests` package is put beside it only if the real one is missing). Nothing is downloaded:
the tokenizers are generated here too (tests/oracle/sd3_text.py: a CLIP-format byte-level BPE trained on generated
prompts, and a SentencePiece Unigram model trained by sentencepiece, in T5's layout: pad 0, eos 1, unk 2, no bos).

Every model is built from a config, re-initialised so that activations stay O(1) and every parameter matters
(linear/conv weights N(0, 1/fan_in), norm weights 1 + 0.1 N(0,1), biases 0.1 N(0,1), embeddings N(0,1); the rows of
a token table that no input uses are zero, which changes no output and keeps the files small; buffers such as SD3's
pos_embed table stay as diffusers computes them), saved with save_pretrained (safetensors), loaded
back with from_pretrained (the reference runs on what the files hold), and run in fp32 on the CPU (IEEE fp32, no TF32)
or in bf16 on CUDA (CPU if there is no GPU). OUT_DIR/<case>/ holds:
  model/           the component as save_pretrained wrote it (config.json + *.safetensors); for pipeline-* the whole
                   StableDiffusion3Pipeline folder (model_index.json, scheduler/, transformer/, vae/, text_encoder*/,
                   tokenizer*/ in the Hub's file layout)
  io.safetensors   inputs and recorded outputs/intermediates, floats as F32 (cast after the run; bf16 inputs are the
                   bf16-rounded values the model saw), token ids as I32
  README.md        what was run, where, with which versions; io.json for the pipeline's call arguments
Cases: clip-l-{fp32,bf16}, clip-g-{fp32,bf16}, t5-{fp32,bf16}, transformer-{fp32,bf16}, vae-{fp32,bf16}, scheduler,
tokenizer-ids (tokenizer folders clip/, clip2/, t5/ and expected.jsonl.gz), pipeline-{fp32,bf16}. Tensor names and
shapes are listed in each case's function below and in its README.md. OUT_DIR/summary.json and one "SUMMARY <case> ..."
line per case on stdout tell what ran; one case failing (traceback printed) does not stop the others.
Where the pipeline case departs from the spec's sizes, on purpose: CLIP-G-like hidden 24 and T5 d_model 80 (so the
32 + 24 CLIP features are zero-padded to 80, as 2048 -> 4096 in SD3.5), a (32, 32) VAE, and CLIP configs whose
eos_token_id is the small vocabulary's EOS id (pipeline_components says why).

Run on the device from the repository root (a minute or two; ~8 MB, mostly the VAE weights), with .oracle carried:
    bash tests/oracle/run-sd3-oracle.sh            # writes $OUT/sd3-fixtures.tgz and $OUT/sd3-oracle-log.txt
or directly:
    python3 tests/oracle/sd3_reference.py OUT_DIR [CASE ...] [--diffusers-tar .oracle/diffusers-src.tar.xz]
then unpack into tests/fixtures (tar xzf sd3-fixtures.tgz -C tests/fixtures gives tests/fixtures/sd3/).
Not part of Qzo: nothing in the product needs Python.
"""
import gzip
import inspect
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
import traceback

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import CLIPTextConfig, CLIPTextModelWithProjection, CLIPTokenizer  # noqa: E402
from transformers import T5Config, T5EncoderModel, T5TokenizerFast  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sd3_text  # noqa: E402

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
if hasattr(torch.backends.cuda.matmul, "allow_bf16_reduced_precision_reduction"):
    torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = False

VERSIONS = {"torch": torch.__version__, "transformers": transformers.__version__}
TIMESTEPS = [937.5, 12.3]  # 1000 * sigma, as the pipeline passes them: one near the start, one near the end
D = None  # the diffusers module, once imported by setup_diffusers


# ---------------------------------------------------------------------------------------------------------------------
# diffusers from the packed sources
# ---------------------------------------------------------------------------------------------------------------------

def write_requests_stub(site):
    """diffusers imports `requests` at module level (pipelines/pipeline_utils.py, loaders/single_file_utils.py,
    utils/remote_utils.py uses requests.Response in an annotation) and checks its version through importlib.metadata
    (dependency_versions_check.py). Offline, a stub with those names and a dist-info is enough."""
    pkg = os.path.join(site, "requests")
    os.makedirs(pkg, exist_ok=True)
    with open(os.path.join(pkg, "__init__.py"), "w") as f:
        f.write('"""Offline stub for diffusers\' imports (tests/oracle/sd3_reference.py); any use raises."""\n'
                "__version__ = '2.32.3'\n"
                "class RequestException(IOError): pass\n"
                "class ConnectionError(RequestException): pass\n"
                "class HTTPError(RequestException): pass\n"
                "class Timeout(RequestException): pass\n"
                "class Response: pass\n"
                "class Session:\n"
                "    def __init__(self, *a, **k): raise ConnectionError('offline stub')\n"
                "def _offline(*a, **k): raise ConnectionError('offline stub: no network on this machine')\n"
                "get = post = put = head = request = _offline\n"
                "class exceptions:\n"
                "    RequestException, ConnectionError, HTTPError, Timeout = "
                "RequestException, ConnectionError, HTTPError, Timeout\n")
    meta = os.path.join(site, "requests-2.32.3.dist-info")
    os.makedirs(meta, exist_ok=True)
    with open(os.path.join(meta, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: requests\nVersion: 2.32.3\n")
    with open(os.path.join(meta, "RECORD"), "w") as f:
        f.write("")


def setup_diffusers(tar_path, tmp):
    global D
    if not os.path.isfile(tar_path):
        raise FileNotFoundError(f"{tar_path} not found: run tests/oracle/pack-diffusers.sh and carry .oracle")
    with tarfile.open(tar_path) as tar:
        commit = tar.pax_headers.get("comment", "?")
        try:
            tar.extractall(tmp, filter="data")
        except TypeError:  # Python without extraction filters
            tar.extractall(tmp)
    sys.path.insert(0, os.path.join(tmp, "src"))
    try:
        import requests  # noqa: F401
        stub = False
    except ImportError:
        site = os.path.join(tmp, "stub-site")
        write_requests_stub(site)
        sys.path.insert(0, site)
        stub = True
    import diffusers
    D = diffusers
    here = os.path.dirname(os.path.abspath(diffusers.__file__))
    if not here.startswith(os.path.abspath(tmp)):
        raise RuntimeError(f"imported diffusers from {here}, not from the packed sources")
    VERSIONS.update(diffusers=diffusers.__version__, diffusers_commit=commit, requests_stub=str(stub))
    print(f"diffusers {diffusers.__version__} (commit {commit}) from {here}; requests stub: {stub}")


# ---------------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------------

def f32(t):
    return t.detach().to("cpu", torch.float32).contiguous().clone()


def i32(t):
    return t.detach().to("cpu", torch.int32).contiguous().clone()


def run_device(dtype):
    """fp32 runs on the CPU (exact fp32 arithmetic); bf16 on CUDA when there is one."""
    if dtype == torch.float32 or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")


def dtype_name(dtype):
    return {torch.float32: "fp32", torch.bfloat16: "bf16"}[dtype]


def randomize(model, seed, keep_rows=None, vocab_size=None):
    """Re-initialises every parameter (see the module docstring). keep_rows: token ids whose rows of the token table
    (the embedding with vocab_size rows) stay random; the others are zeroed."""
    g = torch.Generator().manual_seed(seed)
    seen = set()
    with torch.no_grad():
        for _, module in model.named_modules():
            for name, p in module.named_parameters(recurse=False):
                if id(p) in seen:
                    continue
                seen.add(id(p))
                shape = tuple(p.shape)
                if isinstance(module, torch.nn.Embedding):
                    value = torch.randn(shape, generator=g)
                    if keep_rows is not None and shape[0] == vocab_size:
                        mask = torch.zeros(shape[0], 1)
                        mask[sorted(keep_rows)] = 1.0
                        value = value * mask
                elif name == "bias":
                    value = 0.1 * torch.randn(shape, generator=g)
                elif p.dim() == 1:
                    value = 1.0 + 0.1 * torch.randn(shape, generator=g)
                elif p.dim() >= 2:
                    value = torch.randn(shape, generator=g) / (p[0].numel() ** 0.5)
                else:
                    continue
                p.copy_(value.to(p.dtype))


def save_model(model, path):
    kwargs = {}
    if "safe_serialization" in inspect.signature(model.save_pretrained).parameters:
        kwargs["safe_serialization"] = True
    model.save_pretrained(path, **kwargs)


def load_model(cls, path, dtype):
    """from_pretrained as a user calls it (diffusers: torch_dtype; transformers 5: dtype)."""
    if cls.__module__.startswith("diffusers"):
        return cls.from_pretrained(path, torch_dtype=dtype)
    try:
        return cls.from_pretrained(path, dtype=dtype)
    except TypeError:
        return cls.from_pretrained(path, torch_dtype=dtype)


def reload(cls, model, path, dtype, notes):
    """The reference model: the saved files loaded back (what the C# side reads). Notes how it differs from the
    in-memory model (parameter dtypes kept in fp32 by the loader, values, missing keys)."""
    try:
        loaded = load_model(cls, path, dtype).eval()
    except Exception as e:  # keep going on the in-memory model, but say so
        traceback.print_exc()
        notes.append(f"from_pretrained failed ({e!r}); the reference is the in-memory model")
        return model
    mine, theirs = model.state_dict(), loaded.state_dict()
    missing = sorted(set(mine) ^ set(theirs))
    if missing:
        notes.append(f"state_dict keys differ after reload: {missing[:8]}")
    worst, dtypes = 0.0, []
    for k in sorted(set(mine) & set(theirs)):
        a, b = mine[k], theirs[k]
        if a.dtype != b.dtype:
            dtypes.append(f"{k}:{str(b.dtype).replace('torch.', '')}")
        if a.is_floating_point():
            worst = max(worst, (a.float().cpu() - b.float().cpu()).abs().max().item() if a.numel() else 0.0)
    if worst:
        notes.append(f"reloaded parameters differ from the saved model by up to {worst:g}")
    if dtypes:
        notes.append(f"loaded in another dtype than {dtype_name(dtype)}: {', '.join(dtypes[:12])}")
    return loaded


class Recorder:
    """Forward hooks that copy chosen outputs to CPU fp32 under fixed names."""

    def __init__(self):
        self.tensors = {}
        self.handles = []

    def on(self, module, name, pick=None):
        def hook(_module, _args, output):
            value = pick(output) if pick is not None else output
            if isinstance(value, (tuple, list)):
                value = value[0]
            if value is not None:
                self.tensors[name] = f32(value)
        self.handles.append(module.register_forward_hook(hook))

    def close(self):
        for h in self.handles:
            h.remove()
        self.handles = []


def write_io(case_dir, tensors, meta):
    clean = {}
    for k, v in tensors.items():
        v = v.detach().cpu()
        v = v.to(torch.int32) if not v.is_floating_point() else v.to(torch.float32)
        clean[k] = v.contiguous()
    save_file(clean, os.path.join(case_dir, "io.safetensors"), metadata={k: str(v) for k, v in meta.items()})
    return clean


def write_readme(case_dir, title, lines, tensors, notes):
    with open(os.path.join(case_dir, "README.md"), "w", encoding="utf-8") as f:
        versions = ", ".join(f"{k} {v}" for k, v in VERSIONS.items())
        f.write(f"# {title}\n\nWritten by tests/oracle/sd3_reference.py ({versions}).\n\n")
        for line in lines:
            f.write(f"{line}\n")
        if notes:
            f.write("\nNotes:\n" + "".join(f"- {n}\n" for n in notes))
        f.write("\nio.safetensors:\n")
        for k, v in tensors.items():
            f.write(f"- `{k}` {str(v.dtype).replace('torch.', '')} {list(v.shape)}\n")


def fresh_dir(path):
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(path)
    return path


def stats(tensors, keys):
    out = {}
    for k in keys:
        if k in tensors:
            t = tensors[k].float()
            out[k] = {"shape": list(t.shape), "max_abs": round(t.abs().max().item(), 6),
                      "finite": bool(torch.isfinite(t).all())}
    return out


# ---------------------------------------------------------------------------------------------------------------------
# Component cases
# ---------------------------------------------------------------------------------------------------------------------

def clip_config(act, vocab_size=49408, hidden=32, bos=0, eos=2, pad=1):
    return CLIPTextConfig(vocab_size=vocab_size, hidden_size=hidden, intermediate_size=37, num_attention_heads=4,
                          num_hidden_layers=3, projection_dim=32, max_position_embeddings=77, hidden_act=act,
                          layer_norm_eps=1e-5, attention_dropout=0.0, bos_token_id=bos, eos_token_id=eos,
                          pad_token_id=pad)


def clip_ids(g, pad_id):
    """Two rows as CLIPTokenizer pads them: 49406, a few ids, 49407, then pad_id (49407 for L, 0 for G)."""
    ids = torch.full((2, 77), pad_id, dtype=torch.long)
    for row, n in enumerate((5, 20)):
        ids[row, 0] = 49406
        ids[row, 1:1 + n] = torch.randint(300, 49000, (n,), generator=g)
        ids[row, 1 + n] = 49407
    return ids


def case_clip(out_dir, name, dtype, act, pad_id, seed):
    """CLIPTextModelWithProjection (hidden 32, intermediate 37, 4 heads, 3 layers, projection 32, vocab 49408,
    eos_token_id 2 as on the Hub). io: input_ids [2,77] I32; text_embeds [2,32]; last_hidden_state [2,77,32] (after
    final_layer_norm); hidden_states.0..3 (the model's output_hidden_states tuple: embeddings, then layers);
    layer.0..2 (each encoder layer's output, by hook: the tuple's layout checked against it)."""
    case_dir = fresh_dir(os.path.join(out_dir, name))
    notes = []
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)
    ids = clip_ids(g, pad_id)
    model = CLIPTextModelWithProjection(clip_config(act)).eval()
    randomize(model, seed, keep_rows=set(ids.flatten().tolist()), vocab_size=49408)
    model.to(dtype)
    save_model(model, os.path.join(case_dir, "model"))
    ref = reload(CLIPTextModelWithProjection, model, os.path.join(case_dir, "model"), dtype, notes)
    device = run_device(dtype)
    ref.to(device)
    rec = Recorder()
    for i, layer in enumerate(ref.text_model.encoder.layers):
        rec.on(layer, f"layer.{i}")
    with torch.no_grad():
        out = ref(input_ids=ids.to(device), output_hidden_states=True)
    rec.close()
    tensors = {"input_ids": i32(ids), "text_embeds": f32(out.text_embeds),
               "last_hidden_state": f32(out.last_hidden_state)}
    for i, h in enumerate(out.hidden_states or ()):
        tensors[f"hidden_states.{i}"] = f32(h)
    tensors.update(rec.tensors)
    n = len(out.hidden_states or ())
    same = [f"hidden_states.{i + 1}" in tensors and f"layer.{i}" in tensors
            and torch.equal(tensors[f"hidden_states.{i + 1}"], tensors[f"layer.{i}"]) for i in range(3)]
    notes.append(f"hidden_states has {n} entries; hidden_states.{{i+1}} == layer.{{i}} for i=0..2: {same}")
    tensors = write_io(case_dir, tensors, {"case": name, "device": device, **VERSIONS})
    write_readme(case_dir, name, [f"hidden_act {act}, pad id {pad_id}, {dtype_name(dtype)} on {device}."],
                 tensors, notes)
    return {"device": str(device), "notes": notes, **stats(tensors, ["text_embeds", "last_hidden_state"])}


def t5_config(vocab_size=32128, d_model=32, d_kv=8, d_ff=48, layers=2, heads=4):
    return T5Config(vocab_size=vocab_size, d_model=d_model, d_kv=d_kv, d_ff=d_ff, num_layers=layers, num_heads=heads,
                    relative_attention_num_buckets=32, relative_attention_max_distance=128, dropout_rate=0.0,
                    layer_norm_epsilon=1e-6, feed_forward_proj="gated-gelu", is_encoder_decoder=False, use_cache=False,
                    pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, tie_word_embeddings=False)


def case_t5(out_dir, name, dtype, seed):
    """T5EncoderModel (vocab 32128, d_model 32, d_ff 48, d_kv 8, 4 heads, 2 layers, gated-gelu, 32 buckets, max
    distance 128). io: input_ids [2,150] I32 (row 0: 149 ids + eos 1; row 1: 99 ids + eos + 50 pads 0; no attention
    mask, as the SD3 pipeline); last_hidden_state [2,150,32]; position_bias [4,150,150] (block 0's relative bias,
    compute_bias(150, 150) without the batch dim); block.0, block.1 (each block's output hidden states)."""
    case_dir = fresh_dir(os.path.join(out_dir, name))
    notes = []
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)
    ids = torch.zeros(2, 150, dtype=torch.long)
    for row, n in enumerate((149, 99)):
        ids[row, :n] = torch.randint(3, 32100, (n,), generator=g)
        ids[row, n] = 1
    model = T5EncoderModel(t5_config()).eval()
    randomize(model, seed, keep_rows=set(ids.flatten().tolist()), vocab_size=32128)
    model.to(dtype)
    save_model(model, os.path.join(case_dir, "model"))
    ref = reload(T5EncoderModel, model, os.path.join(case_dir, "model"), dtype, notes)
    device = run_device(dtype)
    ref.to(device)
    rec = Recorder()
    for i, block in enumerate(ref.encoder.block):
        rec.on(block, f"block.{i}")
    with torch.no_grad():
        out = ref(input_ids=ids.to(device))
    rec.close()
    tensors = {"input_ids": i32(ids), "last_hidden_state": f32(out.last_hidden_state)}
    attn = ref.encoder.block[0].layer[0].SelfAttention
    try:
        with torch.no_grad():
            try:
                bias = attn.compute_bias(150, 150, device=device)
            except TypeError:  # a compute_bias without the device argument
                bias = attn.compute_bias(150, 150)
        tensors["position_bias"] = f32(bias[0])
    except Exception as e:  # the rest of the case still stands
        traceback.print_exc()
        notes.append(f"position_bias not recorded: {e!r}")
    tensors.update(rec.tensors)
    tensors = write_io(case_dir, tensors, {"case": name, "device": device, **VERSIONS})
    write_readme(case_dir, name, [f"{dtype_name(dtype)} on {device}."], tensors, notes)
    return {"device": str(device), "notes": notes, **stats(tensors, ["last_hidden_state", "position_bias"])}


def transformer_model(joint_attention_dim=32, pooled_projection_dim=24):
    return D.SD3Transformer2DModel(sample_size=8, patch_size=2, in_channels=16, out_channels=16, num_layers=3,
                                   attention_head_dim=8, num_attention_heads=2, joint_attention_dim=joint_attention_dim,
                                   caption_projection_dim=16, pooled_projection_dim=pooled_projection_dim,
                                   pos_embed_max_size=12, dual_attention_layers=(0,), qk_norm="rms_norm")


def record_transformer(rec, model):
    rec.on(model.pos_embed, "pos_embed")
    rec.on(model.time_text_embed, "temb")
    rec.on(model.context_embedder, "context")
    for i, block in enumerate(model.transformer_blocks):  # a block returns (encoder_hidden_states, hidden_states)
        rec.on(block, f"block.{i}.hidden_states", pick=lambda o: o[1])
        rec.on(block, f"block.{i}.encoder_hidden_states", pick=lambda o: o[0])
    rec.on(model.norm_out, "norm_out")


def case_transformer(out_dir, name, dtype, seed):
    """SD3Transformer2DModel (sample 8, patch 2, 16 -> 16 channels, 3 layers, head dim 8 x 2 heads, joint 32,
    caption 16, pooled 24, pos_embed_max_size 12, dual attention in block 0, rms_norm qk). io: hidden_states
    [2,16,10,10] (a 5x5 patch grid cropped off-centre from the 12x12 table), encoder_hidden_states [2,7,32],
    pooled_projections [2,24], timestep [2] (F32, 937.5 and 12.3, passed in fp32 as the pipeline does); sample
    [2,16,10,10]; pos_embed [2,25,16], temb [2,16], context [2,7,16], block.{i}.hidden_states [2,25,16],
    block.{i}.encoder_hidden_states [2,7,16] (none for the last block), norm_out [2,25,16]."""
    case_dir = fresh_dir(os.path.join(out_dir, name))
    notes = []
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(2, 16, 10, 10, generator=g).to(dtype)
    ctx = torch.randn(2, 7, 32, generator=g).to(dtype)
    pooled = torch.randn(2, 24, generator=g).to(dtype)
    t = torch.tensor(TIMESTEPS, dtype=torch.float32)
    model = transformer_model().eval()
    randomize(model, seed)
    model.to(dtype)
    save_model(model, os.path.join(case_dir, "model"))
    ref = reload(D.SD3Transformer2DModel, model, os.path.join(case_dir, "model"), dtype, notes)
    device = run_device(dtype)
    ref.to(device)
    rec = Recorder()
    record_transformer(rec, ref)
    with torch.no_grad():
        sample = ref(hidden_states=x.to(device), encoder_hidden_states=ctx.to(device),
                     pooled_projections=pooled.to(device), timestep=t.to(device), return_dict=False)[0]
    rec.close()
    tensors = {"hidden_states": f32(x), "encoder_hidden_states": f32(ctx), "pooled_projections": f32(pooled),
               "timestep": f32(t), "sample": f32(sample)}
    tensors.update(rec.tensors)
    tensors = write_io(case_dir, tensors, {"case": name, "device": device, **VERSIONS})
    write_readme(case_dir, name, [f"{dtype_name(dtype)} on {device}."], tensors, notes)
    return {"device": str(device), "notes": notes, **stats(tensors, ["sample", "temb", "norm_out"])}


def vae_model(block_out_channels=(32, 64)):
    return D.AutoencoderKL(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 2,
                           up_block_types=("UpDecoderBlock2D",) * 2, block_out_channels=block_out_channels,
                           layers_per_block=1, act_fn="silu", latent_channels=16, norm_num_groups=32, sample_size=32,
                           scaling_factor=1.5305, shift_factor=0.0609, use_quant_conv=False, use_post_quant_conv=False,
                           mid_block_add_attention=True)


def case_vae(out_dir, name, dtype, seed):
    """AutoencoderKL (block_out_channels (32,64), 2 down/up blocks, 1 layer per block, 16 latent channels, 32 groups,
    no quant convs, scaling 1.5305, shift 0.0609). io: image [1,3,32,32] in [-1,1]; latent_mean, latent_logvar
    [1,16,16,16] (the posterior's mean and clamped logvar); latents [1,16,16,16] (given to decode as they are);
    decoded [1,3,32,32] (vae.decode(latents).sample); encoder.mid_block, decoder.mid_block [1,64,16,16]."""
    case_dir = fresh_dir(os.path.join(out_dir, name))
    notes = []
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)
    image = (torch.rand(1, 3, 32, 32, generator=g) * 2 - 1).to(dtype)
    latents = torch.randn(1, 16, 16, 16, generator=g).to(dtype)
    model = vae_model().eval()
    randomize(model, seed)
    model.to(dtype)
    save_model(model, os.path.join(case_dir, "model"))
    ref = reload(D.AutoencoderKL, model, os.path.join(case_dir, "model"), dtype, notes)
    device = run_device(dtype)
    ref.to(device)
    rec = Recorder()
    rec.on(ref.encoder.mid_block, "encoder.mid_block")
    rec.on(ref.decoder.mid_block, "decoder.mid_block")
    with torch.no_grad():
        posterior = ref.encode(image.to(device)).latent_dist
        decoded = ref.decode(latents.to(device)).sample
    rec.close()
    tensors = {"image": f32(image), "latent_mean": f32(posterior.mean), "latent_logvar": f32(posterior.logvar),
               "latents": f32(latents), "decoded": f32(decoded)}
    tensors.update(rec.tensors)
    tensors = write_io(case_dir, tensors, {"case": name, "device": device, **VERSIONS})
    write_readme(case_dir, name, [f"{dtype_name(dtype)} on {device}."], tensors, notes)
    return {"device": str(device), "notes": notes, **stats(tensors, ["latent_mean", "latent_logvar", "decoded"])}


def case_scheduler(out_dir, name, seed):
    """FlowMatchEulerDiscreteScheduler(shift=3.0), num_train_timesteps 1000. model/scheduler_config.json; io:
    sigmas_train, timesteps_train [1000] (the table right after __init__, what training samples from); sigmas_28 [29]
    and timesteps_28 [28] after set_timesteps(28) (the last sigma is the appended 0); sigmas_4 [5], timesteps_4 [4]."""
    case_dir = fresh_dir(os.path.join(out_dir, name))
    sched = D.FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0)
    sched.save_pretrained(os.path.join(case_dir, "model"))
    tensors = {"sigmas_train": f32(sched.sigmas), "timesteps_train": f32(sched.timesteps)}
    for n in (28, 4):
        sched.set_timesteps(n)
        tensors[f"sigmas_{n}"] = f32(sched.sigmas)
        tensors[f"timesteps_{n}"] = f32(sched.timesteps)
    tensors = write_io(case_dir, tensors, {"case": name, **VERSIONS})
    write_readme(case_dir, name, ["FlowMatchEulerDiscreteScheduler(shift=3.0)."], tensors, [])
    return {"sigma_min": tensors["sigmas_train"][-1].item(), "sigmas_4": tensors["sigmas_4"].tolist()}


# ---------------------------------------------------------------------------------------------------------------------
# Tokenizers
# ---------------------------------------------------------------------------------------------------------------------

def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def added(content, normalized):
    return {"content": content, "lstrip": False, "normalized": normalized, "rstrip": False, "single_word": False,
            "special": True}


def write_clip_folder(folder, vocab, merges, pad):
    """vocab.json + merges.txt + tokenizer_config.json + special_tokens_map.json, as the SD3.5 Hub folders tokenizer/
    (pad <|endoftext|>) and tokenizer_2/ (pad "!", the vocabulary's id 0) ship them."""
    sd3_text.write_clip_bpe(folder, vocab, merges)
    decoder = {}
    if pad == "!":
        decoder[str(vocab["!"])] = added("!", False)
    decoder[str(vocab[sd3_text.BOS])] = added(sd3_text.BOS, True)
    decoder[str(vocab[sd3_text.EOS])] = added(sd3_text.EOS, False)
    write_json(os.path.join(folder, "tokenizer_config.json"), {
        "add_prefix_space": False, "added_tokens_decoder": decoder, "bos_token": sd3_text.BOS,
        "clean_up_tokenization_spaces": True, "do_lower_case": True, "eos_token": sd3_text.EOS, "errors": "replace",
        "model_max_length": 77, "pad_token": pad, "tokenizer_class": "CLIPTokenizer", "unk_token": sd3_text.EOS})
    token = lambda c, n: {k: v for k, v in added(c, n).items() if k != "special"}  # noqa: E731
    write_json(os.path.join(folder, "special_tokens_map.json"), {
        "bos_token": token(sd3_text.BOS, True), "eos_token": token(sd3_text.EOS, False),
        "pad_token": pad if pad == "!" else token(pad, False), "unk_token": token(sd3_text.EOS, False)})


def train_t5_spm(corpus, path):
    import io as _io
    import sentencepiece as spm
    options = dict(model_type="unigram", vocab_size=1000, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, pad_piece="<pad>",
                   eos_piece="</s>", unk_piece="<unk>", normalization_rule_name="nmt_nfkc", character_coverage=0.9995,
                   num_threads=1, minloglevel=2)
    for hard in (True, False):
        model = _io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(sentence_iterator=iter(corpus), model_writer=model, hard_vocab_limit=hard,
                                           **options)
            break
        except RuntimeError:
            if not hard:
                raise
            traceback.print_exc()
            print("retrying sentencepiece with hard_vocab_limit=False")
    with open(path, "wb") as f:
        f.write(model.getvalue())
    sp = spm.SentencePieceProcessor(model_file=path)
    return {"pieces": sp.get_piece_size(), "pad": sp.pad_id(), "eos": sp.eos_id(), "unk": sp.unk_id(),
            "bos": sp.bos_id()}


def write_t5_folder(folder, stage):
    """spiece.model -> T5TokenizerFast.from_pretrained (transformers converts the SentencePiece model) ->
    save_pretrained, which writes tokenizer.json and the configs; spiece.model is kept beside them as on the Hub."""
    write_json(os.path.join(stage, "tokenizer_config.json"), {
        "tokenizer_class": "T5Tokenizer", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
        "extra_ids": 100, "model_max_length": 512, "legacy": True, "add_prefix_space": True,
        "clean_up_tokenization_spaces": True})
    tok = T5TokenizerFast.from_pretrained(stage)
    tok.save_pretrained(folder)
    if not os.path.isfile(os.path.join(folder, "spiece.model")):
        shutil.copy(os.path.join(stage, "spiece.model"), os.path.join(folder, "spiece.model"))
    return tok


TOKENIZERS = {}


def tokenizers(tmp):
    """Builds (once) the three tokenizer folders under tmp/tokenizers: clip/ (CLIP-L: pad <|endoftext|>), clip2/
    (CLIP-G: pad "!"), t5/. Returns the folders and the loaded tokenizers, checked for the layout SD3 expects."""
    if TOKENIZERS:
        return TOKENIZERS
    root = fresh_dir(os.path.join(tmp, "tokenizers"))
    corpus = sd3_text.training_corpus()
    vocab, merges = sd3_text.train_clip_bpe(corpus, 700)
    write_clip_folder(os.path.join(root, "clip"), vocab, merges, pad=sd3_text.EOS)
    write_clip_folder(os.path.join(root, "clip2"), vocab, merges, pad="!")
    stage = fresh_dir(os.path.join(tmp, "t5-stage"))
    spm_info = train_t5_spm(corpus, os.path.join(stage, "spiece.model"))
    t5_first = write_t5_folder(os.path.join(root, "t5"), stage)
    clip = CLIPTokenizer.from_pretrained(os.path.join(root, "clip"))
    clip2 = CLIPTokenizer.from_pretrained(os.path.join(root, "clip2"))
    t5 = T5TokenizerFast.from_pretrained(os.path.join(root, "t5"))
    bos, eos = vocab[sd3_text.BOS], vocab[sd3_text.EOS]
    info = {"clip_vocab": len(vocab), "clip_merges": len(merges), "bos": bos, "eos": eos, "spm": spm_info,
            "t5_len": len(t5), "clip_len": len(clip), "clip2_pad_id": clip2.pad_token_id,
            "clip_pad_id": clip.pad_token_id,
            "clip_model_max_length": clip.model_max_length, "t5_files": sorted(os.listdir(os.path.join(root, "t5")))}
    probe = "a photo of a cat"
    ids = clip(probe).input_ids
    checks = {"clip starts with bos and ends with eos": ids[0] == bos and ids[-1] == eos,
              "clip pads with eos": clip.pad_token_id == eos, "clip2 pads with 0 ('!')": clip2.pad_token_id == 0,
              "model_max_length 77": clip.model_max_length == 77 and clip2.model_max_length == 77,
              "t5 ends with eos 1 and has no bos": t5(probe).input_ids[-1] == 1 and t5(probe).input_ids[0] != 1,
              "t5 pad 0": t5.pad_token_id == 0, "t5 has the trained pieces": len(t5) >= 500}
    strings = sd3_text.tokenizer_strings()
    checks["t5 from spiece.model == t5 from the saved folder"] = all(
        t5_first(s).input_ids == t5(s).input_ids for s in strings)
    info["checks"] = checks
    info["clip_probe"] = ids
    info["t5_probe"] = t5(probe).input_ids
    print("tokenizers:", json.dumps(info, ensure_ascii=False))
    failed = [k for k, v in checks.items() if not v and "==" not in k]
    if failed:
        raise RuntimeError(f"generated tokenizers fail: {failed}")
    TOKENIZERS.update(root=root, vocab=vocab, clip=clip, clip2=clip2, t5=t5, info=info)
    return TOKENIZERS


def case_tokenizer_ids(out_dir, name, tmp):
    """tokenizer-ids/: the folders clip/, clip2/, t5/ and expected.jsonl.gz, one JSON object per string:
    text; clip = CLIPTokenizer(text).input_ids; clip_padded = padding "max_length", max_length 77, truncation (as the
    pipeline); clip2, clip2_padded the same with tokenizer_2's folder (pad "!" = 0); t5 = T5TokenizerFast(text)
    .input_ids; t5_padded = max_length 16, padding "max_length", truncation, add_special_tokens (as the pipeline with
    max_sequence_length 16); clip_decoded / t5_decoded = decode(ids) (special tokens kept, as the pipeline's truncation
    warning decodes) and clip_decoded_skip / t5_decoded_skip = decode(ids, skip_special_tokens=True).
    backend-*.json: the tokenizers library pipeline transformers built from each folder (for reading, not loading)."""
    case_dir = fresh_dir(os.path.join(out_dir, name))
    tk = tokenizers(tmp)
    for sub in ("clip", "clip2", "t5"):
        shutil.copytree(os.path.join(tk["root"], sub), os.path.join(case_dir, sub))
        with open(os.path.join(case_dir, f"backend-{sub}.json"), "w", encoding="utf-8") as f:
            f.write(tk[sub].backend_tokenizer.to_str(pretty=True))
    strings = sd3_text.tokenizer_strings()
    over77 = 0
    buf = []
    for s in strings:
        row = {"text": s}
        for key in ("clip", "clip2"):
            tok = tk[key]
            row[key] = tok(s).input_ids
            row[f"{key}_padded"] = tok(s, padding="max_length", max_length=77, truncation=True).input_ids
        row["t5"] = tk["t5"](s).input_ids
        row["t5_padded"] = tk["t5"](s, padding="max_length", max_length=16, truncation=True,
                                    add_special_tokens=True).input_ids
        for key in ("clip", "t5"):
            row[f"{key}_decoded"] = tk[key].decode(row[key])
            row[f"{key}_decoded_skip"] = tk[key].decode(row[key], skip_special_tokens=True)
        over77 += len(row["clip"]) > 77
        buf.append(json.dumps(row, ensure_ascii=False))
    with gzip.open(os.path.join(case_dir, "expected.jsonl.gz"), "wt", encoding="utf-8") as f:
        f.write("\n".join(buf) + "\n")
    with open(os.path.join(case_dir, "README.md"), "w", encoding="utf-8") as f:
        f.write(f"# {name}\n\nWritten by tests/oracle/sd3_reference.py ({VERSIONS}).\n\n"
                + case_tokenizer_ids.__doc__.split("\n", 1)[1].replace("    ", "") + "\n"
                + f"\nTokenizer facts: {json.dumps(tk['info'], ensure_ascii=False)}\n")
    return {"strings": len(strings), "over_77_clip_tokens": over77, "tokenizers": tk["info"]["checks"]}


# ---------------------------------------------------------------------------------------------------------------------
# Pipeline
# ---------------------------------------------------------------------------------------------------------------------

PROMPTS = ["a photo of a cat", "A Painting of a Squirrel eating a burger, oil on canvas, trending on artstation"]


def pipeline_components(tk, seed):
    """Tiny components in fp32: CLIP-L-like (hidden 32, quick_gelu) and CLIP-G-like (hidden 24, gelu) text encoders
    with projection 32 each (pooled 64), a T5 (d_model 80 = joint_attention_dim, so the 32+24 CLIP features are
    zero-padded by 24 as the real 2048 -> 4096), the transformer of the transformer case with joint 80 / pooled 64,
    a VAE like the vae case's but with block_out_channels (32, 32) (vae_scale_factor still 2; the (32, 64) one is
    2.7 MB of fp32 weights, and the vae cases already cover it) and the shift-3 scheduler."""
    vocab = tk["vocab"]
    bos, eos = vocab[sd3_text.BOS], vocab[sd3_text.EOS]
    # transformers pools CLIP at argmax(ids) only when every row's largest id is 49407; otherwise at the first
    # config.eos_token_id. With this small vocabulary the EOS id is len(vocab)-1, so the config names it (the Hub's
    # configs say 2, which is right only for the 49408-entry vocabulary).
    te = CLIPTextModelWithProjection(clip_config("quick_gelu", len(vocab), 32, bos, eos, eos)).eval()
    te2 = CLIPTextModelWithProjection(clip_config("gelu", len(vocab), 24, bos, eos, 0)).eval()
    t5_vocab = max(len(tk["t5"]), max(tk["t5"].get_vocab().values()) + 1)
    te3 = T5EncoderModel(t5_config(vocab_size=t5_vocab, d_model=80, d_kv=20, d_ff=48)).eval()
    transformer = transformer_model(joint_attention_dim=80, pooled_projection_dim=64).eval()
    vae = vae_model(block_out_channels=(32, 32)).eval()
    # Only the rows of the ids the pipeline feeds (prompts, "" and padding) can matter; the others are zero.
    used = lambda tok, n: {i for row in tok(PROMPTS + [""], padding="max_length", max_length=n,  # noqa: E731
                                            truncation=True).input_ids for i in row}
    randomize(te, seed, keep_rows=used(tk["clip"], 77), vocab_size=len(vocab))
    randomize(te2, seed + 1, keep_rows=used(tk["clip2"], 77), vocab_size=len(vocab))
    randomize(te3, seed + 2, keep_rows=used(tk["t5"], 16), vocab_size=t5_vocab)
    for k, m in enumerate((transformer, vae)):
        randomize(m, seed + 3 + k)
    scheduler = D.FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0)
    return dict(transformer=transformer, scheduler=scheduler, vae=vae, text_encoder=te, tokenizer=tk["clip"],
                text_encoder_2=te2, tokenizer_2=tk["clip2"], text_encoder_3=te3, tokenizer_3=tk["t5"],
                image_encoder=None, feature_extractor=None)


def case_pipeline(out_dir, name, dtype, seed, tmp):
    """StableDiffusion3Pipeline folder in model/ and one call: prompts PROMPTS (io.json), negative prompt default
    (""), guidance_scale 3.5, num_inference_steps 4, max_sequence_length 16, height = width = 16, latents given
    [2,16,8,8], output_type "pt". io: latents (given, in the run dtype); clip_l_ids, clip_g_ids [2,77], t5_ids [2,16]
    (the ids the pipeline fed the encoders for the prompts) and negative_clip_l_ids, negative_clip_g_ids,
    negative_t5_ids (for the negative prompts); prompt_embeds, negative_prompt_embeds [2,77+16,80],
    pooled_prompt_embeds, negative_pooled_prompt_embeds [2,64] (encode_prompt's results); sigmas [5], timesteps [4];
    transformer_out.step{i} [4,16,8,8] (the batch [negative, positive] before guidance); latents.step{i} [2,16,8,8]
    (after each scheduler step); vae_decoder_input [2,16,8,8] (latents / 1.5305 + 0.0609); vae_decoded [2,3,16,16]
    (before postprocessing); image [2,3,16,16] in [0,1]."""
    case_dir = fresh_dir(os.path.join(out_dir, name))
    model_dir = os.path.join(case_dir, "model")
    notes = []
    tk = tokenizers(tmp)
    torch.manual_seed(seed)
    comps = pipeline_components(tk, seed)
    for k in ("transformer", "vae", "text_encoder", "text_encoder_2", "text_encoder_3"):
        comps[k].to(dtype)
    pipe = D.StableDiffusion3Pipeline(**comps)
    pipe.save_pretrained(model_dir, safe_serialization=True)
    for sub, src in (("tokenizer", "clip"), ("tokenizer_2", "clip2"), ("tokenizer_3", "t5")):  # the Hub's files
        shutil.rmtree(os.path.join(model_dir, sub), ignore_errors=True)
        shutil.copytree(os.path.join(tk["root"], src), os.path.join(model_dir, sub))
    try:
        ref = D.StableDiffusion3Pipeline.from_pretrained(model_dir, torch_dtype=dtype)
        reference = "StableDiffusion3Pipeline.from_pretrained(model/)"
    except Exception as e:
        traceback.print_exc()
        ref, reference = pipe, f"the in-memory pipeline (from_pretrained failed: {e!r})"
        notes.append(reference)
    for k in ("transformer", "vae", "text_encoder", "text_encoder_2", "text_encoder_3"):
        odd = sorted({str(p.dtype) for p in getattr(ref, k).parameters()} - {str(dtype)})
        if odd:
            notes.append(f"{k} has parameters in {odd}")
    device = run_device(dtype)
    ref.to(device)
    ref.set_progress_bar_config(disable=True)
    g = torch.Generator().manual_seed(seed + 100)
    latents = torch.randn(2, 16, 8, 8, generator=g).to(dtype)

    rec = Recorder()
    ids = {"text_encoder": [], "text_encoder_2": [], "text_encoder_3": []}
    handles = []
    for k, seen in ids.items():
        def pre(_m, args, kwargs, seen=seen):
            seen.append(i32(args[0] if args else kwargs["input_ids"]))
        handles.append(getattr(ref, k).register_forward_pre_hook(pre, with_kwargs=True))
    step = {"transformer": 0}

    def on_transformer(_m, _args, output):
        value = output[0] if isinstance(output, (tuple, list)) else output.sample
        rec.tensors[f"transformer_out.step{step['transformer']}"] = f32(value)
        step["transformer"] += 1
    handles.append(ref.transformer.register_forward_hook(on_transformer))
    handles.append(ref.vae.decoder.register_forward_pre_hook(
        lambda _m, args: rec.tensors.__setitem__("vae_decoder_input", f32(args[0]))))
    rec.on(ref.vae.decoder, "vae_decoded")
    encoded = {}
    original_encode = ref.encode_prompt

    def encode_prompt(*args, **kwargs):
        result = original_encode(*args, **kwargs)
        for key, value in zip(("prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds",
                               "negative_pooled_prompt_embeds"), result):
            encoded[key] = f32(value)
        return result
    ref.encode_prompt = encode_prompt

    def on_step(_pipe, i, _t, kwargs):
        rec.tensors[f"latents.step{i}"] = f32(kwargs["latents"])
        return {}
    call = dict(prompt=PROMPTS, guidance_scale=3.5, num_inference_steps=4, max_sequence_length=16, height=16, width=16,
                output_type="pt")
    with torch.no_grad():
        out = ref(**call, latents=latents.to(device), callback_on_step_end=on_step,
                  callback_on_step_end_tensor_inputs=["latents"])
    for h in handles:
        h.remove()
    rec.close()
    tensors = {"latents": f32(latents)}
    for k, prefix in (("text_encoder", "clip_l"), ("text_encoder_2", "clip_g"), ("text_encoder_3", "t5")):
        if len(ids[k]) != 2:
            notes.append(f"{k} ran {len(ids[k])} times (expected prompt + negative)")
        if ids[k]:
            tensors[f"{prefix}_ids"] = ids[k][0]
        if len(ids[k]) > 1:
            tensors[f"negative_{prefix}_ids"] = ids[k][1]
    tensors.update(encoded)
    tensors["sigmas"] = f32(ref.scheduler.sigmas)
    tensors["timesteps"] = f32(ref.scheduler.timesteps)
    tensors.update(rec.tensors)
    tensors["image"] = f32(out.images)
    write_json(os.path.join(case_dir, "io.json"), {**call, "prompts": PROMPTS, "negative_prompt": "",
                                                   "dtype": dtype_name(dtype), "device": str(device)})
    tensors = write_io(case_dir, tensors, {"case": name, "device": device, "reference": reference, **VERSIONS})
    write_readme(case_dir, name, [f"{dtype_name(dtype)} on {device}; reference: {reference}.",
                                  "Call arguments in io.json.", "", case_pipeline.__doc__.replace("    ", "")],
                 tensors, notes)
    return {"device": str(device), "reference": reference, "notes": notes,
            **stats(tensors, ["prompt_embeds", "pooled_prompt_embeds", "latents.step3", "image"])}


# ---------------------------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------------------------

def cases(tmp):
    c = {}
    for dtype, suffix, k in ((torch.float32, "fp32", 0), (torch.bfloat16, "bf16", 50)):
        c[f"clip-l-{suffix}"] = lambda o, n, d=dtype, k=k: case_clip(o, n, d, "quick_gelu", 49407, 101 + k)
        c[f"clip-g-{suffix}"] = lambda o, n, d=dtype, k=k: case_clip(o, n, d, "gelu", 0, 102 + k)
        c[f"t5-{suffix}"] = lambda o, n, d=dtype, k=k: case_t5(o, n, d, 103 + k)
        c[f"transformer-{suffix}"] = lambda o, n, d=dtype, k=k: case_transformer(o, n, d, 104 + k)
        c[f"vae-{suffix}"] = lambda o, n, d=dtype, k=k: case_vae(o, n, d, 105 + k)
    c["scheduler"] = lambda o, n: case_scheduler(o, n, 106)
    c["tokenizer-ids"] = lambda o, n: case_tokenizer_ids(o, n, tmp)
    c["pipeline-fp32"] = lambda o, n: case_pipeline(o, n, torch.float32, 107, tmp)
    c["pipeline-bf16"] = lambda o, n: case_pipeline(o, n, torch.bfloat16, 157, tmp)
    return c


def main(argv):
    args, tar_path = [], os.environ.get("SD3_DIFFUSERS_TAR", os.path.join(".oracle", "diffusers-src.tar.xz"))
    it = iter(argv)
    for a in it:
        if a == "--diffusers-tar":
            tar_path = next(it)
        else:
            args.append(a)
    if not args:
        print(__doc__)
        return 2
    out_dir, only = args[0], args[1:]
    os.makedirs(out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="sd3-oracle-")
    report = {"versions": VERSIONS, "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
              "cases": {}}
    status = 0
    try:
        setup_diffusers(tar_path, tmp)
    except Exception as e:
        traceback.print_exc()
        print(f"SUMMARY diffusers FAILED {e!r}: only the cases that need no diffusers run")
        status = 1
    table = cases(tmp)
    unknown = [n for n in only if n not in table]
    if unknown:
        print(f"unknown case(s) {unknown}; known: {list(table)}")
        return 2
    for name, fn in table.items():
        if only and name not in only:
            continue
        t0 = time.time()
        try:
            result = fn(out_dir, name)
            report["cases"][name] = {"ok": True, "seconds": round(time.time() - t0, 1), **result}
            notes = result.get("notes") or []
            shown = json.dumps({k: v for k, v in result.items() if k != "notes"}, ensure_ascii=False)
            print(f"SUMMARY {name} OK {time.time() - t0:.1f}s {shown}" + (f" NOTES {notes}" if notes else ""))
        except Exception as e:
            traceback.print_exc()
            report["cases"][name] = {"ok": False, "error": repr(e)}
            print(f"SUMMARY {name} FAILED {e!r}")
            status = 1
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(report, f, indent=1, ensure_ascii=False)
    shutil.rmtree(tmp, ignore_errors=True)
    ok = sum(1 for r in report["cases"].values() if r["ok"])
    print(f"SUMMARY total {ok} ok, {len(report['cases']) - ok} failed; versions {VERSIONS}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
