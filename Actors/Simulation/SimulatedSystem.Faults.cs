using EqlActors.Messages;
using EqlActors.Ports;

namespace EqlActors.Simulation;

/// <summary>What a stopped bundle left behind.</summary>
public sealed record SimLeaks(int Processes, int Slaves, int Routes)
{
    public bool None => Processes == 0 && Slaves == 0 && Routes == 0;
}

/// <summary>A slave as a test sees it.</summary>
public sealed record SimSlaveView(string Name, long Priority, long BytesQueued);

// Fault injection and observability.
public sealed partial class SimulatedSystem
{
    /// <summary>
    /// The one fault-dispatch table: how each <see cref="FaultKind"/> is applied to this world. The simulate verb's
    /// runner, the daemon's <c>simulate-fault</c> control request and the tests all inject through it.
    /// </summary>
    /// <param name="route">For <see cref="FaultKind.RouteDeleted"/>: the managed route to delete.</param>
    /// <param name="unreachableFor">For <see cref="FaultKind.RemoteUnreachable"/>: how long host_B stays away.</param>
    /// <returns>false when the fault cannot happen now (no chain on that link, a stall with one slave, ...).</returns>
    public bool Inject(FaultKind kind, int link, Route? route = null, TimeSpan? unreachableFor = null) => kind switch
    {
        FaultKind.PppdKilled => InjectPppdExit(link, PppExitCodes.Signal),
        FaultKind.PppdConnectFailed => InjectPppdExit(link, PppExitCodes.ConnectFailed),
        FaultKind.PppdPtyFailed => InjectPppdExit(link, PppExitCodes.PtyCommandFailed),
        FaultKind.PppdNegotiationFailed => InjectPppdExit(link, PppExitCodes.NegotiationFailed),
        FaultKind.PppdLcpTimeout => InjectPppdExit(link, PppExitCodes.LcpEchoTimeout),
        FaultKind.PppdHangup => InjectPppdExit(link, PppExitCodes.Hangup),
        FaultKind.SshDropped => DropSsh(link),
        FaultKind.RemoteSlirpKilled => Applied(KillRemoteSlirp),
        FaultKind.LinkDownPppdAlive => TakeLinkDown(link),
        FaultKind.RouteDeleted => route is { } r && DeleteRoute(r),
        FaultKind.EqlMasterDown => Applied(TakeEqlMasterDown),
        FaultKind.EqlModuleUnloaded => Applied(UnloadEqlModule),
        FaultKind.SlaveStalled => StallSlave(link),
        FaultKind.RemoteUnreachable => Applied(() => MakeRemoteUnreachable(unreachableFor ?? TimeSpan.FromSeconds(30))),
        // Permanent until fixed: host_B refuses the key, and the link loses its chain so that it must reconnect.
        FaultKind.AuthenticationRefused => Applied(RefuseAuthentication) && DropSsh(link),
        _ => false,
    };

    /// <summary>Sets <paramref name="condition"/>; returns what now holds, in words, or null when it cannot be set now.</summary>
    public string? Apply(SimulatedCondition condition, int link)
    {
        switch (condition)
        {
            case SimulatedCondition.AuthenticationAccepted:
                AcceptAuthentication();
                return "host_B accepts the key again";
            case SimulatedCondition.LinkDropsTraffic:
                return DropLinkTraffic(link) ? $"link {link} drops all but LCP" : null;
            case SimulatedCondition.RemoteLanUnreachable or SimulatedCondition.RemoteLanReachable:
                var unreachable = condition == SimulatedCondition.RemoteLanUnreachable;
                SetRemoteLanUnreachable(unreachable);
                return unreachable ? "host_B cannot reach its LAN" : "host_B reaches its LAN again";
            case SimulatedCondition.WedgeActors:
                Wedge();
                return "the eql actor's next kernel query never returns";
            default:
                return null;
        }
    }

    /// <summary>Whether the fault concerns one link (the others hit host_B, eql or the routing table as a whole).</summary>
    public static bool HitsOneLink(FaultKind kind) => kind is not (FaultKind.RemoteSlirpKilled or FaultKind.RouteDeleted or FaultKind.EqlMasterDown or FaultKind.EqlModuleUnloaded or FaultKind.RemoteUnreachable);

    private static bool Applied(Action action)
    {
        action();
        return true;
    }

    /// <summary>The link's pppd exits with <paramref name="exitCode"/>; 8, 9 and 10 also fail its next start.</summary>
    /// <summary>The link's pppd prints <paramref name="line"/> and goes on (a notice such as a slow start's LCP timeout).</summary>
    public bool InjectPppdOutput(int link, string line)
    {
        lock (_gate)
        {
            if (CurrentChain(link) is not { } chain) return false;
            var (events, pid) = (chain.Events, chain.PppdPid);
            Deliver(() => events.Output(link, pid, line));
            return true;
        }
    }

