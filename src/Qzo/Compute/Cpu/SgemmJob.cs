using System.Runtime.CompilerServices;

namespace Qzo.Compute.Cpu;

/// <summary>
/// One blocked product C[m,n] (+)= A[m,k] · B with B packed once into NR-column panels, K split into
/// blocks of at most <see cref="KcMax"/>, and the (row block × column group) tiles spread over cores.
/// </summary>
internal sealed unsafe class SgemmJob<TKernel> where TKernel : struct, IMicroKernel
{
    // KC·NR floats of a B panel (32 KB for 256×32) stay in L1/L2 while all slivers of a row block pass over it;
    // MC·KC floats of packed A (128 KB) stay in L2 while all panels pass over it.
    internal const int KcMax = 256;
    private const int McMax = 128;
    // Below about 4M multiply-adds (~20 µs on one core) a fork/join of the thread pool, 5–20 µs when the other
    // core is idle and far more when it is busy, costs about what it saves; packing B alone pays off later still.
    private const long ParallelThreshold = 1L << 22;
    private const long ParallelPackThreshold = 1L << 20;

    private readonly float* _a, _b, _c;
    private readonly int _m, _n, _k;
    private readonly bool _accumulate, _transposedB;
    private readonly int _kc, _kBlocks, _panels, _mc, _rowBlocks, _colGroups, _panelsPerGroup;
    private float* _packedB;

    private SgemmJob(float* a, float* b, float* c, int m, int n, int k, bool accumulate, bool transposedB, int workers)
    {
        _a = a; _b = b; _c = c; _m = m; _n = n; _k = k;
        _accumulate = accumulate; _transposedB = transposedB;

        int mr = TKernel.MR, nr = TKernel.NR;
        // Even split, in multiples of 16 for the packing transposes: 300 → 160 + 140, not 256 + 44.
        int blocks = (k + KcMax - 1) / KcMax;
        _kc = Math.Min(k, RoundUp((k + blocks - 1) / blocks, 16));
        _kBlocks = (k + _kc - 1) / _kc;
        _panels = (n + nr - 1) / nr;

        // Aim for a few tiles per worker so a core slowed by other processes does not stall the join.
        int targetTiles = workers == 1 ? 1 : workers * 4;
        int mcMax = McMax / mr * mr;
        int mcFit = RoundUp((m + targetTiles - 1) / targetTiles, mr);
        _mc = Math.Min(mcMax, Math.Max(4 * mr, mcFit));
        _rowBlocks = (m + _mc - 1) / _mc;
        _colGroups = Math.Clamp((targetTiles + _rowBlocks - 1) / _rowBlocks, 1, _panels);
        _panelsPerGroup = (_panels + _colGroups - 1) / _colGroups;
        _colGroups = (_panels + _panelsPerGroup - 1) / _panelsPerGroup;
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    public static void Run(float* a, float* b, float* c, int m, int n, int k, bool accumulate, bool transposedB)
    {
        bool parallel = Environment.ProcessorCount > 1 && (long)m * n * k >= ParallelThreshold;
        var job = new SgemmJob<TKernel>(a, b, c, m, n, k, accumulate, transposedB, parallel ? Environment.ProcessorCount : 1);
        var buffer = AlignedBuffer.RentB();
        try
        {
            job._packedB = buffer.Ensure((nuint)k * (nuint)(job._panels * TKernel.NR));
            int packItems = job._kBlocks * job._panels;
            int tiles = job._rowBlocks * job._colGroups;
            if (parallel && (long)n * k >= ParallelPackThreshold) Parallel.For(0, packItems, job.PackB);
            else for (int i = 0; i < packItems; i++) job.PackB(i);
            if (parallel) Parallel.For(0, tiles, job.ComputeTile);
            else for (int i = 0; i < tiles; i++) job.ComputeTile(i);
        }
        finally
        {
            AlignedBuffer.ReturnB(buffer);
        }
    }

    // Packed B: K block kb occupies k0·panels·NR floats onward, panel jp of it kc·NR floats at jp·kc·NR.
    private float* PanelOf(int k0, int kc, int jp) => _packedB + (nint)k0 * _panels * TKernel.NR + (nint)jp * kc * TKernel.NR;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackB(int item)
    {
        int kb = item / _panels, jp = item % _panels;
        int k0 = kb * _kc, kc = Math.Min(_kc, _k - k0);
        float* dst = PanelOf(k0, kc, jp);
        if (_transposedB) SgemmPacking.PackPanelTransposed<TKernel>(_b, _n, _k, k0, kc, jp, dst);
        else SgemmPacking.PackPanel<TKernel>(_b, _n, k0, kc, jp, dst);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ComputeTile(int tile)
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        int rb = tile / _colGroups, cg = tile % _colGroups;
        int i0 = rb * _mc, mc = Math.Min(_mc, _m - i0);
        int jp0 = cg * _panelsPerGroup, jp1 = Math.Min(_panels, jp0 + _panelsPerGroup);
        float* edge = stackalloc float[mr * nr];

        var buffer = AlignedBuffer.RentA();
        try
        {
            float* packedA = buffer.Ensure((nuint)(RoundUp(mc, mr) * _kc));
            for (int k0 = 0; k0 < _k; k0 += _kc)
            {
                int kc = Math.Min(_kc, _k - k0);
                bool load = _accumulate || k0 > 0;
                SgemmPacking.PackA<TKernel>(_a + (nint)i0 * _k + k0, _k, mc, kc, packedA);
                for (int jp = jp0; jp < jp1; jp++)
                {
                    float* panel = PanelOf(k0, kc, jp);
                    int cols = Math.Min(nr, _n - jp * nr);
                    float* cRow = _c + (nint)i0 * _n + jp * nr;
                    for (int ir = 0; ir < mc; ir += mr)
                    {
                        int rows = Math.Min(mr, mc - ir);
                        float* sliver = packedA + (nint)ir * kc;
                        float* cTile = cRow + (nint)ir * _n;
                        if (rows == mr && cols == nr) TKernel.Run(sliver, panel, kc, cTile, _n, load);
                        else EdgeTile(sliver, panel, kc, cTile, rows, cols, load, edge);
                    }
                }
            }
        }
        finally
        {
            AlignedBuffer.ReturnA(buffer);
        }
    }

    // Ragged tiles run the full kernel on a scratch tile (A and B are zero-padded) holding the valid part of C, and copy that
    // part back: each value gets the same operations as in a full tile, so a row's results do not depend on where the
    // row block ends (a batch's rows equal the same rows in a smaller batch: pipeline micro-batches, data-parallel shares).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EdgeTile(float* sliver, float* panel, int kc, float* c, int rows, int cols, bool load, float* scratch)
    {
        int nr = TKernel.NR;
        if (load)
        {
            new Span<float>(scratch, TKernel.MR * nr).Clear();
            for (int r = 0; r < rows; r++) new ReadOnlySpan<float>(c + (nint)r * _n, cols).CopyTo(new Span<float>(scratch + r * nr, cols));
        }
        TKernel.Run(sliver, panel, kc, scratch, nr, load);
        for (int r = 0; r < rows; r++) new ReadOnlySpan<float>(scratch + r * nr, cols).CopyTo(new Span<float>(c + (nint)r * _n, cols));
    }
}
