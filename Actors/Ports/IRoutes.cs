using EqlActors.Configuration;
using System.Net;

namespace EqlActors.Ports;

/// <summary>
/// One IPv4 route: to <see cref="Destination"/> via <see cref="Gateway"/> (or directly) on <see cref="Device"/>.
/// <see cref="OnLink"/> declares the gateway reachable on the device although it is outside the device's subnet:
/// slirp's 10.0.2.2 seen through eql (172.16.1.0/24) needs it, or the kernel refuses the nexthop.
/// </summary>
public sealed record Route(Cidr Destination, string Device, IPAddress? Gateway = null, bool OnLink = false)
{
    public override string ToString() =>
        (Gateway is null ? $"{Destination} dev {Device}" : $"{Destination} via {Gateway} dev {Device}") + (OnLink ? " onlink" : "");
}

/// <summary>The main routing table.</summary>
public interface IRoutes
{
    Task<IReadOnlyList<Route>> ListAsync(CancellationToken ct = default);
    Task AddAsync(Route route, CancellationToken ct = default);
    Task DeleteAsync(Route route, CancellationToken ct = default);
}

/// <summary>Kernel tunables under /proc/sys, named with dots (<c>net.ipv4.tcp_reordering</c>).</summary>
public interface ISysctl
{
    Task<string?> ReadAsync(string key, CancellationToken ct = default);
    Task WriteAsync(string key, string value, CancellationToken ct = default);
}