    public bool InjectPppdExit(int link, int exitCode)
    {
        lock (_gate)
        {
            if (CurrentChain(link) is not { } chain) return false;
            var sshDies = exitCode is PppExitCodes.Hangup or PppExitCodes.ConnectFailed or PppExitCodes.PtyCommandFailed or PppExitCodes.NegotiationFailed;
            if (exitCode is PppExitCodes.ConnectFailed or PppExitCodes.PtyCommandFailed or PppExitCodes.NegotiationFailed)
                _failNextStart[link] = exitCode;
            EndChain(chain, exitCode, PppExitCodes.Describe(exitCode), FailureKind.Transient, sshDies);
            return true;
        }
    }

    public bool DropSsh(int link)
    {
        lock (_gate)
        {
            if (CurrentChain(link) is not { } chain) return false;
            KillSsh(chain);
            EndChain(chain, PppExitCodes.Hangup, "Modem hangup: ssh connection closed", FailureKind.Transient, sshDies: true);
            return true;
        }
    }

    public void KillRemoteSlirp()
    {
        lock (_gate) KillAllSlirp();
    }

    /// <summary>The link's interface goes down with pppd still running (as after "IPCP terminated by peer").</summary>
    public bool TakeLinkDown(int link)
    {
        lock (_gate)
        {
            if (CurrentChain(link) is not { Interface: { } name } chain || !_interfaces.TryGetValue(name, out var iface) || !iface.IsUp) return false;
            SetUp(iface, false);
            UnitLinkDown(chain);
            return true;
        }
    }

    /// <summary>
    /// An interface event that no longer describes the interface reaches the subscribers: a netlink message read
    /// late, or after a newer one, e.g. the previous chain's "ppp1 down" after the new chain's ppp1 came up.
    /// </summary>
    public void AnnounceLate(LinkChanged change)
    {
        lock (_gate)
            foreach (var subscriber in _subscribers.ToArray()) Deliver(() => subscriber(change));
    }

    public bool DeleteRoute(Route route)
    {
        lock (_gate) return _routes.Remove(route);
    }

    public void TakeEqlMasterDown()
    {
        lock (_gate) EqlMasterDown();
    }

    public void UnloadEqlModule()
    {
        lock (_gate) EqlUnload();
    }

    /// <summary>The link's slave keeps its place but its queue counter sticks so high that the driver never picks it.</summary>
    public bool StallSlave(int link)
    {
        lock (_gate)
        {
            // With a single slave the driver has no choice to get wrong: there is nothing to stall.
            if (_slaves.Count < 2) return false;
            if (CurrentChain(link) is not { Interface: { } name } || _slaves.FirstOrDefault(s => s.Name == name) is not { } slave) return false;
            slave.BytesQueued = StalledQueue;
            return true;
        }
    }

    /// <summary>host_B drops off the network: after LCP's echo budget each link's pppd exits 15, ssh hangs on.</summary>
    public void MakeRemoteUnreachable(TimeSpan duration)
    {
        lock (_gate)
        {
            var until = Now + duration;
            if (until > _unreachableUntil) _unreachableUntil = until;
            var lcp = TimeSpan.FromSeconds(Math.Max(1, _config.Ppp.LcpEchoInterval) * Math.Max(1, _config.Ppp.LcpEchoFailure));
            foreach (var chain in LiveChains.Where(c => c.HoldsUnit).ToList())
                After(lcp, () =>
                {
                    if (Unreachable) EndChain(chain, PppExitCodes.LcpEchoTimeout, PppExitCodes.Describe(PppExitCodes.LcpEchoTimeout), FailureKind.Transient, sshDies: false);
                });
            After(duration + _options.DeadSessionCleanup, () => { if (!Unreachable) EndDeadSessions(); });
        }
    }

    /// <summary>The next <paramref name="count"/> interface reads never answer: the caller's timeout must end them.</summary>
    public void HangInterfaceReads(int count)
    {
        lock (_gate) _hangingReads = count;
    }

    /// <summary>host_B stops accepting our key; established sessions stay until they drop.</summary>
    public void RefuseAuthentication()
    {
        lock (_gate) _authRefused = true;
    }

    /// <summary>The operator fixed the key (a configuration change on host_B).</summary>
    public void AcceptAuthentication()
    {
        lock (_gate) _authRefused = false;
    }

    /// <summary>host_B's slirp is replaced by one built with MAX_INTERFACES=1 (Debian's), or put back.</summary>
    public void UseSingleUnitSlirp(bool single)
    {
        lock (_gate) _singleUnitSlirp = single;
    }

