namespace EqlActors.Ports;

/// <summary>Every effect the actors can have on the world, in one bundle: the Linux system or the simulated one.</summary>
public sealed record SystemPorts(
    IPppProcesses Ppp,
    INetworkLinks Links,
    IEqlDriver Eql,
    IRoutes Routes,
    ISysctl Sysctl,
    IRemoteHost Remote);
