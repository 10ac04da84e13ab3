using Akka.Actor;
using EqlActors.Actors;
using EqlActors.Configuration;
using EqlActors.Messages;
using EqlActors.Ports;
using EqlActors.Simulation;

namespace EqlActors.Tests.Actors;

/// <summary>
/// The order of the bundle's first effects at start: the pppd chains first, then the EQL actor's first pass, then
/// the route actor's (issue 10: in a slow guest every fork and first-time code path of those passes competed with the
/// pppd forks), and nothing lost by the wait.
/// </summary>
public class StartOrderTests : BundleSpec
{
    /// <summary>Which port was called, in order: "pppd N" when a start returned, "eql", "routes", "sysctl".</summary>
    private readonly List<string> _calls = [];

    private IActorRef _bundle = null!;

    private IActorRef StartWith(Func<IPppProcesses, IPppProcesses>? ppp = null)
    {
        // A start that really waits resumes where it awaited: on this thread, in virtual time.
        SynchronizationContext.SetSynchronizationContext(null);
        CreateWorld();
        var ports = Sim.Ports with
        {
            Ppp = new RecordedPpp(ppp?.Invoke(Sim.Ports.Ppp) ?? Sim.Ports.Ppp, _calls),
            Eql = new RecordedEql(Sim.Ports.Eql, _calls),
            Routes = new RecordedRoutes(Sim.Ports.Routes, _calls),
            Sysctl = new RecordedSysctl(Sim.Ports.Sysctl, _calls),
        };
        _bundle = Root.CreateChild(EqlBundle.Props(Config, ports, new BundleOptions("bundle", SimulationHosting.Dispatcher, new Random(1))), "bundle");
        _bundle.Tell(new StartBundle());
        return _bundle;
    }

    private static BundleStatus StatusOf(IActorRef bundle)
    {
        var task = bundle.Ask<BundleStatus>(new GetBundleStatus(), Timeout.InfiniteTimeSpan);
        Assert.True(task.Wait(TimeSpan.FromSeconds(10)), "no status reply");
        return task.Result;
    }

    private static T ResultOf<T>(Task<T> task)
    {
        Assert.True(task.Wait(TimeSpan.FromSeconds(10)), "no reply");
        return task.Result;
    }

    private int First(string prefix) => _calls.FindIndex(c => c.StartsWith(prefix, StringComparison.Ordinal));
    private int Last(string prefix) => _calls.FindLastIndex(c => c.StartsWith(prefix, StringComparison.Ordinal));

    [Fact]
    public void Every_pppd_is_started_before_the_EQL_actor_s_first_pass_and_the_routes_come_after_the_master()
    {
        StartWith();
        AdvanceUntilHealthy(TimeSpan.FromSeconds(30));

        Assert.Equal(3, _calls.Count(c => c.StartsWith("pppd", StringComparison.Ordinal)));
        Assert.True(First("eql") > Last("pppd"), $"calls: {string.Join(", ", _calls)}");
        Assert.True(First("routes") > First("eql"), $"calls: {string.Join(", ", _calls)}");
        Assert.True(First("sysctl") > First("eql"), $"calls: {string.Join(", ", _calls)}");
        AssertInvariants();
        Assert.True(StatusOf(_bundle).Ready);
    }

    [Fact]
    public void A_link_that_comes_up_while_another_pppd_is_still_starting_is_enslaved_at_once()
    {
        // Link 2's start takes 8 s (less than the bound on the wait): links 0 and 1 are up long before it launched.
        var slow = new TaskCompletionSource();
        SlowStart held = null!;
        StartWith(inner => held = new SlowStart(inner, link: 2, slow.Task));
        var events = SubscribeEvents();
        ScheduleInVirtualTime(TimeSpan.FromSeconds(8), () => slow.SetResult());

        AdvanceUntil(() => Sim.Slaves.Count == 2, TimeSpan.FromSeconds(7), "links 0 and 1 enslaved while link 2's pppd is still starting");
        Assert.False(slow.Task.IsCompleted);
        Assert.DoesNotContain(_calls, c => c == "pppd 2");
        Assert.True(Sim.Interface(Config.Eql.Device).IsUp);

        AdvanceUntilHealthy(TimeSpan.FromSeconds(30));
        Assert.Equal(Environment.CurrentManagedThreadId, held.ReleasedOnThread);
        AssertInvariants();
        var seen = Drain(events);
        Assert.Equal(3, seen.OfType<SlaveEnslaved>().Count());
        Assert.Single(seen.OfType<BundleReady>());
    }

    [Fact]
    public void With_no_pppd_launched_the_master_and_routes_still_come_up_after_the_bound()
    {
        // Every start hangs (a stuck port call): the links report nothing, yet the master and its routes are not
        // held back for longer than the bound.
        var never = new TaskCompletionSource();
        StartWith(inner => new SlowStart(inner, link: null, never.Task));

        Advance(TimeSpan.FromSeconds(9));
        Assert.DoesNotContain(_calls, c => c == "eql" || c == "routes");
        Assert.False(Sim.Interface(Config.Eql.Device).Exists && Sim.Interface(Config.Eql.Device).IsUp);

        AdvanceUntil(() => Sim.Interface(Config.Eql.Device) is { Exists: true, IsUp: true } && DesiredRoutesOfConfig.All(Sim.Routes.Contains),
            TimeSpan.FromSeconds(3), "the master and the routes");
        Assert.Empty(Sim.Slaves);
    }