    public IReadOnlyList<SimProcess> Processes
    {
        get
        {
            lock (_gate)
            {
                var list = new List<SimProcess>();
                foreach (var c in _chains.Values)
                {
                    if (c.PppdAlive) list.Add(new SimProcess(c.PppdPid, SimProcessKind.Pppd, c.Link, false));
                    if (c.SshAlive) list.Add(new SimProcess(c.SshPid, SimProcessKind.Ssh, c.Link, false));
                }
                if (_mainSlirpPid is { } main) list.Add(new SimProcess(main, SimProcessKind.Slirp, -1, true));
                for (var u = 0; u < UnitCount; u++)
                    if (_units[u].UnitPid is { } pid) list.Add(new SimProcess(pid, SimProcessKind.Slirp, u, true));
                return list;
            }
        }
    }

    public IReadOnlyList<SimSlaveView> Slaves
    {
        get { lock (_gate) return [.. _slaves.Select(s => new SimSlaveView(s.Name, s.Priority, s.BytesQueued))]; }
    }

    public IReadOnlyList<Route> Routes
    {
        get { lock (_gate) return [.. _routes]; }
    }

    public IReadOnlyList<SimPppStart> PppStarts
    {
        get { lock (_gate) return [.. _starts]; }
    }

    /// <summary>Links whose ssh master connection is kept alive now.</summary>
    public IReadOnlySet<int> KeptConnections
    {
        get { lock (_gate) return new HashSet<int>(_keptConnections); }
    }

    /// <summary>How many times the product asked to end a link's kept ssh connection (whether or not there was one).</summary>
    public int ConnectionEndRequests
    {
        get { lock (_gate) return _connectionEndRequests; }
    }

    /// <summary>How many times the product asked whether a link's kept ssh connection answers.</summary>
    public int ConnectionChecks
    {
        get { lock (_gate) return _connectionChecks; }
    }

    /// <summary>
    /// The link's kept ssh master stops (SIGSTOP): it answers no check, and a session opened over it never comes up,
    /// until the master is ended. Returns false when the link keeps no connection.
    /// </summary>
    public bool FreezeConnection(int link)
    {
        lock (_gate) return _keptConnections.Contains(link) && _frozenConnections.Add(link);
    }

    public LinkState Interface(string name)
    {
        lock (_gate) return StateOf(name);
    }

    public string? Sysctl(string key)
    {
        lock (_gate) return _sysctl.TryGetValue(key, out var v) ? v : null;
    }

    /// <summary>The interface of the link's running pppd, if it has one.</summary>
    public string? InterfaceOf(int link)
    {
        lock (_gate) return CurrentChain(link)?.Interface;
    }

    public SimLeaks Leaks()
    {
        lock (_gate)
            return new SimLeaks(
                _chains.Values.Count(c => c.PppdAlive) + _chains.Values.Count(c => c.SshAlive) + (_mainSlirpPid is null ? 0 : 1) + _units.Count(u => u.UnitPid is not null),
                _slaves.Count,
                _routes.Count(r => r != ForeignRoute));
    }

    /// <summary>
    /// The bundle as it should be: master up, each configured link with exactly one pppd whose interface is up and
    /// enslaved once, nothing else enslaved, exactly the configured routes, no ssh without its pppd, no stalled slave.
    /// </summary>
    /// <summary>The device <c>ip route get ADDRESS</c> would pick: the longest matching prefix.</summary>
    public string? RouteDevice(System.Net.IPAddress address)
    {
        lock (_gate)
            return _routes.Where(r => EqlActors.Actors.DesiredRoutes.Contains(r.Destination, address))
                .OrderByDescending(r => r.Destination.PrefixLength).FirstOrDefault()?.Device;
    }

    public string? Unhealthy(IReadOnlyList<Route> desiredRoutes)
    {
        lock (_gate)
        {
            if (Master is not { IsUp: true }) return "eql master down";
            var links = _config.EffectiveLinks;
            foreach (var link in links)
            {
                var chains = LiveChains.Where(c => c.Link == link).ToList();
                if (chains.Count != 1) return $"link {link} has {chains.Count} pppd";
                if (chains[0].Interface is not { } name || !_interfaces.TryGetValue(name, out var iface) || !iface.IsUp) return $"link {link} interface not up";
                if (_slaves.Count(s => s.Name == name) != 1) return $"link {link} ({name}) not enslaved";
            }
            if (_slaves.Count != links.Length) return $"{_slaves.Count} slaves for {links.Length} links";
            if (_slaves.Any(s => s.BytesQueued >= StalledQueue / 2)) return "a slave carries no upload";
            if (_chains.Values.Any(c => c.SshAlive && !c.PppdAlive)) return "an ssh outlived its pppd";
            foreach (var route in desiredRoutes)
                if (!_routes.Contains(route)) return $"route {route} missing";
            foreach (var route in desiredRoutes)
                if (route.Gateway is { } gw && RouteDevice(gw) != route.Device) return $"{gw} is routed via {RouteDevice(gw)}, not {route.Device}";
            if (_routes.Count != desiredRoutes.Count + 1) return "unexpected routes";
            return null;
        }
    }
}
