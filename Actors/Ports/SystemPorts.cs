namespace EqlActors.Ports;

/// <summary>Every effect the actors can have on the world, in one bundle: the Linux system or the simulated one.</summary>
public sealed record SystemPorts(
    IPppProcesses Ppp,
    INetworkLinks Links,
    IEqlDriver Eql,
    IRoutes Routes,
    ISysctl Sysctl,
    IRemoteHost Remote)
{
    /// <summary>End-to-end probes (health.enabled); null where none exists: the health actor then only samples counters.</summary>
    public IHealthProbe? Probe { get; init; }
}
