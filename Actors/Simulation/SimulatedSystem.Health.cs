using EqlActors.Ports;

namespace EqlActors.Simulation;

// End-to-end paths: a link can pass LCP yet drop everything else (a filter on its pppN), and the remote LAN can be
// unreachable from host_B itself. Probes answer from this state at once, like a path with no delay.
public sealed partial class SimulatedSystem
{
    /// <summary>The round trip a working simulated path reports.</summary>
    public static readonly double ProbeRttSeconds = 0.05;

    // The interface object, not its name: the filter goes with the interface, a restarted link's new pppN is clean.
    private readonly HashSet<SimInterface> _droppingTraffic = [];
    private bool _remoteLanUnreachable;

    /// <summary>The link keeps its interface up and answers LCP, but drops all other traffic (until it is restarted).</summary>
    public bool DropLinkTraffic(int link)
    {
        lock (_gate)
        {
            if (CurrentChain(link) is not { Interface: { } name } || !_interfaces.TryGetValue(name, out var iface) || !iface.IsUp) return false;
            return _droppingTraffic.Add(iface);
        }
    }

    /// <summary>host_B cannot reach its own LAN (or heals, with false): nothing on our side can fix that.</summary>
    public void SetRemoteLanUnreachable(bool unreachable)
    {
        lock (_gate) _remoteLanUnreachable = unreachable;
    }

    private volatile ManualResetEventSlim? _wedge;

    /// <summary>
    /// From now on the eql port's master query never returns: the eql actor that calls it is wedged for good, as
    /// on a kernel whose ioctl hangs. Only the daemon's <c>--simulated</c> mode can reach this (the watchdog test).
    /// </summary>
    public void Wedge() => _wedge = new ManualResetEventSlim(false);

    /// <summary>Outside the world's lock: only the calling actor hangs, the rest of the simulation goes on.</summary>
    private void WaitIfWedged() => _wedge?.Wait();

    private bool Carries(SimInterface iface) => iface.IsUp && !_droppingTraffic.Contains(iface);

    /// <summary>An echo out through one link: it needs that link to carry traffic (the reply may come back over any).</summary>
    private ProbeOutcome Echo(string device, string host)
    {
        lock (_gate)
        {
            if (!_interfaces.TryGetValue(device, out var iface) || !iface.IsUp) return new(false, null, $"{device} is down");
            if (Unreachable) return new(false, null, $"no echo reply from {host} via {device} (host_B unreachable)");
            return Carries(iface) ? new(true, ProbeRttSeconds, $"echo from {host} sent via {device}") : new(false, null, $"no echo reply from {host} via {device}");
        }
    }

    /// <summary>A connect through the bundle: eql up with a slave that carries traffic, host_B and its LAN reachable.</summary>
    private ProbeOutcome Connect(string host, int port)
    {
        lock (_gate)
        {
            var target = $"{host}:{port}";
            if (Master is not { IsUp: true } || !_slaves.Any(s => _interfaces.TryGetValue(s.Name, out var i) && Carries(i)))
                return new(false, null, $"{target} did not answer (no eql slave carries traffic)");
            if (Unreachable || _remoteLanUnreachable) return new(false, null, $"{target} did not answer");
            return new(true, ProbeRttSeconds, $"{target} connected");
        }
    }

    private sealed class ProbePort(SimulatedSystem sim) : IHealthProbe
    {
        public Task<ProbeOutcome> EchoAsync(string device, string host, TimeSpan timeout, CancellationToken ct = default) =>
            Task.FromResult(sim.Echo(device, host));

        public Task<ProbeOutcome> ConnectAsync(string host, int port, TimeSpan timeout, CancellationToken ct = default) =>
            Task.FromResult(sim.Connect(host, port));
    }
}
