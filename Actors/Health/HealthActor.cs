using Akka.Actor;
using Akka.Event;
using EqlActors.Messages;
using EqlActors.Ports;

namespace EqlActors.Actors;

/// <summary>
/// Watches what the other actors cannot see: whether each link carries traffic, not only LCP. Every reconcile
/// interval it samples every up link's kernel counters (for status and /metrics). With <c>health.enabled</c>, every
/// health interval it sends an echo to <c>health.target</c>'s host out through each up link and, when configured,
/// connects to <c>health.remoteLanTarget</c> through the bundle. A link whose probe fails <c>failuresBeforeRestart</c> times
/// in a row is restarted through the bundle. A remote LAN target that fails while every link's probe succeeds is
/// host_B's side: reported, never a reason to restart links. States: probing, and paused while the bundle stops
/// (<see cref="PauseProbes"/>: links going down on purpose fail their probes; counters are still sampled).
/// </summary>
public sealed class HealthActor : PortActor
{
    private sealed record SampleTick;
    private sealed record ProbeTick;
    private sealed record Sampled(Dictionary<int, (string Interface, LinkCounters Counters)> Counters);
    private sealed record Probed(Dictionary<int, (string Interface, ProbeOutcome Outcome)> Links, ProbeOutcome? RemoteLan);

    private readonly BundleContext _ctx;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<int, string> _up = [];
    private readonly Dictionary<int, LinkCounters> _counters = [];
    private readonly Dictionary<int, ProbeResult> _probes = [];
    private readonly Dictionary<int, int> _consecutiveFailures = [];
    private readonly HashSet<int> _passed = [];
    private ProbeResult? _remoteLan;
    private string? _remoteLanVerdict;
    // Also read by a probe round that was running when the pause came (its results arrive after it).
    private bool _paused;

    public HealthActor(BundleContext ctx)
    {
        _ctx = ctx;
        Become(Probing);
    }

    private void Probing()
    {
        Receive<ProbeTick>(_ => Probe());
        Receive<PauseProbes>(_ =>
        {
            _paused = true;
            _consecutiveFailures.Clear();
            Become(Paused);
        });
        Common();
    }

    private void Paused()
    {
        Receive<ProbeTick>(_ => { });
        Receive<ResumeProbes>(_ =>
        {
            _paused = false;
            Become(Probing);
        });
        Common();
    }

    private void Common()
    {
        Receive<PauseProbes>(_ => { });
        Receive<ResumeProbes>(_ => { });
        Receive<LinkUp>(m =>
        {
            _up[m.Link] = m.Interface;
            _consecutiveFailures.Remove(m.Link);
            _probes.Remove(m.Link);
            _passed.Remove(m.Link);
        });
        Receive<LinkDown>(m => Forget(m.Link));
        Receive<LinkParked>(m => Forget(m.Link));
        Receive<LinkStopped>(m => Forget(m.Link));
        Receive<SampleTick>(_ => Sample());
    }

