namespace Qzo.DeviceTests.Kernels;

/// <summary>The sizes the kernel table runs at: a batch of <see cref="Batch"/> × <see cref="Seq"/> tokens through one model.</summary>
sealed record HarnessShape(string Name, int Batch, int Seq, int Hidden, int Intermediate, int Heads, int KvHeads, int HeadDim, int Vocab)
{
    /// <summary>Llama-2-7B, 16 sequences of 256 tokens: the representative shape on the device.</summary>
    public static readonly HarnessShape Llama2_7B = new("Llama-2-7B, 16 × 256 tokens", 16, 256, 4096, 11008, 32, 32, 128, 32000);

    /// <summary>A few rows of everything, for a run on ILGPU's CPU accelerator (a check of the harness itself, not of speed).</summary>
    public static readonly HarnessShape Tiny = new("tiny (simulator)", 2, 24, 64, 160, 4, 2, 16, 300);

    public int Tokens => Batch * Seq;
}
