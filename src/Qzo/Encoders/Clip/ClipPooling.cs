namespace Qzo.Encoders.Clip;

/// <summary>
/// Which token's final hidden state is a CLIP text tower's pooled output, as transformers 5.17 picks it
/// (models/clip/modeling_clip.py, CLIPTextTransformer.forward): when every row's largest id is CLIP's end-of-text id
/// 49407, the first position holding each row's largest id (argmax of the ids); otherwise the first position whose id
/// equals config.json's eos_token_id, or 0 where a row has none (argmax of an all-false row). Stable Diffusion 3's
/// prompts always end in 49407, so both text encoders pool at the first 49407, whatever follows it as padding.
/// </summary>
public static class ClipPooling
{
    /// <summary>The pooled position of each row of <paramref name="ids"/> [batch, seq].</summary>
    public static int[] Positions(ReadOnlySpan<int> ids, int batch, int seq, int eosTokenId)
    {
        if (ids.Length != batch * seq) throw new ArgumentException($"{ids.Length} ids for a batch of {batch} × {seq}");
        bool legacy = true;
        for (int b = 0; b < batch && legacy; b++) legacy = Max(ids.Slice(b * seq, seq)) == ClipTextConfig.EndOfTextId;
        var positions = new int[batch];
        for (int b = 0; b < batch; b++)
        {
            var row = ids.Slice(b * seq, seq);
            int target = legacy ? Max(row) : eosTokenId;
            positions[b] = Math.Max(0, row.IndexOf(target));
        }
        return positions;
    }

    static int Max(ReadOnlySpan<int> row)
    {
        int max = int.MinValue;
        foreach (int id in row) max = Math.Max(max, id);
        return max;
    }
}
