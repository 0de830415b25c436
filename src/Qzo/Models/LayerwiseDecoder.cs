using Qzo.Compute;
using Qzo.Models.Architectures;
using Qzo.Numerics;

namespace Qzo.Models;

/// <summary>
/// Receives the input rows [rows, in] a linear is about to multiply, on the backend, in its compute type (valid during the call only).
/// </summary>
public delegate void LinearInputObserver(DeviceTensor input, int rows);

/// <summary>
/// A checkpoint's decoder run one layer at a time over hidden states the caller keeps on the backend, for
/// calibration-based quantizers (GPTQ): <see cref="Embed"/> turns token windows into the hidden states before layer 0, and
/// <see cref="OpenLayer"/> loads one decoder layer from the (memory-mapped) checkpoint, runs it with the model's own
/// layer code, lets the caller watch the inputs of its linears and replace their weights. The open layer's tensors, one
/// batch of activations and the caller's hidden states live on the backend; the embedding rows are read straight from
/// the file.
/// </summary>
public sealed class LayerwiseDecoder : IDisposable
{
    readonly Checkpoint _checkpoint;
    readonly IBackend _backend;
    readonly ParameterLoader _loader;
    readonly ActivationBuffers _activations;
    readonly ForwardContext _context;
    readonly DeviceTensor[] _scratch;
    readonly ILayerwiseRunner _runner;

    LayerwiseDecoder(Checkpoint checkpoint, IBackend backend, int maxRows, int maxSeq)
    {
        _checkpoint = checkpoint;
        _backend = backend;
        MaxRows = maxRows;
        _loader = new ParameterLoader(checkpoint, backend, TrainingScope.None);
        var shape = checkpoint.Config.Architecture.ActivationShape(checkpoint.Config);
        _activations = new ActivationBuffers(backend, shape, maxRows, logitChunkElements: shape.Vocab);
        // Frozen dense weights and norms are held in the compute type, which a forward reads in place: no scratch is needed.
        _scratch = [backend.Allocate(backend.ComputeType, 1, MemoryCategory.Workspace),
                    backend.Allocate(backend.ComputeType, 1, MemoryCategory.Workspace),
                    backend.Allocate(backend.ComputeType, 1, MemoryCategory.Workspace)];
        _context = new ForwardContext(backend, Perturbation.None, _scratch[0], _scratch[1], _scratch[2]);
        try { _runner = checkpoint.Config.Architecture.OpenLayerwise(this, maxSeq); }
        catch { DisposeBuffers(); throw; }
    }

    /// <param name="maxRows">the most rows (sequences × length) one <see cref="DecoderLayer.Forward"/> call runs</param>
    /// <param name="maxSeq">the longest sequence</param>
    public static LayerwiseDecoder Open(Checkpoint checkpoint, IBackend backend, int maxRows, int maxSeq)
    {
        if (checkpoint.IsQuantized) throw new QzoException($"{checkpoint.Directory}: the checkpoint is already quantized");
        if (maxSeq <= 0 || maxRows < maxSeq) throw new ArgumentOutOfRangeException(nameof(maxRows),
            $"{maxRows} rows cannot hold a sequence of {maxSeq}");
        return new LayerwiseDecoder(checkpoint, backend, maxRows, maxSeq);
    }

    public ModelConfig Config => _checkpoint.Config;
    public int LayerCount => Config.Layers;
    public int HiddenSize => Config.HiddenSize;
    public int MaxRows { get; }

    /// <summary>
    /// The hidden states before decoder layer 0 of equal-length, unpadded sequences: [sequences·length, hidden], on the
    /// backend in its compute type, the caller's to keep (and dispose) while the layers move them on.
    /// </summary>
    public DeviceTensor Embed(IReadOnlyList<int[]> sequences)
    {
        if (sequences.Count == 0) throw new ArgumentException("no sequences", nameof(sequences));
        int seq = sequences[0].Length, rows = sequences.Count * seq, h = HiddenSize;
        if (sequences.Any(s => s.Length != seq)) throw new ArgumentException("sequences of different lengths", nameof(sequences));
        var ids = sequences.SelectMany(s => s).ToArray();
        var hidden = new float[(long)rows * h];
        _runner.Embed(ids, seq, hidden);
        var states = _backend.Allocate(_backend.ComputeType, hidden.LongLength, MemoryCategory.Activations);
        try { Upload(states, hidden); }
        catch { states.Dispose(); throw; }
        return states;
    }