    [Fact]
    public void A_stop_before_the_first_passes_tears_down_cleanly_and_a_new_start_brings_everything_up()
    {
        // Link 1's start takes 5 s: the stop comes while the EQL and route actors have not been started yet.
        var slow = new TaskCompletionSource();
        StartWith(inner => new SlowStart(inner, link: 1, slow.Task));
        ScheduleInVirtualTime(TimeSpan.FromSeconds(5), () => slow.SetResult());
        Advance(TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(_calls, c => c == "eql");

        var stopped = _bundle.Ask<BundleStopped>(new StopBundle(), Timeout.InfiniteTimeSpan);
        AdvanceUntil(() => stopped.IsCompleted, TimeSpan.FromMinutes(1), "the stop");
        Assert.Empty(ResultOf(stopped).LinksNotStopped);
        Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(new SimLeaks(0, 0, 0), Sim.Leaks());
        Assert.False(Sim.Interface(Config.Eql.Device).Exists);

        _bundle.Tell(new StartBundle());
        AdvanceUntilHealthy(TimeSpan.FromMinutes(1));
        AssertInvariants();
    }

    /// <summary>The simulated pppd starts, those of <c>link</c> (every link when null) waiting for <c>release</c> first.</summary>
    private sealed class SlowStart(IPppProcesses inner, int? link, Task release) : IPppProcesses
    {
        /// <summary>The thread the held start went on from: the test's own when the wait stayed in virtual time.</summary>
        public int? ReleasedOnThread { get; private set; }

        public async Task<PppProcess> StartAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default)
        {
            if (link is null || launch.Link == link)
            {
                await Inline(release, ct).ConfigureAwait(false);
                ReleasedOnThread = Environment.CurrentManagedThreadId;
            }
            return await inner.StartAsync(launch, events, ct).ConfigureAwait(false);
        }

        // Completes on the thread that releases or cancels it (the clock's callback, inside Advance), where
        // release.WaitAsync(ct) gives no such promise.
        private static Task Inline(Task release, CancellationToken ct)
        {
            var done = new TaskCompletionSource();
            var registration = ct.Register(() => done.TrySetCanceled(ct));
            release.ContinueWith(_ => done.TrySetResult(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            done.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return done.Task;
        }

        public Task<PppProcess?> AdoptAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default) => inner.AdoptAsync(launch, events, ct);
        public Task StopAsync(PppProcess process, TimeSpan grace, CancellationToken ct = default) => inner.StopAsync(process, grace, ct);
        public Task EndConnectionAsync(PppLaunch launch, CancellationToken ct = default) => inner.EndConnectionAsync(launch, ct);
        public Task<bool> ConnectionAnswersAsync(PppLaunch launch, TimeSpan timeout, CancellationToken ct = default) => inner.ConnectionAnswersAsync(launch, timeout, ct);
    }

    private sealed class RecordedPpp(IPppProcesses inner, List<string> calls) : IPppProcesses
    {
        public async Task<PppProcess> StartAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default)
        {
            var process = await inner.StartAsync(launch, events, ct).ConfigureAwait(false);
            calls.Add($"pppd {launch.Link}");
            return process;
        }

        public Task<PppProcess?> AdoptAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default) => inner.AdoptAsync(launch, events, ct);
        public Task StopAsync(PppProcess process, TimeSpan grace, CancellationToken ct = default) => inner.StopAsync(process, grace, ct);
        public Task EndConnectionAsync(PppLaunch launch, CancellationToken ct = default) => inner.EndConnectionAsync(launch, ct);
        public Task<bool> ConnectionAnswersAsync(PppLaunch launch, TimeSpan timeout, CancellationToken ct = default) => inner.ConnectionAnswersAsync(launch, timeout, ct);
    }

    private sealed class RecordedEql(IEqlDriver inner, List<string> calls) : IEqlDriver
    {
        private T Note<T>(T result)
        {
            calls.Add("eql");
            return result;
        }

        public Task EnsureMasterAsync(EqlMasterSpec spec, CancellationToken ct = default) => Note(inner.EnsureMasterAsync(spec, ct));
        public Task<EqlMasterState> GetMasterAsync(string device, CancellationToken ct = default) => Note(inner.GetMasterAsync(device, ct));
        public Task RemoveMasterAsync(string device, CancellationToken ct = default) => inner.RemoveMasterAsync(device, ct);
        public Task EnslaveAsync(string device, string slave, long priority, CancellationToken ct = default) => Note(inner.EnslaveAsync(device, slave, priority, ct));
        public Task EmancipateAsync(string device, string slave, CancellationToken ct = default) => inner.EmancipateAsync(device, slave, ct);
        public Task<EqlSlaveState?> GetSlaveAsync(string device, string slave, CancellationToken ct = default) => Note(inner.GetSlaveAsync(device, slave, ct));
        public Task SetSlavePriorityAsync(string device, string slave, long priority, CancellationToken ct = default) => inner.SetSlavePriorityAsync(device, slave, priority, ct);
    }

    private sealed class RecordedRoutes(IRoutes inner, List<string> calls) : IRoutes
    {
        public Task<IReadOnlyList<Route>> ListAsync(CancellationToken ct = default)
        {
            calls.Add("routes");
            return inner.ListAsync(ct);
        }

        public Task AddAsync(Route route, CancellationToken ct = default) => inner.AddAsync(route, ct);
        public Task DeleteAsync(Route route, CancellationToken ct = default) => inner.DeleteAsync(route, ct);
    }

    private sealed class RecordedSysctl(ISysctl inner, List<string> calls) : ISysctl
    {
        public Task<string?> ReadAsync(string key, CancellationToken ct = default)
        {
            calls.Add("sysctl");
            return inner.ReadAsync(key, ct);
        }

        public Task WriteAsync(string key, string value, CancellationToken ct = default) => inner.WriteAsync(key, value, ct);
    }
}
