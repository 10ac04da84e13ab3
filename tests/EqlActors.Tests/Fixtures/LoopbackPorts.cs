using System.Net;
using System.Net.Sockets;

namespace EqlActors.Tests.Fixtures;

/// <summary>Ports on 127.0.0.1 for a test's own servers, and for a port where nothing listens.</summary>
public static class LoopbackPorts
{
    /// <summary>A port the kernel just handed out and that nothing listens on any more (until someone binds it).</summary>
    public static int Unused()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
