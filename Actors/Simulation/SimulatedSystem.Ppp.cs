using EqlActors.Configuration;
using EqlActors.Messages;
using EqlActors.Ports;

namespace EqlActors.Simulation;

public enum SimProcessKind
{
    Pppd,
    Ssh,
    Slirp,
}

/// <summary>A process alive on host_A (pppd, its ssh) or on host_B (slirp).</summary>
public sealed record SimProcess(int Pid, SimProcessKind Kind, int Link, bool OnRemote);

/// <summary>When a link's pppd was started: lets tests measure restart spacing in virtual time.</summary>
public sealed record SimPppStart(int Link, int Pid, DateTimeOffset At)
{
    /// <summary>The attempt opened its session over the link's kept ssh connection (no key exchange, no jump host).</summary>
    public bool ReusedConnection { get; init; }
}

// pppd chains: pppd, its "exec ssh" pty, and the slirp unit that ssh holds on host_B.
public sealed partial class SimulatedSystem
{
    private sealed class SimChain(int link, int pppdPid, int sshPid, IPppEvents events)
    {
        public int Link { get; } = link;
        public int PppdPid { get; } = pppdPid;
        public int SshPid { get; } = sshPid;
        public IPppEvents Events { get; set; } = events;
        public bool PppdAlive { get; set; } = true;
        public bool SshAlive { get; set; } = true;
        public bool HoldsUnit { get; set; }
        public string? Interface { get; set; }
        public bool CleanStart { get; init; }
        public bool KeepsConnection { get; init; }
        public DateTimeOffset? WaitingSince { get; set; }
    }

    private readonly Dictionary<int, SimChain> _chains = [];
    private readonly List<SimPppStart> _starts = [];
    // Links whose ssh master outlives its session (remote.reuseConnection): formed once an attempt authenticated.
    private readonly HashSet<int> _keptConnections = [];
    private int _connectionEndRequests;
    private int _connectionChecks;
    // Kept masters that are stopped: no check answered, no session over them comes up.
    private readonly HashSet<int> _frozenConnections = [];

    private IEnumerable<SimChain> LiveChains => _chains.Values.Where(c => c.PppdAlive);

    private SimChain? CurrentChain(int link) => LiveChains.Where(c => c.Link == link).OrderByDescending(c => c.PppdPid).FirstOrDefault();

    private string PickInterfaceName(int link)
    {
        // "unit N" is a wish: pppN when free, else the lowest free pppK.
        if (!_interfaces.ContainsKey($"ppp{link}")) return $"ppp{link}";
        for (var k = 0; ; k++) if (!_interfaces.ContainsKey($"ppp{k}")) return $"ppp{k}";
    }

    private void Attach(SimChain chain)
    {
        if (!chain.PppdAlive || !chain.SshAlive) return;
        var link = chain.Link;
        if (_failNextStart.Remove(link, out var code))
        {
            EndChain(chain, code, PppExitCodes.Describe(code), FailureKind.Transient, sshDies: true);
            return;
        }
        var refusal = RemoteRefusal(link);
        if (refusal is not null)
        {
            EndChain(chain, PppExitCodes.Hangup, refusal.Value.Reason, refusal.Value.Kind, sshDies: true);
            return;
        }
        // Authenticated: with ControlPersist the first ssh has forked its master, which outlives this session.
        if (chain.KeepsConnection) _keptConnections.Add(link);
        var unit = _units[link];
        if (Now < unit.LockedUntil)
        {
            EndChain(chain, PppExitCodes.Hangup, $"Modem hangup: slirp unit {link} refuses attaches for a while after a refused one", FailureKind.Transient, sshDies: true);
            return;
        }
        if (unit.HolderPid is not null)
        {
            unit.LockedUntil = Now + _options.AttachLockout;
            EndChain(chain, PppExitCodes.Hangup, $"Modem hangup: slirp unit {link} is still attached to an old session", FailureKind.Transient, sshDies: true);
            return;
        }
        if (_mainSlirpPid is null && link != 0 && _config.Remote.Attach == Configuration.SlirpAttach.Unix && _config.EffectiveLinks.Contains(0))
        {
            // Nobody serves ~/.slirp_socket yet: the wrapper waits (bounded) for unit 0's main slirp, else slirp fails.
            chain.WaitingSince ??= Now;
            if ((_options.UnitsWaitForMainSlirp || chain.CleanStart) && Now - chain.WaitingSince < _options.MainSlirpWait)
            {
                After(TimeSpan.FromMilliseconds(100), () => Attach(chain));
                return;
            }
            EndChain(chain, PppExitCodes.Hangup, "Error: cannot connect to Slirp socket", FailureKind.Transient, sshDies: true);
            return;
        }
        _mainSlirpPid ??= NextPid();
        unit.HolderPid = chain.PppdPid;
        unit.UnitPid = NextPid();
        unit.PppUp = true;
        chain.HoldsUnit = true;
        var name = PickInterfaceName(link);
        chain.Interface = name;
        var events = chain.Events;
        var pid = chain.PppdPid;
        Deliver(() => events.InterfaceAssigned(link, pid, name));
        AddInterface(new SimInterface(name, _config.Ppp.Mtu) { IsUp = true });
        // Like the kernel when pppd sets the link's address: a host route to the peer on the ppp device.
        _routes.Add(PeerRoute(name));
    }

    /// <summary>The kernel's route to the PPP peer (slirp's 10.0.2.2) that comes with each link's address.</summary>
    public Route PeerRoute(string pppInterface) => new(new Cidr(_config.Routes.ManagementGateway, 32), pppInterface);

