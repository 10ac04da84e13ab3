using EqlActors.Configuration;
using EqlActors.Host.Remote;
using EqlActors.Ports;

namespace EqlActors.Host.Linux;

/// <summary>The Linux implementations of every port, for a real bundle on this host.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class LinuxSystem
{
    /// <summary>
    /// Builds the ports for <paramref name="config"/>. <paramref name="netns"/> runs the network ports (links,
    /// EQL ioctls, routes, sysctl) inside a named namespace; null is the host's own, as in production.
    /// pppd and the remote host are not namespace-aware. Every call starts on the process's
    /// <see cref="PortThreads"/>: some of these adapters block behind their Task signature, and an actor must never
    /// wait for one on its own thread.
    /// </summary>
    /// <param name="ppp">The pppd port when the host made it already (<see cref="PrelaunchedPpp"/> over its own <see cref="LinuxPppProcesses"/>).</param>
    public static SystemPorts Create(BundleConfig config, string? netns = null, IPppProcesses? ppp = null) => OffloadedPorts.Wrap(new(
        ppp ?? new LinuxPppProcesses(),
        new LinuxNetworkLinks(netns),
        new LinuxEqlDriver(netns),
        new LinuxRoutes(netns),
        new LinuxSysctl(netns),
        new SshRemoteHost(config))
    {
        Probe = new LinuxHealthProbe(),
        // Beside the control socket: a daemon that replaces this one (after a kill) finds what to put back there.
        SysctlOriginals = SysctlOriginalsFile.ForSocket(config.Control.SocketPath),
    }, PortThreads.Shared, PortThreads.Processes);
}