    public static Props Props(BundleContext ctx) => ctx.Apply(Akka.Actor.Props.Create(() => new HealthActor(ctx)));

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("sample", new SampleTick(), _ctx.Config.Supervision.ReconcileInterval);
        if (!_ctx.Config.Health.Enabled) return;
        if (_ctx.Ports.Probe is null)
        {
            _log.Error("health.enabled is set but this system has no probe: end-to-end probes are off");
            return;
        }
        Timers.StartPeriodicTimer("probe", new ProbeTick(), _ctx.Config.Health.Interval);
    }

    private void Forget(int link)
    {
        _up.Remove(link);
        _consecutiveFailures.Remove(link);
    }

    private void Sample()
    {
        if (_up.Count == 0) return;
        var links = _ctx.Ports.Links;
        var up = new Dictionary<int, string>(_up);
        RunPort(async () =>
        {
            var result = new Dictionary<int, (string, LinkCounters)>();
            foreach (var (link, ifname) in up)
            {
                var s = await links.GetAsync(ifname);
                if (s.Exists) result[link] = (ifname, new LinkCounters(s.TxBytes, s.RxBytes, s.TxPackets, s.RxPackets));
            }
            return new Sampled(result);
        }, sampled =>
        {
            foreach (var (link, (ifname, counters)) in sampled.Counters)
                if (_up.TryGetValue(link, out var current) && current == ifname) _counters[link] = counters;
            Report();
        }, ex => _log.Debug("Sampling link counters failed: {Reason}", ex.Message));
    }

    private void Probe()
    {
        if (_ctx.Ports.Probe is not { } probe || _up.Count == 0) return;
        var h = _ctx.Config.Health;
        var up = new Dictionary<int, string>(_up);
        var (host, _) = HealthTargets.Split(h.Target);
        var lan = h.RemoteLanTarget is { } t ? HealthTargets.Split(t) : ((string, int)?)null;
        RunPort(async () =>
        {
            // In parallel: a dead path costs a whole timeout, and the round stays within one timeout.
            var probes = up.ToDictionary(kv => kv.Key, kv => (kv.Value, probe.EchoAsync(kv.Value, host, h.Timeout)));
            var lanProbe = lan is { } l ? probe.ConnectAsync(l.Item1, l.Item2, h.Timeout) : null;
            var links = new Dictionary<int, (string, ProbeOutcome)>();
            foreach (var (link, (ifname, task)) in probes) links[link] = (ifname, await task);
            return new Probed(links, lanProbe is null ? null : await lanProbe);
        }, Judge, ex => _log.Warning("Health probes failed to run: {Reason}", ex.Message));
    }

    private void Judge(Probed probed)
    {
        if (_paused) return;
        var failures = _ctx.Config.Health.FailuresBeforeRestart;
        var allLinksPass = true;
        foreach (var (link, (ifname, outcome)) in probed.Links)
        {
            if (!_up.TryGetValue(link, out var current) || current != ifname) continue; // the link changed meanwhile
            _probes[link] = new ProbeResult(outcome.Ok, outcome.RttSeconds, outcome.Detail, Now);
            if (outcome.Ok)
            {
                if (_consecutiveFailures.Remove(link)) _log.Info("Link {Link}: end-to-end probe passes again", link);
                // Once per interface: proof in the log that the probe works on this path (a probe that never passes
                // would restart healthy links).
                else if (_passed.Add(link)) _log.Info("Link {Link}: end-to-end probe passes via {Interface} ({Rtt:0.000} s)", link, ifname, outcome.RttSeconds);
                continue;
            }
            allLinksPass = false;
            var n = _consecutiveFailures[link] = _consecutiveFailures.GetValueOrDefault(link) + 1;
            _log.Warning("Link {Link}: end-to-end probe failed ({Failures}/{Limit}): {Detail}", link, n, failures, outcome.Detail);
            _ctx.Bundle.Tell(new LinkProbeFailed(_ctx.Name, link, outcome.Detail, n, Now));
            if (n < failures) continue;
            _consecutiveFailures.Remove(link);
            var reason = $"{FailureClass.HealthProbeReasonPrefix} {n} times (the link passes LCP but carries no traffic): {outcome.Detail}";
            _log.Error("Link {Link}: {Reason}; restarting it", link, reason);
            _ctx.Bundle.Tell(new LinkUnhealthy(link, reason));
        }
        JudgeRemoteLan(probed.RemoteLan, allLinksPass && probed.Links.Count > 0);
        Report();
    }

    private void JudgeRemoteLan(ProbeOutcome? outcome, bool everyLinkPasses)
    {
        if (outcome is null) return;
        _remoteLan = new ProbeResult(outcome.Ok, outcome.RttSeconds, outcome.Detail, Now);
        string? verdict = outcome.Ok ? null
            : everyLinkPasses ? $"host_B answers over every link but {_ctx.Config.Health.RemoteLanTarget} does not: host_B cannot reach its LAN (restarting links would not help)"
            : "the remote LAN does not answer while some links fail their probe";
        if (verdict != _remoteLanVerdict && everyLinkPasses && !outcome.Ok)
        {
            _log.Warning("Remote LAN target {Target} unreachable from host_B: {Detail}", _ctx.Config.Health.RemoteLanTarget, outcome.Detail);
            _ctx.Bundle.Tell(new RemoteLanUnreachable(_ctx.Name, _ctx.Config.Health.RemoteLanTarget!, outcome.Detail, Now));
        }
        _remoteLanVerdict = verdict;
    }

    private void Report() => _ctx.Bundle.Tell(new HealthObserved(
        new Dictionary<int, LinkCounters>(_counters), new Dictionary<int, ProbeResult>(_probes), _remoteLan, _remoteLanVerdict));
}
