using Akka.Actor;
using EqlActors.Actors;
using EqlActors.Configuration;
using EqlActors.Messages;
using EqlActors.Simulation;

namespace EqlActors.Tests.Actors;

public class BundleLifecycleTests : BundleSpec
{
    [Fact]
    public void Start_brings_every_link_up_enslaved_with_every_route_within_seconds()
    {
        var events = SubscribeEvents();
        CreateBundle();

        var took = AdvanceUntilHealthy();

        Assert.True(took < TimeSpan.FromSeconds(6), $"took {took}; the HOWTO script needed 18.2 s");
        AssertInvariants();
        // Stale slirp held every unit: unit 0's own start ended it (one start per link, none refused), and the
        // probe ran after the bundle was ready, off the critical path.
        Assert.Equal(3, Sim.PppStarts.Count);
        var seen = new List<object>();
        AdvanceUntil(() => { seen.AddRange(Drain(events)); return seen.OfType<RemotePrepared>().Any(); }, TimeSpan.FromSeconds(30), "the probe's result");
        Assert.NotNull(seen.OfType<RemotePrepared>().First().SlirpFeatures);
        Assert.Single(seen.OfType<BundleReady>());
        var status = Status();
        Assert.True(status.Ready);
        Assert.Equal(BundlePhase.Running, status.Phase);
        Assert.All(status.Links, l =>
        {
            Assert.Equal(LinkPhase.Up, l.Phase);
            Assert.True(l.Enslaved);
            Assert.NotNull(l.Pid);
            Assert.Equal($"ppp{l.Link}", l.Interface);
            Assert.Equal(0, l.Restarts);
        });
        Assert.True(status.Master.Up);
        Assert.All(status.Routes, r => Assert.True(r.Present));
        Assert.Equal("127", status.TcpReordering);
        // The status and the events name each route as the kernel table holds it (onlink included): one route type.
        var table = Sim.Routes.Where(r => r != SimulatedSystem.ForeignRoute).OrderBy(r => r.ToString()).ToList();
        Assert.Equal(table, status.Routes.Select(r => r.Route).OrderBy(r => r.ToString()));
        Assert.Equal(table, seen.OfType<RouteAdded>().Select(e => e.Route).OrderBy(r => r.ToString()));
        Assert.Contains(table, r => r.OnLink);
    }

    [Fact]
    public void The_management_gateway_is_routed_via_eql_not_via_the_peer_route_of_a_ppp_link()
    {
        CreateBundle();
        AdvanceUntilHealthy();
        var gateway = Config.Routes.ManagementGateway;

        // The kernel gave every link a peer route 10.0.2.2 dev pppN; the bundle removed them all.
        Assert.Equal(Config.Eql.Device, Sim.RouteDevice(gateway));
        Assert.DoesNotContain(Sim.Routes, r => r.Device.StartsWith("ppp", StringComparison.Ordinal));

        // A restarted link brings its peer route back with its address: removed again.
        Assert.True(Sim.InjectPppdExit(1, PppExitCodes.Hangup));
        Assert.NotNull(Sim.Unhealthy(DesiredRoutesOfConfig));
        AdvanceUntilHealthy(TimeSpan.FromMinutes(1));
        Assert.DoesNotContain(Sim.PeerRoute("ppp1"), Sim.Routes);
        Assert.Equal(Config.Eql.Device, Sim.RouteDevice(gateway));

        // Routes of other devices are the operator's: never touched.
        Assert.Contains(SimulatedSystem.ForeignRoute, Sim.Routes);
    }

