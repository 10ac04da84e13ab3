using Akka.Actor;
using EqlActors.Actors;
using EqlActors.Configuration;
using EqlActors.Messages;
using EqlActors.Ports;
using EqlActors.Simulation;

namespace EqlActors.Tests.Actors;

/// <summary>
/// The bundle over chains that the host launched before the actor system existed (<see cref="PrelaunchedPpp"/>), on
/// the simulated system in virtual time: taken over as this daemon's own start, an exit before the take-over retried,
/// a stop before it leaving nothing behind.
/// </summary>
public class PrelaunchTests : BundleSpec
{
    private const string Generation = "638700000000000000";

    private PrelaunchedPpp _ppp = null!;
    private IReadOnlyList<PrelaunchedPpp.Outcome> _outcomes = [];

    /// <summary>The world, its links launched through the decorator as the host does, and <paramref name="before"/> of virtual time without any actor.</summary>
    private void Prelaunch(TimeSpan before, Func<IPppProcesses, IPppProcesses>? inner = null)
    {
        SynchronizationContext.SetSynchronizationContext(null);
        CreateWorld();
        _ppp = new PrelaunchedPpp(inner?.Invoke(Sim.Ports.Ppp) ?? Sim.Ports.Ppp);
        _outcomes = ResultOf(_ppp.LaunchAsync(Config, Config.EffectiveLinks, Generation));
        Advance(before);
    }

    private void CreateBundleOverPrelaunch(bool start = true)
    {
        Bundle = Root.CreateChild(EqlBundle.Props(Config, Sim.Ports with { Ppp = _ppp }, new BundleOptions("bundle", SimulationHosting.Dispatcher, new Random(1))), "bundle");
        if (start) Bundle.Tell(new StartBundle());
    }

    private static T ResultOf<T>(Task<T> task)
    {
        Assert.True(task.Wait(TimeSpan.FromSeconds(10)), "no result");
        return task.Result;
    }

    private int PrelaunchedPid(int link) => _outcomes.Single(o => o.Link == link).Process!.Pid;

    [Fact]
    public void Prelaunched_chains_are_taken_over_as_this_daemon_s_own_start_and_the_bundle_comes_up_without_a_second_start()
    {
        // The chains come up while the (real) host would still be building its actor system.
        Prelaunch(TimeSpan.FromSeconds(6));
        Assert.All(Config.EffectiveLinks, l => Assert.True(Sim.Interface($"ppp{l}").IsUp));
        var events = SubscribeEvents();

        CreateBundleOverPrelaunch();
        var took = AdvanceUntilHealthy(TimeSpan.FromSeconds(30));

        AssertInvariants();
        // Up already: no link's up-time (1.5-2.8 s in the simulation) is spent again.
        Assert.True(took < new SimulationOptions().LinkUpMin, $"took {took}");
        var seen = Drain(events);
        Assert.Empty(seen.OfType<LinkAdopted>());
        Assert.Equal(Config.EffectiveLinks.Select(l => (l, PrelaunchedPid(l))).Order(), seen.OfType<LinkStarting>().Select(s => (s.Link, s.Pid)).Order());
        Assert.Empty(seen.OfType<LinkDown>());
        Assert.Equal(Config.EffectiveLinks.Length, Sim.PppStarts.Count);
        // The stale masters were ended once, by the prelaunch; the actors' clean starts spared the prelaunched ones.
        Assert.Equal(Config.EffectiveLinks.Length, Sim.ConnectionEndRequests);
        var status = Status();
        Assert.True(status.Ready);
        Assert.All(status.Links, l => Assert.Equal(0, l.Restarts));
    }

    [Fact]
    public void A_prelaunched_pppd_that_exited_before_the_take_over_fails_that_attempt_and_is_retried()
    {
        Prelaunch(TimeSpan.FromSeconds(6));
        Assert.True(Sim.InjectPppdExit(1, PppExitCodes.LcpEchoTimeout));
        Advance(TimeSpan.FromSeconds(1));
        var events = SubscribeEvents();

        CreateBundleOverPrelaunch();
        AdvanceUntilHealthy(TimeSpan.FromMinutes(1));

        AssertInvariants();
        var seen = Drain(events);
        var down = Assert.Single(seen.OfType<LinkDown>());
        Assert.Equal(1, down.Link);
        Assert.Contains($"pppd exit {PppExitCodes.LcpEchoTimeout}", down.Reason, StringComparison.Ordinal);
        Assert.False(down.Permanent);
        // Taken over as started (its pid), failed, then started anew by its link actor.
        Assert.Contains(seen.OfType<LinkStarting>(), s => s.Link == 1 && s.Pid == PrelaunchedPid(1));
        Assert.Contains(seen.OfType<LinkStarting>(), s => s.Link == 1 && s.Pid != PrelaunchedPid(1));
        Assert.Equal(Config.EffectiveLinks.Length + 1, Sim.PppStarts.Count);
        Assert.Equal(1, Status().Links.Single(l => l.Link == 1).Restarts);
    }

    [Fact]
    public void A_link_whose_prelaunch_failed_is_started_by_its_actor_in_the_prelaunched_units_generation()
    {
        FailOnce failing = null!;
        Prelaunch(TimeSpan.FromSeconds(1), inner => failing = new FailOnce(inner, link: 2));
        Assert.IsType<PortException>(_outcomes.Single(o => o.Link == 2).Error);

        CreateBundleOverPrelaunch();
        AdvanceUntilHealthy(TimeSpan.FromMinutes(1));

        AssertInvariants();
        Assert.Equal([Generation, Generation, Generation, Generation], failing.Generations);
    }

