using Qzo.Compute;

namespace Qzo.Diffusion.Vae;

/// <summary>Sees a named intermediate (e.g. "encoder.mid_block") while it exists; for parity tests and debugging.</summary>
public delegate void VaeObserver(string name, DeviceTensor x, ImageShape shape);
