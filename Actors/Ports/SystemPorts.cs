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

    /// <summary>
    /// Where the sysctl values found before the first change are kept (<see cref="ISysctlOriginals"/>). The default
    /// keeps them in memory; the Linux system and the simulated one keep them where a restarted daemon finds them.
    /// </summary>
    public ISysctlOriginals SysctlOriginals { get; init; } = new SysctlOriginalsInMemory();
}