    [Fact]
    public void A_stop_before_the_take_over_leaves_no_prelaunched_chain_running()
    {
        Prelaunch(TimeSpan.FromSeconds(3));
        CreateBundleOverPrelaunch();
        // Start and stop back to back, as a SIGTERM right after the host came up.
        var stopped = StopBundle();
        Assert.Empty(stopped.LinksNotStopped);

        var ended = _ppp.EndUnclaimedAsync(Config.Supervision.StopGrace);
        AdvanceUntil(() => ended.IsCompleted, TimeSpan.FromMinutes(1), "the prelaunched chains' end");
        Advance(TimeSpan.FromSeconds(5));

        Assert.DoesNotContain(Sim.Processes, p => !p.OnRemote);
        AssertNoLeaks();
    }

    [Fact]
    public void Chains_of_a_daemon_stopped_before_its_bundle_started_are_ended()
    {
        Prelaunch(TimeSpan.FromSeconds(3));
        Assert.Equal(2 * Config.EffectiveLinks.Length, Sim.Processes.Count(p => !p.OnRemote));

        var ended = _ppp.EndUnclaimedAsync(Config.Supervision.StopGrace);
        AdvanceUntil(() => ended.IsCompleted, TimeSpan.FromMinutes(1), "the prelaunched chains' end");

        Assert.Equal([.. Config.EffectiveLinks], ResultOf(ended));
        Assert.DoesNotContain(Sim.Processes, p => !p.OnRemote);
    }

    [Fact]
    public void A_taken_over_chain_whose_interface_came_up_unannounced_is_seen_up_at_once()
    {
        // A take-over that brings no event at all (its interface was up before the actor subscribed to the kernel's
        // events, and nothing replays pppd's "Using interface"): the actor must look at the interface itself.
        SynchronizationContext.SetSynchronizationContext(null);
        CreateWorld();
        var running = new Dictionary<int, PppProcess>();
        foreach (var link in Config.EffectiveLinks)
        {
            running[link] = ResultOf(Sim.Ports.Ppp.StartAsync(new PppLaunch(link, Config, Generation), new NoEvents()));
        }
        AdvanceUntil(() => Config.EffectiveLinks.All(l => Sim.InterfaceOf(l) is { } n && Sim.Interface(n).IsUp), TimeSpan.FromSeconds(30), "the chains up");
        foreach (var link in Config.EffectiveLinks) running[link] = running[link] with { Interface = Sim.InterfaceOf(link) };

        Bundle = Root.CreateChild(EqlBundle.Props(Config, Sim.Ports with { Ppp = new TakeOverSilently(Sim.Ports.Ppp, running) },
            new BundleOptions("bundle", SimulationHosting.Dispatcher, new Random(1))), "bundle");
        Bundle.Tell(new StartBundle());

        var took = AdvanceUntilHealthy(TimeSpan.FromSeconds(30));
        Assert.True(took < TimeSpan.FromSeconds(5), $"took {took}");
        Assert.True(Status().Ready);
    }

    private sealed class NoEvents : IPppEvents
    {
        public void Exited(PppExit exit) { }
        public void InterfaceAssigned(int link, int pid, string ifname) { }
        public void Output(int link, int pid, string line) { }
    }

    /// <summary>Hands each link's running chain to its first start, with no event; otherwise the inner port.</summary>
    private sealed class TakeOverSilently(IPppProcesses inner, Dictionary<int, PppProcess> running) : IPppProcesses
    {
        public Task<PppProcess> StartAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default) =>
            running.Remove(launch.Link, out var p) ? Task.FromResult(p) : inner.StartAsync(launch, events, ct);
        public Task<PppProcess?> AdoptAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default) =>
            running.ContainsKey(launch.Link) ? Task.FromResult<PppProcess?>(null) : inner.AdoptAsync(launch, events, ct);
        public Task StopAsync(PppProcess process, TimeSpan grace, CancellationToken ct = default) => inner.StopAsync(process, grace, ct);
        public Task EndConnectionAsync(PppLaunch launch, CancellationToken ct = default) =>
            running.ContainsKey(launch.Link) ? Task.CompletedTask : inner.EndConnectionAsync(launch, ct);
        public Task<bool> ConnectionAnswersAsync(PppLaunch launch, TimeSpan timeout, CancellationToken ct = default) => inner.ConnectionAnswersAsync(launch, timeout, ct);
    }

    /// <summary>The first start of <c>link</c> throws; records every clean start's generation.</summary>
    internal sealed class FailOnce(IPppProcesses inner, int link) : IPppProcesses
    {
        private bool _failed;

        public List<string> Generations { get; } = [];

        public Task<PppProcess> StartAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default)
        {
            if (launch.Generation is { } g) Generations.Add(g);
            if (launch.Link == link && !_failed)
            {
                _failed = true;
                throw new PortException($"link {link}: pppd did not start");
            }
            return inner.StartAsync(launch, events, ct);
        }

        public Task<PppProcess?> AdoptAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default) => inner.AdoptAsync(launch, events, ct);
        public Task StopAsync(PppProcess process, TimeSpan grace, CancellationToken ct = default) => inner.StopAsync(process, grace, ct);
        public Task EndConnectionAsync(PppLaunch launch, CancellationToken ct = default) => inner.EndConnectionAsync(launch, ct);
        public Task<bool> ConnectionAnswersAsync(PppLaunch launch, TimeSpan timeout, CancellationToken ct = default) => inner.ConnectionAnswersAsync(launch, timeout, ct);
    }
}
