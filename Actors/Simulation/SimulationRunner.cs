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

    /// <summary>The command line that replays this run exactly (the same seed and options give the same timeline).</summary>
    public string ReplayCommand(string? traceFile = null)
    {
        var argv = new List<string> { "eqlactors", "simulate", "--links", $"{Links}", "--faults", $"{Faults}", "--seed", $"{Seed}", "--duration", $"{(long)Duration.TotalSeconds}s" };
        if (StockSlirp) argv.Add("--stock-slirp");
        if (Priority != new EqlConfig().Priority) argv.AddRange(["--priority", $"{Priority}"]);
        if (Bundles != 1) argv.AddRange(["--bundles", $"{Bundles}"]);
        if (traceFile is not null) argv.AddRange(["--trace", traceFile]);
        return string.Join(' ', argv);
    }
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
        EventTap.Subscribe(system, OnEvent);
        var root = system.StartSimulationRoot();

        var bundles = new List<Bundle>();
        for (var b = 0; b < run.Bundles; b++)
        {
            var config = new BundleConfig() with
            {
                Links = [.. Enumerable.Range(0, run.Links)],
                Eql = new EqlConfig { Priority = run.Priority },
            };
            var options = new SimulationOptions { Seed = Seeds.Split(run.Seed, "world", b), Slirp = run.StockSlirp ? SlirpBuild.Stock : SlirpBuild.Fixed };
            var sim = new SimulatedSystem(clock, config, options);
            var name = run.Bundles == 1 ? "bundle" : $"bundle-{b}";
            var bundleOptions = new BundleOptions(name, SimulationHosting.Dispatcher, Seeds.For(run.Seed, "backoff", b));
            var actor = root.CreateChild(EqlBundle.Props(config, sim.Ports, bundleOptions), name);
            bundles.Add(new Bundle(name, sim, actor, DesiredRoutes.For(config), config));
            actor.Tell(new StartBundle());
        }

        probe?.Invoke(system, 0, bundles.Select(b => b.Sim).ToList());
        var random = Seeds.For(run.Seed, "faults");
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
            SimulationHosting.AssertQuiet(root);
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
        Route? route = fault.Kind == FaultKind.RouteDeleted ? fault.Bundle.Routes[random.Next(fault.Bundle.Routes.Count)] : null;
        TimeSpan? away = null;
        if (fault.Kind == FaultKind.RemoteUnreachable)
        {
            away = TimeSpan.FromSeconds(20 + random.Next(70));
            fault.ClearsAt = fault.At + away.Value;
        }
        var applied = sim.Inject(fault.Kind, fault.Link, route, away);
        if (applied) Say(fault.At, $"FAULT #{fault.Number}: {fault.Kind} on {fault.Bundle.Name}{(SimulatedSystem.HitsOneLink(fault.Kind) ? $" link {fault.Link}" : "")}");
        return applied;
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
        Say(e.At, $"{e.Bundle}: {BundleEventLines.Of(e).Text}");
    }

    private void Say(DateTimeOffset at, string text)
    {
        if (timeline is null) return;
        var t = at - _start;
        timeline($"[{(int)t.TotalHours:00}:{t.Minutes:00}:{t.Seconds:00}.{t.Milliseconds / 100}] {text}");
    }
}
