using EqlActors.Ports;

namespace EqlActors.Simulation;

// host_B: one multi-unit slirp (the main process outlives unit 0), reached over ssh.
public sealed partial class SimulatedSystem
{
    public const int UnitCount = 4;
    private const int DeadSession = -1;

    private sealed class SimUnit
    {
        /// <summary>pppd pid of the chain whose ssh holds the unit; <see cref="DeadSession"/>: a session whose client is gone.</summary>
        public int? HolderPid;
        public int? UnitPid;
        public bool PppUp;
        public DateTimeOffset LockedUntil;
    }

    private readonly SimUnit[] _units = [new(), new(), new(), new()];
    private readonly Dictionary<int, int> _failNextStart = [];
    private int? _mainSlirpPid;
    private bool _rcFiles;
    private bool _authRefused;
    private bool _singleUnitSlirp;
    private DateTimeOffset _unreachableUntil;

    private bool Unreachable => Now < _unreachableUntil;

    private Configuration.SshEndpoint FirstHop => _config.Remote.JumpHosts.IsDefaultOrEmpty ? _config.Remote.Account : _config.Remote.JumpHosts[0];

    /// <summary>How often a link asked whether a hop answers (<see cref="IRemoteHost.HopAnswersAsync"/>).</summary>
    public int HopChecks { get; private set; }

    private readonly List<int> _linkErrorReads = [];

    /// <summary>The links whose error file on host_B was read (<see cref="IRemoteHost.ReadLinkErrorAsync"/>: the diagnosis), in order.</summary>
    public IReadOnlyList<int> LinkErrorReads { get { lock (_gate) return [.. _linkErrorReads]; } }

    private void InitRemote()
    {
        _rcFiles = _options.RcFilesPresent;
        if (!_options.StaleRemoteSlirp) return;
        _mainSlirpPid = NextPid();
        foreach (var link in _config.EffectiveLinks)
        {
            _units[link].HolderPid = DeadSession;
            _units[link].UnitPid = NextPid();
        }
    }

    private (string Reason, FailureKind Kind)? RemoteRefusal(int link)
    {
        // In ssh's own words, naming the first hop as ssh does (the outage takes the whole path).
        if (Unreachable) return ($"ssh: connect to host {FirstHop.Host} port {FirstHop.Port}: Connection timed out", FailureKind.Transient);
        if (_authRefused) return ($"ssh: {_config.Remote.Account}: Permission denied (publickey)", FailureKind.Permanent);
        if (_singleUnitSlirp && link > 0) return ($"slirp -l {link}: Unit out of range", FailureKind.Permanent);
        if (!_rcFiles) return ($"slirp: ~/.slirprc-{link} not found, unit {link} has no ppp configuration", FailureKind.Transient);
        return null;
    }

    private void ThrowIfRemoteRefuses()
    {
        if (RemoteRefusal(0) is { } r && (Unreachable || _authRefused)) throw new PortException(r.Reason, r.Kind);
    }

    private static void DetachUnit(SimUnit unit)
    {
        unit.HolderPid = null;
        unit.UnitPid = null;
        unit.PppUp = false;
    }

    /// <summary>slirp's link_down(): the stock build also closes IPCP on unit 0 (<c>ipcp_close(0)</c> instead of the unit).</summary>
    private void UnitLinkDown(SimChain chain)
    {
        var unit = _units[chain.Link];
        if (unit.HolderPid != chain.PppdPid || !unit.PppUp) return;
        unit.PppUp = false;
        if (_options.Slirp != SlirpBuild.Stock || chain.Link == 0 || !_units[0].PppUp) return;
        _units[0].PppUp = false;
        // "IPCP terminated by peer" on link 0: its interface goes down while its pppd stays.
        if (_units[0].HolderPid is { } holder && _chains.TryGetValue(holder, out var zero) && zero.Interface is { } name && _interfaces.TryGetValue(name, out var iface))
            SetUp(iface, false);
    }

    private SimInterface? FirstWorkingUnitInterface()
    {
        foreach (var unit in _units)
        {
            if (!unit.PppUp || unit.HolderPid is not { } holder || !_chains.TryGetValue(holder, out var chain)) continue;
            if (chain.Interface is { } name && _interfaces.TryGetValue(name, out var iface) && iface.IsUp) return iface;
        }
        return null;
    }

    /// <summary>Every slirp process on host_B ends: each ssh holding a unit ends with it, and so does its pppd.</summary>
    private int KillAllSlirp()
    {
        var killed = (_mainSlirpPid is null ? 0 : 1) + _units.Count(u => u.UnitPid is not null);
        _mainSlirpPid = null;
        foreach (var unit in _units)
        {
            if (unit.HolderPid is { } holder && _chains.TryGetValue(holder, out var chain))
            {
                chain.HoldsUnit = false;
                chain.SshAlive = false;
                EndChain(chain, Messages.PppExitCodes.Hangup, "Modem hangup: the remote slirp ended", FailureKind.Transient, sshDies: true);
            }
            DetachUnit(unit);
        }
        return killed;
    }

    private void EndDeadSessions()
    {
        foreach (var unit in _units.Where(u => u.HolderPid == DeadSession)) DetachUnit(unit);
        // The connection resets once packets flow again: ssh clients left behind by pppd end too.
        foreach (var chain in _chains.Values.Where(c => !c.PppdAlive && c.SshAlive).ToList()) KillSsh(chain);
    }

    private sealed class RemotePort(SimulatedSystem sim) : IRemoteHost
    {
        public Task<int> KillStaleSlirpAsync(CancellationToken ct = default) => Done(() =>
        {
            sim.ThrowIfRemoteRefuses();
            return sim.KillAllSlirp();
        }, sim._gate);

        public Task WriteRcFilesAsync(IReadOnlyList<int> links, CancellationToken ct = default) => Done(() =>
        {
            sim.ThrowIfRemoteRefuses();
            sim._rcFiles = true;
        }, sim._gate);

        // Every hop's sshd answers unless host_B is away (the simulated outage takes the whole path).
        public Task<bool> HopAnswersAsync(Configuration.SshEndpoint hop, TimeSpan timeout, CancellationToken ct = default) => Done(() =>
        {
            sim.HopChecks++;
            return !sim.Unreachable;
        }, sim._gate);

        // The simulated slirp counts units without attaching, and keeps no per-link error file (each read is counted).
        public Task<SlirpProbe> ProbeSlirpWithoutAttachingAsync(CancellationToken ct = default) => ProbeSlirpAsync(ct);
        public Task<string?> ReadLinkErrorAsync(int link, CancellationToken ct = default) => Done(() =>
        {
            sim._linkErrorReads.Add(link);
            return (string?)null;
        }, sim._gate);
        public Task<(SlirpProbe Probe, int Killed)> PrepareAsync(IReadOnlyList<int> links, bool killStale, CancellationToken ct = default) =>
            RemotePreparation.InStepsAsync(this, links, killStale, ct);

        public Task<SlirpProbe> ProbeSlirpAsync(CancellationToken ct = default) => Done(() =>
        {
            sim.ThrowIfRemoteRefuses();
            return sim._singleUnitSlirp
                ? new SlirpProbe(true, true, 1, false, "slirp-fullbolt as Debian ships it, built with MAX_INTERFACES=1 (slirp -l 1: Unit out of range)")
                : new SlirpProbe(true, true, UnitCount, false, "simulated slirp built with FULL_BOLT, MAX_INTERFACES=4");
        }, sim._gate);
    }
}
