using EqlActors.Configuration;

namespace EqlActors.Ports;

/// <summary>
/// What a link's pppd chain (pppd, its <c>exec ssh</c> pty, the remote slirp unit) is started from.
/// <paramref name="Generation"/> is set on a clean bundle start (nothing adopted): the chain itself then prepares
/// host_B (unit 0 ends stale slirp processes before it starts the main slirp; the other units wait until that
/// slirp's attach socket of this generation exists), so no separate preparation sits before the links.
/// </summary>
public sealed record PppLaunch(int Link, BundleConfig Config, string? Generation = null);

/// <summary>A running pppd that this service started or adopted.</summary>
public sealed record PppProcess(int Link, int Pid, string? Interface);

/// <summary>Why pppd ended: its exit code mapped to a reason (pppd(8) EXIT STATUS).</summary>
public sealed record PppExit(int Link, int Pid, int ExitCode, string Reason, FailureKind Kind);

/// <summary>Callbacks from a pppd chain. Implementations call them from any thread; actors forward them to themselves.</summary>
public interface IPppEvents
{
    void Exited(PppExit exit);
    /// <summary>pppd reported the interface it got (it may differ from <c>pppN</c>: <c>unit N</c> is a wish).</summary>
    void InterfaceAssigned(int link, int pid, string ifname);
    void Output(int link, int pid, string line);
}

/// <summary>Starting, adopting and stopping pppd chains.</summary>
public interface IPppProcesses
{
    /// <summary>Starts pppd for one link. Throws <see cref="PortException"/> when it cannot even be started.</summary>
    Task<PppProcess> StartAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default);

    /// <summary>Finds a pppd this service left running for the link (pppd's linkname pidfile) and watches it.</summary>
    Task<PppProcess?> AdoptAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default);

    /// <summary>Ends the whole chain: SIGTERM to its process group, SIGKILL after <paramref name="grace"/>; completes when it is gone.</summary>
    Task StopAsync(PppProcess process, TimeSpan grace, CancellationToken ct = default);

    /// <summary>
    /// Ends the link's kept ssh connection (its OpenSSH master, which <see cref="StopAsync"/> leaves running so that
    /// the next attempt reuses it), if there is one; completes when it is gone. A no-op when there is none.
    /// </summary>
    Task EndConnectionAsync(PppLaunch launch, CancellationToken ct = default);

    /// <summary>
    /// Whether the link's kept ssh connection is there and its master answers on its control socket within
    /// <paramref name="timeout"/> (the alive check of OpenSSH's <c>ssh -O check</c>): false when there is none, it is dead, or it is
    /// frozen. It proves the master alive and responsive, not its path to host_B.
    /// </summary>
    Task<bool> ConnectionAnswersAsync(PppLaunch launch, TimeSpan timeout, CancellationToken ct = default);
}