    /// <summary>Loads decoder layer <paramref name="index"/>'s tensors (dense, in the backend's compute type).</summary>
    public DecoderLayer OpenLayer(int index)
    {
        if ((uint)index >= (uint)LayerCount) throw new ArgumentOutOfRangeException(nameof(index));
        return new DecoderLayer(this, index);
    }

    /// <summary>Rows <paramref name="ids"/> of the checkpoint's table <paramref name="name"/>, read from the file as float32.</summary>
    internal void GatherRows(string name, int[] ids, int width, Span<float> output)
    {
        var file = _checkpoint.Tensors.FileOf(name);
        var info = _checkpoint.Tensors.Get(name);
        if (info.Shape.Length != 2 || info.Shape[1] != width || !info.DType.IsFloat())
            throw new QzoException(
                $"{file.Path}: tensor '{name}' is {info.DType.Name()} [{string.Join(", ", info.Shape)}], expected a float matrix with " +
                $"rows of {width}");
        long rowsInTable = info.Shape[0];
        int rowBytes = width * info.DType.SizeInBytes();
        unsafe
        {
            byte* start = file.GetPointer(name, out _);
            for (int r = 0; r < ids.Length; r++)
            {
                if ((ulong)ids[r] >= (ulong)rowsInTable)
                    throw new QzoException($"{file.Path}: row {ids[r]} of '{name}' does not exist (it has {rowsInTable})");
                DTypes.ToSingle(info.DType, new ReadOnlySpan<byte>(start + (long)ids[r] * rowBytes, rowBytes),
                    output.Slice(r * width, width));
            }
        }
    }

    internal void Upload(DeviceTensor destination, ReadOnlySpan<float> values)
    {
        if (destination.DType == DType.F32) _backend.Upload(destination, values);
        else _backend.Upload<byte>(destination, DTypes.FromSingle(destination.DType, values));
    }

    internal void Download(DeviceTensor source, Span<float> values)
    {
        if (source.DType == DType.F32) { _backend.Download(source, values); return; }
        var raw = new byte[values.Length * source.DType.SizeInBytes()];
        _backend.Download<byte>(source, raw);
        DTypes.ToSingle(source.DType, raw, values);
    }

    internal IBackend Backend => _backend;
    internal ParameterLoader Loader => _loader;
    internal ActivationBuffers Activations => _activations;
    internal ForwardContext Context => _context;

    public void Dispose()
    {
        _runner.Dispose();
        DisposeBuffers();
    }

    void DisposeBuffers()
    {
        _activations.Dispose();
        foreach (var t in _scratch) t.Dispose();
    }

    /// <summary>One decoder layer of a <see cref="LayerwiseDecoder"/>, loaded and runnable.</summary>
    public sealed class DecoderLayer : IDisposable
    {
        readonly LayerwiseDecoder _decoder;
        readonly IDisposable _owner;
        readonly Action<int, int> _run;
        IReadOnlyDictionary<string, LinearInputObserver>? _observers;
        int _pending;

        internal DecoderLayer(LayerwiseDecoder decoder, int index)
        {
            _decoder = decoder;
            Index = index;
            var layer = decoder._runner.OpenLayer(index, Watch);
            _owner = layer.Owner;
            SequentialGroups = layer.SequentialGroups.Select(Dense).ToList();
            _run = layer.Run;
        }

        public int Index { get; }

        /// <summary>
        /// The layer's linears in the order GPTQ's true_sequential quantizes them, grouped by the input they share:
        /// as the family gives them (Llama layout [q, k, v], [o], [gate, up], [down]; OPT [q, k, v], [out_proj], [fc1], [fc2]).
        /// </summary>
        public IReadOnlyList<IReadOnlyList<DenseLinear>> SequentialGroups { get; }

