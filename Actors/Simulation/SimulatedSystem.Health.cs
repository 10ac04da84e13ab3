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

    private ProbeOutcome Probe(string device, string host, int port)
    {
        lock (_gate)
        {
            var target = $"{host}:{port}";
            if (!_interfaces.TryGetValue(device, out var iface) || !iface.IsUp) return new(false, null, $"{device} is down");
            if (Unreachable) return new(false, null, $"{target} did not answer via {device} (host_B unreachable)");
            if (device == EqlDevice)
            {
                if (Master is null || !_slaves.Any(s => _interfaces.TryGetValue(s.Name, out var i) && Carries(i)))
                    return new(false, null, $"{target} did not answer via {device} (no slave carries traffic)");
                if (_remoteLanUnreachable) return new(false, null, $"{target} did not answer via {device}");
                return new(true, ProbeRttSeconds, $"{target} connected via {device}");
            }
            return Carries(iface) ? new(true, ProbeRttSeconds, $"{target} connected via {device}") : new(false, null, $"{target} did not answer via {device}");
        }
    }

    private sealed class ProbePort(SimulatedSystem sim) : IHealthProbe
    {
        public Task<ProbeOutcome> ConnectAsync(string device, string host, int port, TimeSpan timeout, CancellationToken ct = default) =>
            Task.FromResult(sim.Probe(device, host, port));
    }
}
