using System.Collections.Immutable;
using Akka.Actor;
using EqlActors.Actors;
using EqlActors.Configuration;
using EqlActors.Messages;
using EqlActors.Ports;

namespace EqlActors.Simulation;

/// <summary>What to simulate: the simulate verb's options.</summary>
public sealed record SimulationRun
{
    public int Links { get; init; } = 3;
    public int Faults { get; init; } = 30;
    public int Seed { get; init; } = 42;
    /// <summary>Simulated time over which the faults are spread; the run lasts longer if recoveries need it.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromHours(2);
    public bool StockSlirp { get; init; }
    public long Priority { get; init; } = new EqlConfig().Priority;
    public int Bundles { get; init; } = 1;
    /// <summary>How far virtual time moves per step: the resolution of every timer in the simulation.</summary>
    public TimeSpan Step { get; init; } = TimeSpan.FromMilliseconds(100);
    /// <summary>A fault not healed within this long counts as unrecovered.</summary>
    public TimeSpan RecoveryTimeout { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>
    /// An authentication refusal is permanent: the simulated operator fixes the key on host_B after this long and
    /// sends <see cref="RestartParkedLinks"/>, the way a real one would after reading the parked link's reason.
    /// </summary>
    public TimeSpan OperatorDelay { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(30);
}

public sealed record SimulationLeaks(int Processes, int Slaves, int Routes);

public sealed record SimulationReport(
    int Bundles,
    int Links,
    int Seed,
    bool StockSlirp,
    long Priority,
    int FaultsInjected,
    int FaultsRecovered,
    IReadOnlyDictionary<string, int> FaultKinds,
    double MaxRecoverySeconds,
    double MeanRecoverySeconds,
    double Availability,
    double SimulatedSeconds,
    int LinkRestarts,
    int ImbalancesHealed,
    SimulationLeaks Leaks,
    IReadOnlyList<string> Unrecovered)
{
    public bool Success => FaultsRecovered == FaultsInjected && Leaks is { Processes: 0, Slaves: 0, Routes: 0 };
}

/// <summary>
/// Runs the real actor tree on simulated systems in virtual time, injects faults one at a time (each once the world
/// is healthy again), measures how long each takes to heal, and checks for leaks after the final stop.
/// </summary>
/// <param name="probe">
/// Called on the runner's thread with the actor system, the number of faults recovered so far and the simulated
/// systems: once the bundles are up (0), after each recovery, and once more before the final stop (-1). The heap
/// benchmark measures there; nothing moves in virtual time while it runs.
/// </param>
public sealed class SimulationRunner(SimulationRun run, Action<string>? timeline = null, Action<ActorSystem, int, IReadOnlyList<SimulatedSystem>>? probe = null)
{
    private sealed record Bundle(string Name, SimulatedSystem Sim, IActorRef Actor, IReadOnlyList<Route> Routes, BundleConfig Config);

    private sealed class ActiveFault(int number, FaultKind kind, Bundle bundle, int link, DateTimeOffset at)
    {
        public int Number { get; } = number;
        public FaultKind Kind { get; } = kind;
        public Bundle Bundle { get; } = bundle;
        public int Link { get; } = link;
        public DateTimeOffset At { get; } = at;
        public DateTimeOffset ClearsAt { get; set; } = at;
        public bool OperatorActed { get; set; }
    }

    private DateTimeOffset _start;
    private int _linkRestarts;
    private int _imbalancesHealed;

    public SimulationReport Run()
    {
        using var system = ActorSystem.Create("eqlactors-simulation", SimulationHosting.Config);
        var clock = system.VirtualClock();
        _start = clock.Now;
        system.ActorOf(TimelineActor.Props(OnEvent), "timeline");

        var bundles = new List<Bundle>();
        for (var b = 0; b < run.Bundles; b++)
        {
            var config = new BundleConfig() with
            {
                Links = [.. Enumerable.Range(0, run.Links)],
                Eql = new EqlConfig { Priority = run.Priority },
            };
            var options = new SimulationOptions { Seed = run.Seed + b, Slirp = run.StockSlirp ? SlirpBuild.Stock : SlirpBuild.Fixed };
            var sim = new SimulatedSystem(clock, config, options);
            var name = run.Bundles == 1 ? "bundle" : $"bundle-{b}";
            var actor = system.CreateBundle(config, sim.Ports, new BundleOptions(name, SimulationHosting.Dispatcher));
            bundles.Add(new Bundle(name, sim, actor, DesiredRoutes.For(config), config));
            actor.Settle();
            actor.Tell(new StartBundle());
            actor.Settle();
        }

        probe?.Invoke(system, 0, bundles.Select(b => b.Sim).ToList());
        var random = new Random(run.Seed);
        var kinds = Enum.GetValues<FaultKind>();
        var plan = new Queue<FaultKind>();
        var meanGap = TimeSpan.FromTicks(Math.Max(run.Step.Ticks, (run.Duration - run.Warmup).Ticks / Math.Max(1, run.Faults)));
        var nextFaultAt = _start + run.Warmup;
        var end = _start + run.Duration;
        var hardStop = end + TimeSpan.FromTicks(run.RecoveryTimeout.Ticks * Math.Max(1, run.Faults)) + TimeSpan.FromHours(1);
        ActiveFault? active = null;
        var injected = 0;
        var recoveries = new List<double>();
        var unrecovered = new List<string>();
        var kindCounts = kinds.ToDictionary(k => k.ToString(), _ => 0);
        var healthyTicks = 0L;
        var ticks = 0L;
        var misses = 0;

        while (clock.Now < hardStop)
        {
            clock.Advance(run.Step);
            var now = clock.Now;
            var unhealthy = bundles.Select(b => b.Sim.Unhealthy(b.Routes)).ToList();
            ticks += bundles.Count;
            healthyTicks += unhealthy.Count(u => u is null);

            if (active is not null)
            {
                var index = bundles.IndexOf(active.Bundle);
                if (active.Kind == FaultKind.AuthenticationRefused && !active.OperatorActed && now >= active.At + run.OperatorDelay)
                {
                    active.OperatorActed = true;
                    active.Bundle.Sim.AcceptAuthentication();
                    active.Bundle.Actor.Tell(new RestartParkedLinks());
                    Say(now, $"operator fixed the key on host_B of {active.Bundle.Name} and restarted parked links");
                }
                var conditionOver = now >= active.ClearsAt && (active.Kind != FaultKind.AuthenticationRefused || active.OperatorActed);
                if (conditionOver && unhealthy[index] is null)
                {
                    var seconds = (now - active.At).TotalSeconds;
                    recoveries.Add(seconds);
                    Say(now, $"recovered from fault #{active.Number} ({active.Kind}) after {seconds:0.0} s");
                    active = null;
                    nextFaultAt = Max(nextFaultAt, now + TimeSpan.FromSeconds(1));
                    probe?.Invoke(system, recoveries.Count, bundles.Select(b => b.Sim).ToList());
                }
                else if (now - active.At > run.RecoveryTimeout)
                {
                    var why = $"fault #{active.Number} ({active.Kind}) on {active.Bundle.Name} link {active.Link} not recovered: {unhealthy[index] ?? "its condition never cleared"}";
                    unrecovered.Add(why);
                    Say(now, why);
                    // The world stays broken: injecting more would only measure the same failure again.
                    break;
                }
            }
            else if (injected < run.Faults && now >= nextFaultAt && unhealthy.All(u => u is null))
            {
                if (plan.Count == 0)
                    foreach (var k in kinds.OrderBy(_ => random.Next())) plan.Enqueue(k);
                var kind = plan.Peek();
                var bundle = bundles[random.Next(bundles.Count)];
                var link = bundle.Config.EffectiveLinks[random.Next(bundle.Config.EffectiveLinks.Length)];
                var fault = new ActiveFault(injected + 1, kind, bundle, link, now);
                var applied = Inject(fault, random);
                if (!applied && ++misses > 50)
                {
                    // This kind cannot happen in this configuration (a stall needs two slaves): skip it.
                    plan.Dequeue();
                    misses = 0;
                }
                if (applied)
                {
                    misses = 0;
                    plan.Dequeue();
                    injected++;
                    kindCounts[kind.ToString()]++;
                    active = fault;
                    var gap = TimeSpan.FromTicks((long)(meanGap.Ticks * (0.5 + random.NextDouble())));
                    nextFaultAt += gap;
                }
            }
            else if (injected >= run.Faults && active is null && now >= end)
            {
                break;
            }
        }

        var simulated = clock.Now - _start;
        probe?.Invoke(system, -1, bundles.Select(b => b.Sim).ToList());
        foreach (var bundle in bundles)
        {
            var stopped = bundle.Actor.Ask<BundleStopped>(new StopBundle(), TimeSpan.FromMinutes(5));
            for (var i = 0; i < 3000 && !stopped.IsCompleted; i++) clock.Advance(run.Step);
            if (!stopped.IsCompletedSuccessfully) unrecovered.Add($"{bundle.Name} did not stop");
        }
        // Let the last notifications settle before counting what is left.
        clock.Advance(TimeSpan.FromSeconds(2));
        var leaks = bundles.Select(b => b.Sim.Leaks()).ToList();
        system.Terminate().Wait(TimeSpan.FromSeconds(10));

        return new SimulationReport(
            run.Bundles, run.Links, run.Seed, run.StockSlirp, run.Priority,
            injected, recoveries.Count, kindCounts,
            recoveries.Count == 0 ? 0 : Math.Round(recoveries.Max(), 1),
            recoveries.Count == 0 ? 0 : Math.Round(recoveries.Average(), 2),
            ticks == 0 ? 0 : Math.Round((double)healthyTicks / ticks, 4),
            Math.Round(simulated.TotalSeconds, 1),
            _linkRestarts, _imbalancesHealed,
            new SimulationLeaks(leaks.Sum(l => l.Processes), leaks.Sum(l => l.Slaves), leaks.Sum(l => l.Routes)),
            unrecovered);
    }

    private bool Inject(ActiveFault fault, Random random)
    {
        var sim = fault.Bundle.Sim;
        var link = fault.Link;
        var applied = fault.Kind switch
        {
            FaultKind.PppdKilled => sim.InjectPppdExit(link, PppExitCodes.Signal),
            FaultKind.PppdConnectFailed => sim.InjectPppdExit(link, PppExitCodes.ConnectFailed),
            FaultKind.PppdPtyFailed => sim.InjectPppdExit(link, PppExitCodes.PtyCommandFailed),
            FaultKind.PppdNegotiationFailed => sim.InjectPppdExit(link, PppExitCodes.NegotiationFailed),
            FaultKind.PppdLcpTimeout => sim.InjectPppdExit(link, PppExitCodes.LcpEchoTimeout),
            FaultKind.PppdHangup => sim.InjectPppdExit(link, PppExitCodes.Hangup),
            FaultKind.SshDropped => sim.DropSsh(link),
            FaultKind.RemoteSlirpKilled => Do(sim.KillRemoteSlirp),
            FaultKind.LinkDownPppdAlive => sim.TakeLinkDown(link),
            FaultKind.RouteDeleted => sim.DeleteRoute(fault.Bundle.Routes[random.Next(fault.Bundle.Routes.Count)]),
            FaultKind.EqlMasterDown => Do(sim.TakeEqlMasterDown),
            FaultKind.EqlModuleUnloaded => Do(sim.UnloadEqlModule),
            FaultKind.SlaveStalled => sim.StallSlave(link),
            FaultKind.RemoteUnreachable => Unreachable(sim, fault, random),
            FaultKind.AuthenticationRefused => Do(sim.RefuseAuthentication) && sim.DropSsh(link),
            _ => false,
        };
        if (applied) Say(fault.At, $"FAULT #{fault.Number}: {fault.Kind} on {fault.Bundle.Name}{(UsesLink(fault.Kind) ? $" link {link}" : "")}");
        return applied;
    }

    private static bool Unreachable(SimulatedSystem sim, ActiveFault fault, Random random)
    {
        var duration = TimeSpan.FromSeconds(20 + random.Next(70));
        sim.MakeRemoteUnreachable(duration);
        fault.ClearsAt = fault.At + duration;
        return true;
    }

    private static bool UsesLink(FaultKind kind) => kind is not (FaultKind.RemoteSlirpKilled or FaultKind.RouteDeleted or FaultKind.EqlMasterDown or FaultKind.EqlModuleUnloaded or FaultKind.RemoteUnreachable);

    private static bool Do(Action action)
    {
        action();
        return true;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private void OnEvent(IBundleEvent e)
    {
        switch (e)
        {
            case LinkStarting:
                _linkRestarts++;
                break;
            case UploadRebalanced:
                _imbalancesHealed++;
                break;
        }
        if (timeline is null) return;
        var line = Describe(e);
        if (line is not null) Say(e.At, $"{e.Bundle}: {line}");
    }

    private static string? Describe(IBundleEvent e) => e switch
    {
        BundleStarting => "starting",
        RemotePrepared r => $"host_B prepared ({r.StaleKilled} stale slirp processes killed, rc files written)",
        RemotePreparationFailed r => $"preparing host_B failed: {r.Reason}",
        LinkAdopted l => $"link {l.Link} adopted pppd {l.Pid}",
        LinkStarting l => $"link {l.Link} starting (pppd {l.Pid})",
        LinkUp l => $"link {l.Link} up on {l.Interface}",
        LinkDown l => $"link {l.Link} down{(l.Permanent ? " (permanent)" : "")}: {l.Reason}",
        LinkParked l => $"link {l.Link} parked: {l.Reason}",
        EqlMasterUp m => m.Restored ? $"{m.Device} master restored" : $"{m.Device} master up",
        EqlMasterLost m => $"{m.Device} master lost: {m.Reason}",
        SlaveEnslaved s => $"link {s.Link} ({s.Interface}) enslaved, priority {s.Priority}",
        UploadImbalanced u => $"upload imbalanced: {string.Join(" ", u.Shares.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value:P1}"))}",
        UploadRebalanced u => $"re-enslaved {u.Slaves} slaves",
        RouteAdded r => $"route {r.Route} {(r.Restored ? "restored" : "added")}",
        SysctlSet s => $"{s.Key} = {s.Value}",
        BundleReady => "READY: every link enslaved, every route present",
        BundleDegraded d => $"degraded: {d.Reason}",
        BundleStopped => "stopped",
        _ => null,
    };

    private void Say(DateTimeOffset at, string text)
    {
        if (timeline is null) return;
        var t = at - _start;
        timeline($"[{(int)t.TotalHours:00}:{t.Minutes:00}:{t.Seconds:00}.{t.Milliseconds / 100}] {text}");
    }
}