        /// <summary>
        /// Runs the layer over <paramref name="hidden"/> [batch·seq, hidden] (unpadded sequences, on the backend in its
        /// compute type, as <see cref="Embed"/> gives them), in place.
        /// </summary>
        public void Forward(DeviceTensor hidden, int batch, int seq)
        {
            Run(hidden, batch, seq, null);
            _decoder._backend.Copy(_decoder._activations.X, hidden, hidden.Length);
        }

        /// <summary>
        /// Runs the layer over <paramref name="hidden"/> [batch·seq, hidden] for <paramref name="observers"/> (by linear
        /// name) to see the inputs of those linears; stops once each has seen its input, and leaves the hidden states as they are.
        /// </summary>
        public void Observe(DeviceTensor hidden, int batch, int seq, IReadOnlyDictionary<string, LinearInputObserver> observers)
        {
            if (observers.Count == 0) return;
            try { Run(hidden, batch, seq, observers); }
            catch (AllObserved) { } // the rest of the layer would change nothing any observer sees
        }

        void Run(DeviceTensor hidden, int batch, int seq, IReadOnlyDictionary<string, LinearInputObserver>? observers)
        {
            int rows = batch * seq, h = _decoder.HiddenSize;
            if (rows > _decoder.MaxRows) throw new ArgumentOutOfRangeException(nameof(batch),
                $"{rows} rows, more than the {_decoder.MaxRows} the decoder was opened for");
            if (hidden.Length != (long)rows * h) throw new ArgumentException($"hidden has {hidden.Length} elements, expected {rows}·{h}",
                nameof(hidden));
            var computeType = _decoder._activations.X.DType;
            if (hidden.DType != computeType) throw new ArgumentException(
                $"hidden states in {hidden.DType.Name()}, expected the compute type {computeType.Name()}", nameof(hidden));
            var a = _decoder._activations;
            var backend = _decoder._backend;
            var mask = new int[rows];
            Array.Fill(mask, 1);
            backend.Upload<int>(a.Mask, mask);
            var positions = new int[rows];
            for (int r = 0; r < rows; r++) positions[r] = r % seq;
            backend.Upload<int>(a.Positions, positions);
            backend.Copy(hidden, a.X, hidden.Length);
            _observers = observers;
            _pending = observers?.Count ?? 0;
            try { _run(batch, seq); }
            finally { _observers = null; }
        }

        /// <summary>A linear's weight [out, in] as float32.</summary>
        public float[] Weight(DenseLinear linear) => linear.Weight.Download(_decoder._backend);

        /// <summary>Replaces a linear's weight [out, in] (e.g. with its quantized values) for the following forwards.</summary>
        public void SetWeight(DenseLinear linear, ReadOnlySpan<float> weight)
        {
            if (weight.Length != linear.Weight.Length) throw new ArgumentException(
                $"{linear.Name}: {weight.Length} values for a weight of {linear.Weight.Length}");
            _decoder.Upload(linear.Weight.Values, weight);
        }

        ILinear Watch(ILinear linear) => new WatchedLinear(linear, this);

        static IReadOnlyList<DenseLinear> Dense(IReadOnlyList<ILinear> linears) =>
            linears.Select(l => l as DenseLinear
                ?? throw new QzoException($"'{l.Name}' is not a dense linear (the checkpoint is already quantized)")).ToArray();

        void Observe(ILinear linear, DeviceTensor x, int rows)
        {
            if (_observers is null || !_observers.TryGetValue(linear.Name, out var observer)) return;
            observer(x, rows);
            if (--_pending == 0) throw new AllObserved();
        }

        sealed class AllObserved : Exception;

        public void Dispose() => _owner.Dispose();

        sealed class WatchedLinear(ILinear inner, DecoderLayer layer) : ILinear
        {
            public string Name => inner.Name;
            public int InFeatures => inner.InFeatures;
            public int OutFeatures => inner.OutFeatures;
            public IEnumerable<Parameter> Parameters => inner.Parameters;

            public void Forward(ForwardContext context, DeviceTensor x, int rows, DeviceTensor y, bool accumulate = false)
            {
                layer.Observe(inner, x, rows);
                inner.Forward(context, x, rows, y, accumulate);
            }

            public void Dispose() { } // the layer owns the inner linear
        }
    }
}
