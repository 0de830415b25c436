namespace Qzo.Quantization.Gptq;

/// <summary>
/// One matrix of a GPTQ run on a backend (<see cref="Kernels.IGptqKernels.Grids"/>, <see cref="Kernels.IGptqKernels.Block"/>):
/// <paramref name="Rows"/> outputs × <paramref name="Columns"/> inputs, a grid per <paramref name="GroupSize"/>
/// inputs (the whole row: GroupSize = Columns), <paramref name="Bits"/>-bit codes, symmetric or not.
/// </summary>
public readonly record struct GptqStepShape(int Rows, int Columns, int GroupSize, int Bits, bool Sym)
{
    public int Groups => (Columns + GroupSize - 1) / GroupSize;
}
