using EqlActors.Messages;

namespace EqlActors.Ports;

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
