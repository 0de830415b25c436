namespace Qzo.Numerics;

/// <summary>
/// MT19937 (Matsumoto and Nishimura 1998) seeded as numpy's legacy <c>np.random.seed(int)</c> seeds it
/// (init_genrand), with numpy's legacy <c>permutation</c>: MeZO draws its train/dev/test samples this way,
/// so the same seed picks the same rows here as in the paper's runs.
/// </summary>
public sealed class MersenneTwister
{
    const int N = 624, M = 397;
    readonly uint[] _state = new uint[N];
    int _index;

    public MersenneTwister(uint seed)
    {
        _state[0] = seed;
        for (int i = 1; i < N; i++)
            _state[i] = 1812433253u * (_state[i - 1] ^ (_state[i - 1] >> 30)) + (uint)i;
        _index = N;
    }

    public uint NextUInt32()
    {
        if (_index >= N) Twist();
        uint y = _state[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C5680u;
        y ^= (y << 15) & 0xEFC60000u;
        return y ^ (y >> 18);
    }

    void Twist()
    {
        for (int i = 0; i < N; i++)
        {
            uint y = (_state[i] & 0x80000000u) | (_state[(i + 1) % N] & 0x7FFFFFFFu);
            _state[i] = _state[(i + M) % N] ^ (y >> 1) ^ ((y & 1) == 0 ? 0u : 0x9908B0DFu);
        }
        _index = 0;
    }

    /// <summary>numpy's random_interval: a uniform integer in [0, max] by masked rejection.</summary>
    public uint Interval(uint max)
    {
        if (max == 0) return 0;
        uint mask = max;
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4; mask |= mask >> 8; mask |= mask >> 16;
        uint value;
        while ((value = NextUInt32() & mask) > max) { }
        return value;
    }

    /// <summary><c>np.random.seed(seed); np.random.permutation(n)</c>: Fisher–Yates from the end.</summary>
    public static int[] NumpyPermutation(int n, uint seed)
    {
        var mt = new MersenneTwister(seed);
        var p = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)mt.Interval((uint)i);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}
