using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using EqlActors.Actors;
using EqlActors.Configuration;
using EqlActors.Messages;
using EqlActors.Ports;
using EqlActors.Simulation;

namespace EqlActors.Tests.Actors;

/// <summary>
/// Runs the real actor tree on the simulated system in virtual time: the TestScheduler moves only when a test
/// advances it, and the bundle's actors run on the calling thread, so after each step the world is settled.
/// </summary>
public abstract class BundleSpec(Akka.Configuration.Config? overrides = null)
    : TestKit(overrides is null ? SimulationHosting.Config : overrides.WithFallback(SimulationHosting.Config))
{
    protected static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    protected TestScheduler Clock => (TestScheduler)Sys.Scheduler;
    protected SimulatedSystem Sim { get; private set; } = null!;
    protected IActorRef Bundle { get; set; } = null!;
    protected BundleConfig Config { get; private set; } = null!;
    protected IReadOnlyList<Route> DesiredRoutesOfConfig => DesiredRoutes.For(Config);

    private IActorRef? _root;

    /// <summary>Every simulated actor lives under one root that runs on the test's thread (see <see cref="SimulationRoot"/>).</summary>
    protected IActorRef Root => _root ??= Sys.StartSimulationRoot();

    /// <summary>The simulated world alone, for tests of one actor with probes around it.</summary>
    protected void CreateWorld(BundleConfig? config = null, SimulationOptions? options = null)
    {
        Config = config ?? new BundleConfig();
        Sim = new SimulatedSystem(Clock, Config, options);
    }

    protected IActorRef CreateBundle(BundleConfig? config = null, SimulationOptions? options = null, bool start = true)
    {
        CreateWorld(config, options);
        Bundle = CreateBundleActor("bundle");
        if (start) Bundle.Tell(new StartBundle());
        return Bundle;
    }

    /// <summary>Another bundle actor over the same simulated world, created on the test's thread; seeded jitter.</summary>
    protected IActorRef CreateBundleActor(string name) =>
        Root.CreateChild(EqlBundle.Props(Config, Sim.Ports, new BundleOptions(name, SimulationHosting.Dispatcher, new Random(1))), name);

    /// <summary>A probe on the event stream; it runs on the calling thread, so events are there as soon as Advance returns.</summary>
    protected TestProbe SubscribeEvents()
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe.Ref, typeof(IBundleEvent));
        return probe;
    }

    /// <summary>Everything the probe has received so far, without waiting.</summary>
    protected static List<object> Drain(TestProbe probe)
    {
        var messages = new List<object>();
        while (probe.HasMessages) messages.Add(probe.ReceiveOne(TimeSpan.Zero)!);
        return messages;
    }

    /// <summary>Runs <paramref name="action"/> at a point of virtual time, where a port call's continuation stays in it.</summary>
    protected void ScheduleInVirtualTime(TimeSpan delay, Action action) => Fixtures.VirtualTime.Schedule(Clock, delay, action);

    protected void Advance(TimeSpan span)
    {
        for (var t = TimeSpan.Zero; t < span; t += Step) Clock.Advance(Step);
    }

    /// <summary>Advances virtual time until <paramref name="condition"/> holds; returns how much virtual time that took.</summary>
    protected TimeSpan AdvanceUntil(Func<bool> condition, TimeSpan max, string what)
    {
        var start = Clock.Now;
        while (!condition())
        {
            if (Clock.Now - start > max) throw new Xunit.Sdk.XunitException($"{what} did not happen within {max} of virtual time; world: {Sim.Unhealthy(DesiredRoutesOfConfig)}");
            Clock.Advance(Step);
        }
        return Clock.Now - start;
    }

    protected TimeSpan AdvanceUntilHealthy(TimeSpan? max = null) =>
        AdvanceUntil(() => Sim.Unhealthy(DesiredRoutesOfConfig) is null, max ?? TimeSpan.FromMinutes(5), "a healthy bundle");

    protected BundleStatus Status()
    {
        var task = Bundle.Ask<BundleStatus>(new GetBundleStatus(), Timeout.InfiniteTimeSpan);
        Assert.True(task.Wait(TimeSpan.FromSeconds(10)), "no status reply");
        return task.Result;
    }

    protected BundleStopped StopBundle()
    {
        var task = Bundle.Ask<BundleStopped>(new StopBundle(), Timeout.InfiniteTimeSpan);
        for (var i = 0; i < 600 && !task.IsCompleted; i++) Clock.Advance(Step);
        Assert.True(task.Wait(TimeSpan.FromSeconds(10)), "stop did not complete");
        return task.Result;
    }

    /// <summary>The invariants every fault must end in.</summary>
    protected void AssertInvariants()
    {
        Assert.Null(Sim.Unhealthy(DesiredRoutesOfConfig));
        var links = Config.EffectiveLinks;
        var local = Sim.Processes.Where(p => !p.OnRemote).ToList();
        foreach (var link in links)
        {
            Assert.Single(local, p => p.Link == link && p.Kind == SimProcessKind.Pppd);
            Assert.Single(local, p => p.Link == link && p.Kind == SimProcessKind.Ssh);
        }
        Assert.Equal(links.Length * 2, local.Count);
        // One main slirp plus one attached unit per link on host_B: nothing orphaned there either.
        Assert.Equal(links.Length + 1, Sim.Processes.Count(p => p.OnRemote));
        var slaves = Sim.Slaves.Select(s => s.Name).ToList();
        Assert.Equal(links.Length, slaves.Distinct().Count());
        Assert.Equal(links.Length, slaves.Count);
        Assert.Equal(DesiredRoutesOfConfig.Append(SimulatedSystem.ForeignRoute).OrderBy(r => r.ToString()), Sim.Routes.OrderBy(r => r.ToString()));
        Assert.Equal("127", Sim.Sysctl(SimulatedSystem.TcpReorderingKey));
    }

    protected void AssertNoLeaks()
    {
        Assert.Equal(new SimLeaks(0, 0, 0), Sim.Leaks());
        Assert.Equal([SimulatedSystem.ForeignRoute], Sim.Routes);
    }
}
