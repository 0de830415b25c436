using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.Models;

/// <summary>
/// The keys and values of every layer, kept for generation: [rows, maxLength, kvHeads·headDim] per layer in the
/// compute type, and the key mask [rows, maxLength]. Made once per generate call
/// (<see cref="CausalLanguageModel.CreateKvCache"/>) and reused for each batch of prompts (<see cref="Reset"/>).
/// Every row takes the same slots in each pass: a left-padded prompt first, then one token per decode step. Each
/// row also counts its real tokens, which give the next token's position.
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly IBackend _backend;
    readonly DeviceTensor[] _keys, _values;
    readonly int[] _mask;
    readonly int[] _realTokens;

    internal KvCache(IBackend backend, int layers, int capacity, int maxLength, int width)
    {
        if (capacity < 1 || maxLength < 1) throw new ArgumentOutOfRangeException(nameof(capacity),
            $"a KV cache of {capacity} rows × {maxLength} tokens");
        _backend = backend;
        Capacity = capacity;
        MaxLength = maxLength;
        Width = width;
        _mask = new int[capacity * maxLength];
        _realTokens = new int[capacity];
        _keys = new DeviceTensor[layers];
        _values = new DeviceTensor[layers];
        long elements = (long)capacity * maxLength * width;
        try
        {
            for (int l = 0; l < layers; l++)
            {
                _keys[l] = backend.Allocate(backend.ComputeType, elements, MemoryCategory.KvCache);
                _values[l] = backend.Allocate(backend.ComputeType, elements, MemoryCategory.KvCache);
            }
            KeyMask = backend.Allocate(DType.I32, _mask.Length, MemoryCategory.KvCache);
        }
        catch
        {
            Dispose();
            throw;
        }
        Reset(capacity);
    }

    /// <summary>Rows allocated.</summary>
    public int Capacity { get; }
    /// <summary>Tokens each row can hold: the longest prompt plus the tokens to generate.</summary>
    public int MaxLength { get; }
    /// <summary>kvHeads · headDim.</summary>
    public int Width { get; }
    public int Layers => _keys.Length;
    /// <summary>Rows in use since the last <see cref="Reset"/>.</summary>
    public int Batch { get; private set; }
    /// <summary>Slots filled in every row (padding included).</summary>
    public int Length { get; private set; }

    internal DeviceTensor KeyMask { get; }
    internal DeviceTensor Keys(int layer) => _keys[layer];
    internal DeviceTensor Values(int layer) => _values[layer];

    /// <summary>Empties the cache for a new batch of <paramref name="batch"/> rows.</summary>
    public void Reset(int batch)
    {
        if (batch < 1 || batch > Capacity) throw new ArgumentOutOfRangeException(nameof(batch),
            $"{batch} rows in a KV cache of {Capacity}");
        Batch = batch;
        Length = 0;
        Array.Clear(_mask);
        Array.Clear(_realTokens);
    }

    /// <summary>
    /// Takes the next <paramref name="newTokens"/> slots of every row for tokens whose mask ([Batch, newTokens], 1 = real)
    /// is given; returns each token's position: its index among its row's real tokens, −1 for padding.
    /// </summary>
    internal int[] Extend(ReadOnlySpan<int> mask, int newTokens)
    {
        if (newTokens < 1 || mask.Length != Batch * newTokens)
            throw new ArgumentException($"a mask of {mask.Length} for {Batch} rows of {newTokens} new tokens", nameof(mask));
        if (Length + newTokens > MaxLength)
            throw new InvalidOperationException($"the KV cache holds {MaxLength} tokens per row; {Length} + {newTokens} do not fit");
        var positions = new int[mask.Length];
        for (int b = 0; b < Batch; b++)
            for (int t = 0; t < newTokens; t++)
            {
                int real = mask[b * newTokens + t] != 0 ? 1 : 0;
                _mask[b * MaxLength + Length + t] = real;
                positions[b * newTokens + t] = real == 1 ? _realTokens[b]++ : -1;
            }
        _backend.Upload<int>(KeyMask, _mask.AsSpan(0, Batch * MaxLength));
        Length += newTokens;
        return positions;
    }

    public void Dispose()
    {
        foreach (var t in _keys.Concat(_values)) t?.Dispose();
        KeyMask?.Dispose();
    }
}
