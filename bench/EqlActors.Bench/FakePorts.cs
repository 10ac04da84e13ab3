using System.Collections.Concurrent;
using EqlActors.Ports;
using EqlActors.Messages;

namespace EqlActors.Bench;

/// <summary>
/// In-memory EQL driver for the host harness: this kernel has no eql module. Master always loadable; enslave and
/// emancipate keep a set. Calls are as fast as a dictionary, where the real ioctls take microseconds.
/// </summary>
public sealed class FakeEqlDriver : IEqlDriver
{
    private readonly ConcurrentDictionary<string, long> _slaves = new();
    private volatile EqlMasterState? _master;

    public Task EnsureMasterAsync(EqlMasterSpec spec, CancellationToken ct = default)
    {
        _master = new EqlMasterState(spec.Device, true, true, spec.Address, spec.Mtu, 4, 1);
        return Task.CompletedTask;
    }

    public Task<EqlMasterState> GetMasterAsync(string device, CancellationToken ct = default) =>
        Task.FromResult(_master ?? new EqlMasterState(device, false, false, null, 0, 0, 0));

    public Task RemoveMasterAsync(string device, CancellationToken ct = default)
    {
        _master = null;
        _slaves.Clear();
        return Task.CompletedTask;
    }

    public Task EnslaveAsync(string device, string slave, long priority, CancellationToken ct = default)
    {
        if (_master is null) throw new PortException("EQL_ENSLAVE: master down (EINVAL)");
        if (!_slaves.TryAdd(slave, priority)) throw new PortException($"EQL_ENSLAVE {slave}: already enslaved (EINVAL)");
        return Task.CompletedTask;
    }

    public Task EmancipateAsync(string device, string slave, CancellationToken ct = default)
    {
        if (!_slaves.TryRemove(slave, out _)) throw new PortException($"EQL_EMANCIPATE {slave}: not enslaved (EINVAL)");
        return Task.CompletedTask;
    }

    public Task<EqlSlaveState?> GetSlaveAsync(string device, string slave, CancellationToken ct = default) =>
        Task.FromResult(_slaves.TryGetValue(slave, out var p) ? new EqlSlaveState(slave, p) : null);

    public Task SetSlavePriorityAsync(string device, string slave, long priority, CancellationToken ct = default)
    {
        _slaves[slave] = priority;
        return Task.CompletedTask;
    }
}

/// <summary>In-memory routing table: routes through <c>eql</c> cannot exist in a namespace without the eql device.</summary>
public sealed class FakeRoutes : IRoutes
{
    private readonly List<Route> _routes = [];

    public Task<IReadOnlyList<Route>> ListAsync(CancellationToken ct = default)
    {
        lock (_routes) return Task.FromResult<IReadOnlyList<Route>>([.. _routes]);
    }

    public Task AddAsync(Route route, CancellationToken ct = default)
    {
        lock (_routes) { if (!_routes.Contains(route)) _routes.Add(route); }
        return Task.CompletedTask;
    }

    public Task DeleteAsync(Route route, CancellationToken ct = default)
    {
        lock (_routes) _routes.Remove(route);
        return Task.CompletedTask;
    }
}

/// <summary>host_B that is always prepared: the harness measures the local side, not ssh.</summary>
public sealed class FakeRemote : IRemoteHost
{
    public Task<int> KillStaleSlirpAsync(CancellationToken ct = default) => Task.FromResult(0);
    public Task WriteRcFilesAsync(IReadOnlyList<int> links, CancellationToken ct = default) => Task.CompletedTask;
    public Task<SlirpProbe> ProbeSlirpWithoutAttachingAsync(CancellationToken ct = default) => ProbeSlirpAsync(ct);
    public Task<string?> ReadLinkErrorAsync(int link, CancellationToken ct = default) => Task.FromResult<string?>(null);
    public Task<(SlirpProbe Probe, int Killed)> PrepareAsync(IReadOnlyList<int> links, bool killStale, CancellationToken ct = default) =>
        RemotePreparation.InStepsAsync(this, links, killStale, ct);
    public Task<bool> HopAnswersAsync(EqlActors.Configuration.SshEndpoint hop, TimeSpan timeout, CancellationToken ct = default) => Task.FromResult(true);
    public Task<SlirpProbe> ProbeSlirpAsync(CancellationToken ct = default) => Task.FromResult(new SlirpProbe(true, true, 4, false, "bench stand-in"));
}
