using System.Runtime.CompilerServices;

namespace EqlActors.Host.Hosting;

/// <summary>
/// What a recovery needs loaded, loaded once the bundle is first ready (by <see cref="MemoryTrimmer"/>, off the
/// actor's thread), so that the daemon at rest holds the same files before and after faults and the first recovery
/// is as fast as the others. Type loads and static constructors only: no network, no process, no file of the bundle.
/// </summary>
public static class RecoveryWarmUp
{
    /// <summary>The types whose assemblies a recovery loads (found by recording the daemon's fds in the soak).</summary>
    public static readonly Type[] Types =
    [
        typeof(Renci.SshNet.SshClient),
    ];

    /// <summary>Loads them; returns how many were loaded.</summary>
    public static int Run()
    {
        foreach (var t in Types) RuntimeHelpers.RunClassConstructor(t.TypeHandle);
        return Types.Length;
    }
}
