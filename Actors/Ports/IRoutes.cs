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

/// <summary>
/// The value a sysctl had before the product first changed it, kept outside the daemon's memory: a daemon killed and
/// replaced by one that adopts the running links finds the product's value in force and nothing to compare it with;
/// what this keeps is what its stop puts back. Kept from before the first write until the value was put back (or
/// somebody else changed it since).
/// </summary>
public interface ISysctlOriginals
{
    /// <summary>The kept value of <paramref name="key"/>; null when none is kept.</summary>
    Task<string?> ReadAsync(string key, CancellationToken ct = default);

    /// <summary>Keeps <paramref name="value"/> unless a value is kept already: the one found before the first change wins.</summary>
    Task KeepAsync(string key, string value, CancellationToken ct = default);

    /// <summary>Drops the kept value of <paramref name="key"/> (none kept: nothing happens).</summary>
    Task ForgetAsync(string key, CancellationToken ct = default);
}

/// <summary>
/// <see cref="ISysctlOriginals"/> that lives as long as the object: for adapters without a daemon to outlive (the
/// benchmarks' stand-ins). The Linux system keeps them in a file, the simulated system in its world.
/// </summary>
public sealed class SysctlOriginalsInMemory : ISysctlOriginals
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _kept = [];

    public Task<string?> ReadAsync(string key, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult(_kept.TryGetValue(key, out var v) ? v : null);
    }

    public Task KeepAsync(string key, string value, CancellationToken ct = default)
    {
        lock (_gate) _kept.TryAdd(key, value);
        return Task.CompletedTask;
    }

    public Task ForgetAsync(string key, CancellationToken ct = default)
    {
        lock (_gate) _kept.Remove(key);
        return Task.CompletedTask;
    }
}