    [Fact]
    public void The_bundle_is_ready_only_once_no_peer_route_shadows_the_management_route_at_start_and_after_a_restart()
    {
        // What the kernel held at each BundleReady, seen on the publisher's thread at that very moment: "ready"
        // (and the slirp probe that follows it) must not come while host_B is still routed past the master. The
        // route port takes 2 s of virtual time per deletion, as `ip route del` can in a loaded guest, so the peer
        // routes outlive the enslaving of the last link.
        // A deletion that really waits resumes the route actor's pass where it awaited: on this thread, in virtual
        // time, not through the test runner's context.
        SynchronizationContext.SetSynchronizationContext(null);
        var atReady = new List<List<Route>>();
        EventTap.Subscribe(Sys, e =>
        {
            if (e is BundleReady) atReady.Add([.. Sim.Routes.Where(r => r.Device.StartsWith("ppp", StringComparison.Ordinal))]);
        });
        CreateWorld();
        var ports = Sim.Ports with { Routes = new SlowDeletes(Sim.Ports.Routes, Sys.Scheduler, TimeSpan.FromSeconds(2)) };
        var bundle = Root.CreateChild(EqlBundle.Props(Config, ports, new BundleOptions("bundle", SimulationHosting.Dispatcher, new Random(1))), "bundle");
        bundle.Tell(new StartBundle());
        AdvanceUntil(() => atReady.Count == 1, TimeSpan.FromSeconds(60), "ready");
        Assert.Null(Sim.Unhealthy(DesiredRoutesOfConfig));

        Assert.True(Sim.InjectPppdExit(2, PppExitCodes.Hangup));
        AdvanceUntil(() => Sim.Unhealthy(DesiredRoutesOfConfig) is not null, TimeSpan.FromSeconds(10), "the link down");
        AdvanceUntil(() => atReady.Count == 2, TimeSpan.FromMinutes(1), "ready again after the restart");

        Assert.All(atReady, Assert.Empty);
        Assert.Equal(Config.Eql.Device, Sim.RouteDevice(Config.Routes.ManagementGateway));
    }

    /// <summary>The simulated routes, each deletion completing <paramref name="delay"/> of virtual time later.</summary>
    private sealed class SlowDeletes(EqlActors.Ports.IRoutes inner, IScheduler clock, TimeSpan delay) : EqlActors.Ports.IRoutes
    {
        public Task<IReadOnlyList<Route>> ListAsync(CancellationToken ct = default) => inner.ListAsync(ct);
        public Task AddAsync(Route route, CancellationToken ct = default) => inner.AddAsync(route, ct);

        public async Task DeleteAsync(Route route, CancellationToken ct = default)
        {
            var later = new TaskCompletionSource(TaskCreationOptions.None);
            Fixtures.VirtualTime.Schedule(clock, delay, () => later.SetResult());
            await later.Task.ConfigureAwait(false);
            await inner.DeleteAsync(route, ct).ConfigureAwait(false);
        }
    }

    [Fact]
    public void Stop_tears_everything_down_and_leaves_no_process_slave_or_route()
    {
        CreateBundle();
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromMinutes(1));

        var stopped = StopBundle();

        Assert.Equal("bundle", stopped.Bundle);
        AssertNoLeaks();
        Assert.Equal(SimulatedSystem.TcpReorderingDefault, Sim.Sysctl(SimulatedSystem.TcpReorderingKey));
        Assert.False(Sim.Interface(Config.Eql.Device).Exists);
        var status = Status();
        Assert.Equal(BundlePhase.Stopped, status.Phase);
        Assert.All(status.Links, l => Assert.Equal(LinkPhase.Stopped, l.Phase));

