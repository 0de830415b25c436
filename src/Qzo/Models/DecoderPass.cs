namespace Qzo.Models;

/// <summary>
/// One run of the decoder over <paramref name="Batch"/> rows of <paramref name="Seq"/> tokens whose ids and mask are
/// in the activation buffers. <paramref name="Positions"/> ([Batch·Seq]): each token's position, −1 for padding
/// that has none (no real token attends to padding, so its value does not matter). <paramref name="Cache"/>: null for
/// a whole-sequence pass; when generating, the KV cache these tokens extend (already extended by their Seq slots).
/// </summary>
sealed record DecoderPass(int Batch, int Seq, int[] Positions, KvCache? Cache)
{
    public int Tokens => Batch * Seq;
}
