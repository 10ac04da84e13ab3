using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace EqlActors.Host.Hosting;

/// <summary>
/// What a recovery needs loaded, loaded once the bundle is first ready (by <see cref="MemoryTrimmer"/>, before its
/// first trim, off the actor's thread), so that the daemon at rest holds the same files before and after faults and
/// the first recovery does not pay for them. Found by recording the daemon's fds and its assembly loads in the soak:
/// the first recovery opened 13 files for good, among them the stack-trace symbol reader
/// (System.Diagnostics.StackTrace, System.Reflection.Metadata, System.IO.MemoryMappedFiles and eqlactors.pdb),
/// which .NET loads the first time it captures a stack with file and line: an exception logged with its stack, or
/// an asynchronous socket error (a control client that went away before its answer was written). Type loads, static
/// constructors, one stack capture and one look at /proc (the chain's stop) only: no network, no process, no file of the bundle.
/// </summary>
public static class RecoveryWarmUp
{
    /// <summary>The diagnosis path's types (SSH.NET over OpenSSL, host_B's first-hop check).</summary>
    public static readonly Type[] Types =
    [
        typeof(Renci.SshNet.SshClient),
        typeof(Renci.SshNet.PrivateKeyFile),
        typeof(Renci.SshNet.ForwardedPortLocal),
        typeof(System.Net.Sockets.TcpClient),
        typeof(System.Security.Cryptography.SHA256),
    ];

    /// <summary>Loads them and the symbol reader; returns how many types were loaded.</summary>
    public static int Run()
    {
        foreach (var t in Types) RuntimeHelpers.RunClassConstructor(t.TypeHandle);
        // The symbol reader: a stack with file and line opens it (and this assembly's pdb, when it is shipped).
        _ = new StackTrace(fNeedFileInfo: true).FrameCount;
        // ... and the actors' pdb, which a stack with one of their frames opens (an exception rethrown through an
        // actor's await formats one; a 10-fault soak once saw it opened at its fifth fault): a stack taken inside a
        // call from the actors' assembly. The probe says slirp cannot serve, so nothing else runs.
        _ = Ports.RemotePreparation.RunAsync([], killStale: false,
            _ => Task.FromResult(new Ports.SlirpProbe(false, false, 0, false, $"warm-up, {new StackTrace(fNeedFileInfo: true).FrameCount} frames")),
            _ => Task.FromResult(0), (_, _) => Task.CompletedTask, CancellationToken.None).GetAwaiter().GetResult();
        // The chain's stop: its look at the processes and at the kept connection's pipes, compiled before the first failure.
        if (OperatingSystem.IsLinux()) _ = Linux.SshMasters.WarmUp();
        return Types.Length;
    }
}