        // Nothing comes back by itself after a stop.
        Advance(TimeSpan.FromMinutes(2));
        AssertNoLeaks();
    }

    [Fact]
    public void Stop_while_links_are_backing_off_still_completes_without_leaks()
    {
        CreateBundle();
        AdvanceUntilHealthy();
        Sim.MakeRemoteUnreachable(TimeSpan.FromMinutes(5));
        Advance(TimeSpan.FromSeconds(40));

        StopBundle();

        Advance(TimeSpan.FromMinutes(6));
        Assert.Equal(0, Sim.Leaks().Slaves);
        Assert.Equal(0, Sim.Leaks().Routes);
        Assert.DoesNotContain(Sim.Processes, p => !p.OnRemote);
    }

    [Fact]
    public void A_stopped_bundle_starts_again()
    {
        CreateBundle();
        AdvanceUntilHealthy();
        StopBundle();

        Bundle.Tell(new StartBundle());
        AdvanceUntilHealthy();

        AssertInvariants();
    }

    [Fact]
    public void A_new_bundle_actor_adopts_running_links_instead_of_restarting_them()
    {
        CreateBundle();
        AdvanceUntilHealthy();
        var pids = Sim.Processes.Where(p => p.Kind == SimProcessKind.Pppd).Select(p => p.Pid).Order().ToList();
        var starts = Sim.PppStarts.Count;
        // The daemon goes away without stopping the bundle (a crash, an upgrade).
        Sys.Stop(Bundle);
        Advance(TimeSpan.FromSeconds(1));

        var events = SubscribeEvents();
        var bundle = CreateBundleActor("bundle-2");
        bundle.Tell(new StartBundle());
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(3, Drain(events).OfType<LinkAdopted>().Count());
        Assert.Equal(starts, Sim.PppStarts.Count);
        Assert.Equal(pids, Sim.Processes.Where(p => p.Kind == SimProcessKind.Pppd).Select(p => p.Pid).Order().ToList());
        AssertInvariants();

        // An adopted link is this daemon's first start of it: its first restart counts as one (it counted 0,
        // as seen in the guest after the health probe restarted an adopted link).
        BundleStatus StatusOf(IActorRef b)
        {
            var task = b.Ask<BundleStatus>(new GetBundleStatus(), Timeout.InfiniteTimeSpan);
            Assert.True(task.Wait(TimeSpan.FromSeconds(10)), "no status reply");
            return task.Result;
        }
        var status = StatusOf(bundle);
        Assert.All(status.Links, l => Assert.Equal(0, l.Restarts));
        Assert.True(Sim.Inject(FaultKind.PppdKilled, 1));
        Advance(TimeSpan.FromSeconds(1));
        AdvanceUntilHealthy();
        status = StatusOf(bundle);
        Assert.Equal([0, 1, 0], status.Links.OrderBy(l => l.Link).Select(l => l.Restarts));
    }

    [Fact]
    public void A_daemon_that_replaced_a_killed_one_puts_the_sysctl_back_as_it_was_before_the_first_change()
    {
        const string key = SimulatedSystem.TcpReorderingKey;
        CreateBundle();
        AdvanceUntilHealthy();
        // Kept before it was changed: outside the daemon, where the next one finds it.
        Assert.Equal("127", Sim.Sysctl(key));
        Assert.Equal(SimulatedSystem.TcpReorderingDefault, Sim.SysctlKept(key));
        // Killed (SIGKILL): no stop, the product's value stays in force.
        Sys.Stop(Bundle);
        Advance(TimeSpan.FromSeconds(1));

        // The new daemon adopts the links and finds the sysctl already as it wants it: nothing of its own to remember.
        var events = SubscribeEvents();
        Bundle = CreateBundleActor("bundle-2");
        Bundle.Tell(new StartBundle());
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(3, Drain(events).OfType<LinkAdopted>().Count());

        Assert.Empty(StopBundle().LinksNotStopped);

        Assert.Equal(SimulatedSystem.TcpReorderingDefault, Sim.Sysctl(key));
        Assert.Null(Sim.SysctlKept(key));
        AssertNoLeaks();
    }

    [Fact]
    public void A_stopped_bundle_forgets_the_kept_sysctl_value_and_leaves_one_that_somebody_else_set()
    {
        const string key = SimulatedSystem.TcpReorderingKey;
        CreateBundle();
        AdvanceUntilHealthy();
        Assert.Equal(SimulatedSystem.TcpReorderingDefault, Sim.SysctlKept(key));
        // An operator's value after ours: not the product's to put back.
        Assert.True(ResultOf(Sim.Ports.Sysctl.WriteAsync(key, "9")).IsCompleted);

        Assert.Empty(StopBundle().LinksNotStopped);

        Assert.Equal("9", Sim.Sysctl(key));
        Assert.Null(Sim.SysctlKept(key));
    }

    private static Task ResultOf(Task task)
    {
        Assert.True(task.Wait(TimeSpan.FromSeconds(10)), "no result");
        return task;
    }

    [Fact]
    public void Single_link_mode_runs_link_0_alone()
    {
        CreateBundle(new BundleConfig { SingleLink = true });

        AdvanceUntilHealthy();

        AssertInvariants();
        Assert.Single(Status().Links);
        Assert.Equal("ppp0", Assert.Single(Sim.Slaves).Name);
    }
}
