using Akka.Actor;
using EqlActors.Actors;
using EqlActors.Host.Hosting;
using EqlActors.Messages;
using EqlActors.Ports;
using EqlActors.Simulation;
using EqlActors.Tests.Actors;

namespace EqlActors.Tests.Hosting;

/// <summary>
/// The host's cold start (<see cref="ColdStart"/>): the prelaunched links enslaved, the master up and the routes set
/// before any actor exists, on the simulated system in virtual time; then the actors taking that state over without
/// releasing or redoing any of it, a link that fails before the take-over, a prelaunch that partly failed, and a
/// stop before the take-over that takes everything back.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class ColdStartTests : BundleSpec
{
    private const string Generation = "638700000000000001";
    private static readonly string Key = SimulatedSystem.TcpReorderingKey;

    private PrelaunchedPpp _ppp = null!;

    private void Prelaunch(TimeSpan before, Func<IPppProcesses, IPppProcesses>? inner = null)
    {
        SynchronizationContext.SetSynchronizationContext(null);
        CreateWorld();
        _ppp = new PrelaunchedPpp(inner?.Invoke(Sim.Ports.Ppp) ?? Sim.Ports.Ppp);
        ResultOf(_ppp.LaunchAsync(Config, Config.EffectiveLinks, Generation));
        Advance(before);
    }

    private SystemPorts Ports => Sim.Ports with { Ppp = _ppp };

    private ColdStart NewColdStart() => new(Config, _ppp, Ports, Serilog.Core.Logger.None);

    private void StartBundleOverPrelaunch(string? tcpReorderingBefore)
    {
        Bundle = Root.CreateChild(EqlBundle.Props(Config, Ports, new BundleOptions("bundle", SimulationHosting.Dispatcher, new Random(1))), "bundle");
        Bundle.Tell(new StartBundle(tcpReorderingBefore));
    }

    private static T ResultOf<T>(Task<T> task)
    {
        Assert.True(task.Wait(TimeSpan.FromSeconds(10)), "no result");
        return task.Result;
    }

    private static bool Completes(Task task, TimeSpan within) => task.Wait(within);

    private EqlMasterState Master() => ResultOf(Sim.Ports.Eql.GetMasterAsync(Config.Eql.Device));

    [Fact]
    public void The_cold_start_reaches_the_full_state_and_the_actors_take_it_over_without_releasing_or_redoing_any_of_it()
    {
        Prelaunch(TimeSpan.FromSeconds(6));
        var coldStart = NewColdStart();

        Assert.True(ResultOf(coldStart.PassAsync()));
        // The full state with no actor at all: every link enslaved, the master up, the routes, the sysctl.
        Assert.Null(Sim.Unhealthy(DesiredRoutesOfConfig));
        Assert.Equal("127", Sim.Sysctl(Key));
        Assert.Equal(Config.EffectiveLinks.Order(), coldStart.Enslaved.Keys.Order());
        var before = ResultOf(coldStart.HandOverAsync());
        Assert.Equal(SimulatedSystem.TcpReorderingDefault, before);

        var events = SubscribeEvents();
        StartBundleOverPrelaunch(before);
        Advance(TimeSpan.FromSeconds(15));

        AssertInvariants();
        Assert.True(Status().Ready);
        var seen = Drain(events);
        // Taken over as it was: nothing released, re-enslaved, brought up, added or set again.
        Assert.Empty(seen.OfType<SlaveReleased>());
        Assert.Empty(seen.OfType<SlaveEnslaved>());
        Assert.Empty(seen.OfType<EqlMasterUp>());
        Assert.Empty(seen.OfType<EqlMasterLost>());
        Assert.Empty(seen.OfType<RouteAdded>());
        Assert.Empty(seen.OfType<SysctlSet>());
        Assert.Empty(seen.OfType<LinkDown>());
        Assert.Equal(Config.EffectiveLinks.Length, Sim.PppStarts.Count);

        // The bundle's stop takes back what the cold start set: the sysctl goes back to the value before it.
        Assert.Empty(StopBundle().LinksNotStopped);
        Assert.Equal(SimulatedSystem.TcpReorderingDefault, Sim.Sysctl(Key));
        AssertNoLeaks();
    }

    [Fact]
    public void A_link_that_fails_after_the_cold_start_enslaved_it_is_retried_by_the_actors_and_the_others_stay_enslaved()
    {
        Prelaunch(TimeSpan.FromSeconds(6));
        var coldStart = NewColdStart();
        Assert.True(ResultOf(coldStart.PassAsync()));
        Assert.True(Sim.InjectPppdExit(1, PppExitCodes.LcpEchoTimeout));
        Advance(TimeSpan.FromSeconds(1));
        var before = ResultOf(coldStart.HandOverAsync());
        var events = SubscribeEvents();

        StartBundleOverPrelaunch(before);
        AdvanceUntilHealthy(TimeSpan.FromMinutes(1));

        AssertInvariants();
        var seen = Drain(events);
        Assert.Equal(1, Assert.Single(seen.OfType<LinkDown>()).Link);
        Assert.DoesNotContain(seen.OfType<SlaveReleased>(), r => r.Link != 1);
        Assert.Equal(Config.EffectiveLinks.Length + 1, Sim.PppStarts.Count);
    }

    [Fact]
    public void A_prelaunch_that_partly_failed_is_cold_started_for_the_links_that_launched_and_the_actors_start_the_rest()
    {
        Prelaunch(TimeSpan.FromSeconds(6), inner => new PrelaunchTests.FailOnce(inner, link: 2));
        var coldStart = NewColdStart();

        // Done once the links that launched are enslaved and routed: link 2 is its actor's to start.
        Assert.True(ResultOf(coldStart.PassAsync()));
        Assert.Equal([0, 1], coldStart.Enslaved.Keys.Order());
        Assert.Equal(2, Sim.Slaves.Count);
        var before = ResultOf(coldStart.HandOverAsync());

        StartBundleOverPrelaunch(before);
        AdvanceUntilHealthy(TimeSpan.FromMinutes(1));

        AssertInvariants();
    }

    [Fact]
    public void The_first_pass_before_any_link_is_up_brings_the_master_and_the_routes_up_and_a_later_one_waits_for_a_link()
    {
        Prelaunch(TimeSpan.Zero);
        var coldStart = NewColdStart();

        Assert.False(ResultOf(coldStart.PassAsync()));

        // The first-time work done while the chains negotiate: master, routes via it, sysctl; no slave yet.
        Assert.True(Master().IsUp);
        Assert.Empty(Sim.Slaves);
        Assert.Equal(DesiredRoutesOfConfig.Append(SimulatedSystem.ForeignRoute).OrderBy(r => r.ToString()), Sim.Routes.OrderBy(r => r.ToString()));
        Assert.Equal("127", Sim.Sysctl(Key));
        Assert.Empty(coldStart.Enslaved);
        // Nothing new is up: a second pass does nothing and does not finish.
        Assert.False(ResultOf(coldStart.PassAsync()));

        Advance(TimeSpan.FromSeconds(6));
        Assert.True(ResultOf(coldStart.PassAsync()));
        Assert.Null(Sim.Unhealthy(DesiredRoutesOfConfig));
        Assert.Equal(SimulatedSystem.TcpReorderingDefault, ResultOf(coldStart.HandOverAsync()));
    }

    [Fact]
    public void A_daemon_stopped_before_the_take_over_takes_back_everything_the_cold_start_set()
    {
        Prelaunch(TimeSpan.FromSeconds(6));
        var coldStart = NewColdStart();
        Assert.True(ResultOf(coldStart.PassAsync()));

        // The main slirp that unit 0's prelaunched chain started on host_B, which outlives that chain.
        Assert.Contains(Sim.Processes, p => p is { OnRemote: true, Link: -1 });

        // ServiceHost's way out of a start stopped before the bundle started: the cold start undone, the chains, host_B.
        var undone = StartUndo.RunAsync(coldStart, _ppp, Ports, Config, Serilog.Core.Logger.None);
        AdvanceUntil(() => undone.IsCompleted, TimeSpan.FromMinutes(1), "the start's undo");
        Advance(TimeSpan.FromSeconds(5));

        Assert.True(undone.IsCompletedSuccessfully);
        Assert.False(coldStart.HandedOver);
        Assert.False(Master().IsUp);
        Assert.Equal(SimulatedSystem.TcpReorderingDefault, Sim.Sysctl(Key));
        // Nothing left on either side: no pppd or ssh here, no slirp (main or unit) on host_B.
        Assert.Empty(Sim.Processes);
        Assert.Empty(Sim.Slaves);
        Assert.Equal([SimulatedSystem.ForeignRoute], Sim.Routes);
    }

    [Fact]
    public void Its_own_loop_reaches_the_full_state_of_links_that_are_up_and_a_hand_over_ends_a_loop_that_still_waits()
    {
        // The loop on its own task (as in the daemon), over links that are up: it finishes by itself.
        Prelaunch(TimeSpan.FromSeconds(6));
        var running = ColdStart.Begin(Config, _ppp, Ports, Serilog.Core.Logger.None);
        Assert.True(Completes(running.Completion, TimeSpan.FromSeconds(30)), "the cold start did not finish");
        Assert.Null(Sim.Unhealthy(DesiredRoutesOfConfig));
        Assert.Equal(SimulatedSystem.TcpReorderingDefault, ResultOf(running.HandOverAsync()));
        Assert.True(running.HandedOver);
    }

    [Fact]
    public async Task A_hand_over_ends_a_loop_that_waits_for_links_that_never_come_up()
    {
        // No virtual time passes: no interface ever comes up, and the loop waits on its own task until handed over.
        Prelaunch(TimeSpan.Zero);
        var waiting = ColdStart.Begin(Config, _ppp, Ports, Serilog.Core.Logger.None);
        await Fixtures.Wait.UntilAsync(() => Master().IsUp, TimeSpan.FromSeconds(30), "the loop's first pass");
        Assert.False(waiting.Completion.IsCompleted);

        var handedOver = waiting.HandOverAsync();

        Assert.True(Completes(handedOver, TimeSpan.FromSeconds(10)), "the hand-over did not end the waiting loop");
        // Its first pass brought the master up (and set the sysctl, whose old value is handed over); no slave.
        Assert.Equal(SimulatedSystem.TcpReorderingDefault, ResultOf(handedOver));
        Assert.Empty(Sim.Slaves);
        Assert.True(Master().IsUp);
    }
}
