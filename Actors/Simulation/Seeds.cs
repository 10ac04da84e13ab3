namespace EqlActors.Simulation;

/// <summary>
/// Splits a simulation's one seed into independent streams, one per subsystem (the world, the fault plan, each
/// bundle's backoff jitter), so that a draw added in one never shifts the others. The mixing is fixed (not
/// <c>string.GetHashCode</c>, which .NET randomizes per process): the same seed gives the same streams everywhere.
/// </summary>
public static class Seeds
{
    public static int Split(int seed, string subsystem, int index = 0)
    {
        // FNV-1a over the subsystem's name, then a SplitMix64 finalizer over (seed, name, index).
        var h = 14695981039346656037UL;
        foreach (var c in subsystem)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        var z = h ^ ((ulong)(uint)seed << 32) ^ (uint)index;
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    public static Random For(int seed, string subsystem, int index = 0) => new(Split(seed, subsystem, index));
}