    /// <summary>
    /// pppd ends: its interface goes down, then away (the kernel's NETDEV_DOWN, then NETDEV_UNREGISTER), the PPP link
    /// to slirp ends (host_B's link_down), and only then is pppd's exit reported.
    /// </summary>
    private void EndChain(SimChain chain, int code, string reason, FailureKind kind, bool sshDies)
    {
        if (!chain.PppdAlive) return;
        chain.PppdAlive = false;
        if (chain.Interface is { } name && _interfaces.TryGetValue(name, out var iface))
        {
            SetUp(iface, false);
            RemoveInterface(name);
        }
        UnitLinkDown(chain);
        if (sshDies) KillSsh(chain);
        var events = chain.Events;
        var exit = new PppExit(chain.Link, chain.PppdPid, code, reason, kind);
        // Like pppd, say why on the way out ("Modem hangup", "LCP terminated by peer").
        Deliver(() => events.Output(exit.Link, exit.Pid, reason));
        Deliver(() => events.Exited(exit));
        Forget(chain);
    }

    // A chain with nothing left alive is history: keeping it would make every scan grow with the run.
    private void Forget(SimChain chain)
    {
        if (!chain.PppdAlive && !chain.SshAlive) _chains.Remove(chain.PppdPid);
    }

    private void KillSsh(SimChain chain)
    {
        if (!chain.SshAlive) return;
        chain.SshAlive = false;
        Forget(chain);
        if (!chain.HoldsUnit) return;
        chain.HoldsUnit = false;
        var unit = _units[chain.Link];
        if (unit.HolderPid != chain.PppdPid) return;
        UnitLinkDown(chain);
        // While host_B is unreachable its sshd cannot learn that the client went: the unit stays held.
        if (Unreachable) unit.HolderPid = DeadSession;
        else DetachUnit(unit);
    }

    private void StopChain(SimChain chain)
    {
        if (chain.PppdAlive) EndChain(chain, PppExitCodes.Signal, "pppd terminated by SIGTERM", FailureKind.Transient, sshDies: true);
        else KillSsh(chain);
    }

    private sealed class PppPort(SimulatedSystem sim) : IPppProcesses
    {
        public Task<PppProcess> StartAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default) => Done(() =>
        {
            if (launch.Link is < 0 or >= UnitCount) throw new PortException($"slirp -l {launch.Link}: Unit out of range", FailureKind.Permanent);
            // The chain's own remote command writes the unit's rc files, and on a clean start unit 0 ends stale slirp
            // (RemoteScripts.LinkWrapper); the TCP form's rc files come from the preparation (the password).
            if (launch.Config.Remote.Attach == Configuration.SlirpAttach.Unix && sim.RemoteRefusal(launch.Link) is null or { Kind: FailureKind.Transient } && !sim.Unreachable)
                sim._rcFiles = true;
            if (launch.Generation is not null && launch.Link == 0 && !sim.Unreachable && !sim._authRefused) sim.KillAllSlirp();
            var reuse = launch.Config.Remote.ReuseConnection;
            var reused = reuse && sim._keptConnections.Contains(launch.Link);
            var chain = new SimChain(launch.Link, sim.NextPid(), sim.NextPid(), events) { CleanStart = launch.Generation is not null, KeepsConnection = reuse };
            sim._chains[chain.PppdPid] = chain;
            sim._starts.Add(new SimPppStart(launch.Link, chain.PppdPid, sim.Now) { ReusedConnection = reused });
            // A session over a kept connection skips the hops' key exchanges: the jump hosts cost nothing then.
            var delay = sim.Between(sim._options.LinkUpMin, sim._options.LinkUpMax) + (reused ? TimeSpan.Zero : sim._options.PerJumpHost * launch.Config.Remote.JumpHosts.Length);
            // The mux client of a frozen master waits for it for ever: the chain never attaches.
            if (!(reused && sim._frozenConnections.Contains(launch.Link))) sim.After(delay, () => sim.Attach(chain));
            return new PppProcess(launch.Link, chain.PppdPid, null);
        }, sim._gate);

        public Task<PppProcess?> AdoptAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default) => Done(() =>
        {
            if (sim.CurrentChain(launch.Link) is not { } chain) return null;
            chain.Events = events;
            return new PppProcess(chain.Link, chain.PppdPid, chain.Interface is { } n && sim._interfaces.ContainsKey(n) ? n : null);
        }, sim._gate);

        public Task StopAsync(PppProcess process, TimeSpan grace, CancellationToken ct = default)
        {
            if (sim._options.StopLinger <= TimeSpan.Zero) return Done(() => Stop(process), sim._gate);
            // Completed through the outbox, outside the lock and on the scheduler's tick, like every other callback.
            var stopped = new TaskCompletionSource();
            sim.After(sim._options.StopLinger, () =>
            {
                Stop(process);
                sim.Deliver(() => stopped.SetResult());
            });
            return stopped.Task;
        }

        public Task EndConnectionAsync(PppLaunch launch, CancellationToken ct = default) => Done(() =>
        {
            sim._connectionEndRequests++;
            sim._keptConnections.Remove(launch.Link);
            sim._frozenConnections.Remove(launch.Link);
        }, sim._gate);

        public Task<bool> ConnectionAnswersAsync(PppLaunch launch, TimeSpan timeout, CancellationToken ct = default) => Done(() =>
        {
            sim._connectionChecks++;
            return sim._keptConnections.Contains(launch.Link) && !sim._frozenConnections.Contains(launch.Link);
        }, sim._gate);

        private void Stop(PppProcess process)
        {
            if (sim._chains.TryGetValue(process.Pid, out var chain)) sim.StopChain(chain);
        }
    }
}
