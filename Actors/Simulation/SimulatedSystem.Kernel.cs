using System.Net;
using EqlActors.Configuration;
using EqlActors.Ports;
using EqlActors.Messages;

namespace EqlActors.Simulation;

/// <summary>One network interface of the simulated kernel.</summary>
public sealed class SimInterface(string name, int mtu)
{
    public string Name { get; } = name;
    /// <summary>Its ifindex, given when it is added: like the kernel's, never that of an earlier interface.</summary>
    public int Index { get; internal set; }
    public bool IsUp { get; internal set; }
    public int Mtu { get; internal set; } = mtu;
    public long TxBytes { get; internal set; }
    public long RxBytes { get; internal set; }
    public long TxPackets { get; internal set; }
    public long RxPackets { get; internal set; }
}

// The kernel: interfaces with their events, the routing table and sysctl.
public sealed partial class SimulatedSystem
{
    /// <summary>A route that has nothing to do with the bundle: stop must leave it alone.</summary>
    public static readonly Route ForeignRoute = new(new Cidr(IPAddress.Any, 0), "eth0", IPAddress.Parse("192.0.2.1"));
    public const string TcpReorderingKey = "net.ipv4.tcp_reordering";
    public const string TcpReorderingDefault = "3";

    private readonly Dictionary<string, SimInterface> _interfaces = [];
    private readonly List<Route> _routes = [];
    private readonly Dictionary<string, string> _sysctl = [];
    // What the Linux system keeps in a file of the daemon's runtime directory: it outlives any daemon (bundle actor).
    private readonly Dictionary<string, string> _sysctlKept = [];
    private readonly List<Action<LinkChanged>> _subscribers = [];
    private int _lastIndex;

    private void InitKernel()
    {
        _interfaces["lo"] = new SimInterface("lo", 65536) { IsUp = true, Index = ++_lastIndex };
        _interfaces["eth0"] = new SimInterface("eth0", 1500) { IsUp = true, Index = ++_lastIndex };
        _routes.Add(ForeignRoute);
        _sysctl[TcpReorderingKey] = TcpReorderingDefault;
    }

    private void AddInterface(SimInterface iface)
    {
        iface.Index = ++_lastIndex;
        _interfaces[iface.Name] = iface;
        Announce(iface.Name);
    }

    private void RemoveInterface(string name)
    {
        if (!_interfaces.Remove(name, out var gone)) return;
        DropRoutesVia(name);
        Announce(name, gone.Index);
    }

    private void SetUp(SimInterface iface, bool up)
    {
        if (iface.IsUp == up) return;
        iface.IsUp = up;
        // Like the kernel on NETDEV_DOWN: routes through a device that went down are flushed.
        if (!up) DropRoutesVia(iface.Name);
        Announce(iface.Name);
    }

    private void DropRoutesVia(string device) => _routes.RemoveAll(r => r.Device == device);

    private void Announce(string name, int goneIndex = 0)
    {
        var change = _interfaces.TryGetValue(name, out var i) ? new LinkChanged(name, true, i.IsUp) { Index = i.Index } : new LinkChanged(name, false, false) { Index = goneIndex };
        foreach (var subscriber in _subscribers.ToArray()) Deliver(() => subscriber(change));
    }

    private LinkState StateOf(string name) => _interfaces.TryGetValue(name, out var i)
        ? new LinkState(name, true, i.IsUp, i.Mtu, IsEnslaved(name), i.TxBytes, i.RxBytes) { TxPackets = i.TxPackets, RxPackets = i.RxPackets, Index = i.Index }
        : new LinkState(name, false, false, 0, false, 0, 0);

    private sealed class LinksPort(SimulatedSystem sim) : INetworkLinks
    {
        public IDisposable Subscribe(Action<LinkChanged> onChange)
        {
            lock (sim._gate) sim._subscribers.Add(onChange);
            return new Unsubscriber(() => { lock (sim._gate) sim._subscribers.Remove(onChange); });
        }

        public Task<LinkState> GetAsync(string name, CancellationToken ct = default)
        {
            lock (sim._gate)
            {
                if (sim._hangingReads > 0)
                {
                    // A call that never answers (a netlink reply that never comes): only its cancellation ends it.
                    sim._hangingReads--;
                    var hung = new TaskCompletionSource<LinkState>();
                    ct.Register(() => hung.TrySetCanceled(ct));
                    return hung.Task;
                }
            }
            return Done(() => sim.StateOf(name), sim._gate);
        }
    }

    private sealed class Unsubscriber(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }

    private sealed class RoutesPort(SimulatedSystem sim) : IRoutes
    {
        public Task<IReadOnlyList<Route>> ListAsync(CancellationToken ct = default) =>
            Done<IReadOnlyList<Route>>(() => [.. sim._routes], sim._gate);

        public Task AddAsync(Route route, CancellationToken ct = default) => Done(() =>
        {
            if (!sim._interfaces.TryGetValue(route.Device, out var dev)) throw new PortException($"ip route add {route}: ENODEV, no device {route.Device}");
            if (!dev.IsUp) throw new PortException($"ip route add {route}: ENETDOWN, {route.Device} is down");
            if (sim._routes.Any(r => r.Destination == route.Destination && r.Device == route.Device)) throw new PortException($"ip route add {route}: EEXIST");
            sim._routes.Add(route);
        }, sim._gate);

        public Task DeleteAsync(Route route, CancellationToken ct = default) => Done(() =>
        {
            if (sim._routes.Remove(route)) return;
            throw new PortException($"ip route del {route}: ESRCH, no such route");
        }, sim._gate);
    }

    private sealed class SysctlPort(SimulatedSystem sim) : ISysctl
    {
        public Task<string?> ReadAsync(string key, CancellationToken ct = default) =>
            Done(() => sim._sysctl.TryGetValue(key, out var v) ? v : null, sim._gate);

        public Task WriteAsync(string key, string value, CancellationToken ct = default) => Done(() =>
        {
            if (!sim._sysctl.ContainsKey(key)) throw new PortException($"sysctl {key}: no such key", FailureKind.Permanent);
            sim._sysctl[key] = value;
        }, sim._gate);
    }

    /// <summary>The value kept for <paramref name="key"/> from before the product's first change (<see cref="ISysctlOriginals"/>); null: none.</summary>
    public string? SysctlKept(string key)
    {
        lock (_gate) return _sysctlKept.TryGetValue(key, out var v) ? v : null;
    }

    private sealed class SysctlOriginalsPort(SimulatedSystem sim) : ISysctlOriginals
    {
        public Task<string?> ReadAsync(string key, CancellationToken ct = default) =>
            Done(() => sim._sysctlKept.TryGetValue(key, out var v) ? v : null, sim._gate);

        public Task KeepAsync(string key, string value, CancellationToken ct = default) => Done(() => sim._sysctlKept.TryAdd(key, value), sim._gate);

        public Task ForgetAsync(string key, CancellationToken ct = default) => Done(() => sim._sysctlKept.Remove(key), sim._gate);
    }
}
