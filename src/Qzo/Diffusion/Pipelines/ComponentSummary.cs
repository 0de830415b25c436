namespace Qzo.Diffusion.Pipelines;

/// <summary>
/// What `qzo inspect` says about one pipeline component: its class, and for a component with weights the dtype of its
/// dense tensors, its parameter count (a quantized linear counts its original weights, not its codes), its bytes on disk
/// and how it is stored (dense, bitsandbytes nf4/fp4, gptq, ...).
/// </summary>
/// <param name="Library">model_index.json's library ("diffusers", "transformers"), or null for a lone component folder</param>
/// <param name="DType">the dense tensors' dtype(s), largest first (e.g. "BF16", "BF16 + F32"); null without weights</param>
/// <param name="Quantization">"dense", "bitsandbytes nf4", "gptq", ...; null without weights</param>
/// <param name="QuantizedLinears">linears stored quantized (0 when dense)</param>
public sealed record ComponentSummary(string Key, string? Library, string ClassName, string? DType, long? Parameters,
                                      long BytesOnDisk, string? Quantization, int QuantizedLinears);
