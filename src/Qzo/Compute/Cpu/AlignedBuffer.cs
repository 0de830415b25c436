using System.Runtime.InteropServices;

namespace Qzo.Compute.Cpu;

/// <summary>A grow-only, 64-byte-aligned native float buffer, freed by its finalizer.</summary>
internal sealed unsafe class AlignedBuffer
{
    private float* _pointer;
    private nuint _capacity;

    public float* Ensure(nuint floats)
    {
        if (floats > _capacity)
        {
            NativeMemory.AlignedFree(_pointer);
            _pointer = null;
            _capacity = 0;
            _pointer = (float*)NativeMemory.AlignedAlloc(floats * sizeof(float), 64);
            _capacity = floats;
        }
        return _pointer;
    }

    ~AlignedBuffer() => NativeMemory.AlignedFree(_pointer);

    [ThreadStatic] private static AlignedBuffer? t_packedB;
    [ThreadStatic] private static AlignedBuffer? t_packedA;

    // Rent/Return take the buffer out of its slot while in use, so a re-entrant call on the same
    // thread (e.g. a task inlined while waiting) gets a fresh buffer instead of sharing one.
    public static AlignedBuffer RentB() { var b = t_packedB ?? new AlignedBuffer(); t_packedB = null; return b; }
    public static void ReturnB(AlignedBuffer b) => t_packedB = b;
    public static AlignedBuffer RentA() { var b = t_packedA ?? new AlignedBuffer(); t_packedA = null; return b; }
    public static void ReturnA(AlignedBuffer b) => t_packedA = b;
}
