using Qzo.Distributed;
using Qzo.Training;

namespace Qzo.Tests.Training;

/// <summary>
/// Data-parallel runs on the quadratic with ranks as threads: they reproduce the single-process run, check that the ranks
/// stay identical, and leave the files to rank 0.
/// </summary>
public class DataParallelTests
{
    static readonly float[][] Target = [[1f, -2f, 0.5f, 3f], [0.75f, 1.5f]];
    static readonly IReadOnlyList<double> Shifts = [-0.1, 0.05, 0.0, 0.1, -0.05, 0.02, 0.07, -0.03, 0.011];

    static (HostTrainableSet Set, QuadraticObjective Objective) Fresh()
    {
        var set = new HostTrainableSet([new float[4], [0.5f, 0.5f]], [false, true]);
        return (set, new QuadraticObjective(set, Target));
    }

    static ZoOptions Options(int steps, int directions = 1) => new()
    {
        Steps = steps, BatchSize = 7, LearningRate = 0.01f, Epsilon = 1e-3f, ClipThreshold = 4f, ScaleFloor = 0.6f, EvalEvery = 10,
        Seed = 5, Directions = directions,
    };

    static (TrainingSummary Summary, float[][] Values) Single(ZoOptions options)
    {
        var (set, objective) = Fresh();
        using var metrics = new MetricsWriter(null);
        var summary = new FineTuneLoop<double>(objective, set, options, Shifts, objective.Evaluate, metrics).Run();
        return (summary, set.Values);
    }

    static (TrainingSummary Summary, float[][] Values)[] Parallel(int world, ZoOptions options, int checkEvery = 5) =>
        InProcessRanks.Run(world, communicator =>
        {
            var (set, objective) = Fresh();
            using var metrics = new MetricsWriter(null);
            var summary = new FineTuneLoop<double>(objective, set, options, Shifts, objective.Evaluate, metrics,
                parallel: new DataParallel(communicator, checkEvery)).Run();
            return (summary, set.Values);
        });

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 1)]
    [InlineData(4, 1)]
    [InlineData(3, 2)]
    public void NRanksTrainTheValuesOfOneProcess(int world, int directions)
    {
        var single = Single(Options(40, directions));
        var ranks = Parallel(world, Options(40, directions));
        foreach (var rank in ranks)
        {
            Assert.Equal(single.Values, rank.Values); // exact: the float update absorbs the losses' last-bit reduction order
            for (int s = 0; s < single.Summary.History.Count; s++)
            {
                var (a, b) = (single.Summary.History[s], rank.Summary.History[s]);
                Assert.Equal(a.Seed, b.Seed);
                Assert.Equal(a.LossPlus, b.LossPlus, 1e-12 * Math.Abs(a.LossPlus));
                Assert.Equal(a.LossMinus, b.LossMinus, 1e-12 * Math.Abs(a.LossMinus));
            }
        }
        if (world == 1) Assert.Equal(single.Summary.History, ranks[0].Summary.History); // one rank: the same bits throughout
    }

    [Fact]
    public void ARankWhoseValuesDriftStopsTheRunNamingTheStepAndTheRank()
    {
        var error = Assert.Throws<QzoException>(() => InProcessRanks.Run(3, communicator =>
        {
            var (set, objective) = Fresh();
            ITrainableSet trainable = communicator.Rank == 2 ? new DriftingSet(set, driftAtUpdate: 6) : set;
            using var metrics = new MetricsWriter(null);
            return new FineTuneLoop<double>(objective, trainable, Options(20), Shifts, objective.Evaluate, metrics,
                parallel: new DataParallel(communicator, CheckEvery: 4)).Run();
        }));
        Assert.StartsWith("after step 8: the trainable values of rank(s) 2 differ from rank 0's (fingerprints ", error.Message);
    }

    [Fact]
    public void OnlyRankZeroSavesTheCheckpoint()
    {
        using var folder = new TempFolder();
        InProcessRanks.Run(3, communicator =>
        {
            var (set, objective) = Fresh();
            using var metrics = new MetricsWriter(null);
            var checkpointing = RunCheckpointing.ToFile(folder[$"rank{communicator.Rank}.safetensors"], 5, set);
            return new FineTuneLoop<double>(objective, set, Options(10), Shifts, objective.Evaluate, metrics, checkpointing: checkpointing,
                parallel: new DataParallel(communicator)).Run();
        });
        Assert.Equal(["rank0.safetensors"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
        var (fresh, _) = Fresh();
        Assert.Equal(10, RunCheckpoint.Load(folder["rank0.safetensors"], fresh).Step);
    }

    [Fact]
    public void AnObjectiveWithoutSumsIsRefusedForSeveralRanks()
    {
        var error = Assert.Throws<QzoException>(() => InProcessRanks.Run(2, communicator =>
        {
            var (set, _) = Fresh();
            using var metrics = new MetricsWriter(null);
            return new FineTuneLoop<double>(new MeanOnly(), set, Options(2), Shifts, null, metrics,
                parallel: new DataParallel(communicator)).Run();
        }));
        Assert.Equal("MeanOnly cannot split a batch across ranks (it gives no loss sums); run it on one device", error.Message);
    }

    sealed class MeanOnly : IObjective<double>
    {
        public double Loss(IReadOnlyList<double> batch, Qzo.Compute.Perturbation p) => batch.Average();
    }

    /// <summary>A rank gone wrong: one of its updates moves a value a little further than the others'.</summary>
    sealed class DriftingSet(HostTrainableSet inner, int driftAtUpdate) : ITrainableSet
    {
        int _updates;
        public IReadOnlyList<TrainableTensor> Tensors => inner.Tensors;
        public float[][] Snapshot() => inner.Snapshot();
        public void Restore(float[][] values) => inner.Restore(values);

        public void Update(ulong seed, float step, float floor)
        {
            inner.Update(seed, step, floor);
            if (++_updates == driftAtUpdate) inner.Values[0][0] = BitConverter.Int32BitsToSingle(
                BitConverter.SingleToInt32Bits(inner.Values[0][0]) + 1);
        }
    }
}
