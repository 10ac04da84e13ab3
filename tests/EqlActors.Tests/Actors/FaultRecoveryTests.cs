using Akka.Actor;
using EqlActors.Actors;
using EqlActors.Messages;
using EqlActors.Ports;
using EqlActors.Simulation;

namespace EqlActors.Tests.Actors;

/// <summary>Each fault kind, then the invariants: every link enslaved once, exactly the routes, no orphan process.</summary>
public class FaultRecoveryTests : BundleSpec
{
    public static TheoryData<FaultKind> TransientFaults() => [.. Enum.GetValues<FaultKind>().Where(k => k != FaultKind.AuthenticationRefused)];

    [Theory]
    [MemberData(nameof(TransientFaults))]
    public void Every_transient_fault_heals_to_the_invariants(FaultKind kind)
    {
        CreateBundle();
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromMinutes(1));
        var route = DesiredRoutesOfConfig[^1];

        // The same dispatch as the simulate verb and the daemon's simulate-fault: a kind it does not apply fails here.
        var applied = Sim.Inject(kind, 1, route, unreachableFor: TimeSpan.FromSeconds(40));
        Assert.True(applied);
        if (kind == FaultKind.RemoteUnreachable)
        {
            // Links die of LCP echo timeouts while host_B is away; the bundle is whole again once it is back.
            Advance(TimeSpan.FromSeconds(20));
            Assert.NotNull(Sim.Unhealthy(DesiredRoutesOfConfig));
        }
        else
        {
            Assert.NotNull(Sim.Unhealthy(DesiredRoutesOfConfig));
        }

        var took = AdvanceUntilHealthy(TimeSpan.FromMinutes(3));

        AssertInvariants();
        // And it stays whole: nothing keeps restarting behind the invariants' back.
        var starts = Sim.PppStarts.Count;
        Advance(TimeSpan.FromMinutes(2));
        AssertInvariants();
        Assert.Equal(starts, Sim.PppStarts.Count);
        Assert.True(Status().Ready, $"{kind}: status not ready after healing in {took}");
    }

    [Fact]
    public void A_killed_pppd_leaves_its_ssh_which_the_link_kills_before_starting_anew()
    {
        CreateBundle();
        AdvanceUntilHealthy();
        var before = Sim.Processes.Where(p => p.Link == 1 && !p.OnRemote).ToList();

        Sim.InjectPppdExit(1, PppExitCodes.Signal);
        // pppd is gone, its ssh is not: the remote unit stays attached (docs/facts.md: every restart would fail exit 16).
        Assert.Contains(Sim.Processes, p => p.Link == 1 && p.Kind == SimProcessKind.Ssh && before.Contains(p));
        Advance(TimeSpan.FromSeconds(1));

        Assert.DoesNotContain(Sim.Processes, p => before.Contains(p));
        AdvanceUntilHealthy();
        AssertInvariants();
        // The first new attempt succeeded: the old chain was gone before it started.
        Assert.Equal(4, Sim.PppStarts.Count);
    }

    [Fact]
    public void With_stock_slirp_losing_any_link_drops_link_0_too_and_both_heal()
    {
        var events = SubscribeEvents();
        CreateBundle(options: new SimulationOptions { Slirp = SlirpBuild.Stock });
        AdvanceUntilHealthy();
        Drain(events);

        Sim.InjectPppdExit(2, PppExitCodes.Signal);
        AdvanceUntilHealthy();

        var downs = Drain(events).OfType<LinkDown>().ToList();
        Assert.Contains(downs, d => d.Link == 2);
        Assert.Contains(downs, d => d.Link == 0 && d.Reason.Contains("while pppd kept running"));
        AssertInvariants();
    }

    [Fact]
    public void Authentication_refused_parks_the_link_without_retrying_until_an_explicit_restart()
    {
        var events = SubscribeEvents();
        CreateBundle();
        AdvanceUntilHealthy();
        Drain(events);

        Sim.RefuseAuthentication();
        Sim.DropSsh(1);
        AdvanceUntil(() => Status().Links.Single(l => l.Link == 1).Phase == LinkPhase.Parked, TimeSpan.FromMinutes(1), "link 1 parked");
        var parked = Drain(events).OfType<LinkParked>().Single();
        Assert.Contains("Permission denied", parked.Reason);
        var starts = Sim.PppStarts.Count;

        // An hour: not a single retry storms host_B's sshd while the key is refused.
        Advance(TimeSpan.FromHours(1));
        Assert.Equal(starts, Sim.PppStarts.Count);
        var status = Status().Links.Single(l => l.Link == 1);
        Assert.Equal(LinkPhase.Parked, status.Phase);
        Assert.Contains("Permission denied", status.LastError);

        // The operator fixes the key on host_B and restarts the link.
        Sim.AcceptAuthentication();
        Bundle.Tell(new RestartLink(1));
        AdvanceUntilHealthy(TimeSpan.FromMinutes(1));
        AssertInvariants();
    }

    [Fact]
    public void A_refused_attach_locks_the_unit_out_and_the_link_still_comes_back()
    {
        CreateBundle();
        AdvanceUntilHealthy();
        // host_B drops off long enough for LCP to give up; the dead sessions hold the units until it is back.
        Sim.MakeRemoteUnreachable(TimeSpan.FromSeconds(60));
        var broke = AdvanceUntil(() => Sim.Unhealthy(DesiredRoutesOfConfig) is not null, TimeSpan.FromSeconds(30), "LCP echo timeouts");

        var took = broke + AdvanceUntilHealthy(TimeSpan.FromMinutes(5));

        Assert.True(took >= TimeSpan.FromSeconds(60), $"healthy after {took}, while host_B was still unreachable");
        AssertInvariants();
    }

    [Fact]
    public void A_remote_slirp_that_cannot_serve_the_links_is_reported_once_and_its_missing_units_are_parked()
    {
        var events = SubscribeEvents();
        CreateBundle(start: false);
        Sim.UseSingleUnitSlirp(true);
        Bundle.Tell(new StartBundle());

        Advance(TimeSpan.FromMinutes(10));

        // Links start at once (no preparation gates them); the units slirp lacks refuse their attach, permanently,
        // and the probe that runs at the first failure says why once.
        var failures = Drain(events).OfType<RemotePreparationFailed>().ToList();
        var failure = Assert.Single(failures);
        Assert.True(failure.Permanent);
        Assert.Contains("MAX_INTERFACES=1", failure.Reason);
        Assert.Equal([0, 1, 2], Sim.PppStarts.Select(s => s.Link).Order());
        Assert.All(Status().Links.Where(l => l.Link > 0), l =>
        {
            Assert.Equal(LinkPhase.Parked, l.Phase);
            Assert.Contains("out of range", l.LastError);
        });

        // slirp rebuilt multi-unit on host_B, then the explicit restart.
        Sim.UseSingleUnitSlirp(false);
        Bundle.Tell(new RestartParkedLinks());
        AdvanceUntilHealthy();
        AssertInvariants();
    }

    [Fact]
    public void Interface_reads_that_never_answer_time_out_and_the_link_still_heals()
    {
        CreateBundle();
        AdvanceUntilHealthy();

        // The reads that would notice the link going down hang: each costs its timeout, not the link.
        Sim.HangInterfaceReads(3);
        Assert.True(Sim.TakeLinkDown(1));
        Advance(TimeSpan.FromSeconds(10));
        Assert.True(Status().Links.Count == 3, "the bundle answers status while its link actors wait");

        AdvanceUntilHealthy(TimeSpan.FromMinutes(3));
        AssertInvariants();
    }
    [Fact]
    public void A_failed_link_is_released_from_eql_before_the_pass_looks_at_the_master_or_the_other_slaves()
    {
        // The driver's reference is what a dying pppN waits for, and each ioctl of the pass waits for the kernel's
        // RTNL meanwhile: the release must not queue behind the looks at the master and at the links still up.
        var calls = new List<string>();
        // No reconcile tick of its own between the fault and the release: the pass seen is the failure's.
        CreateWorld(new EqlActors.Configuration.BundleConfig { Supervision = new EqlActors.Configuration.SupervisionConfig { ReconcileInterval = TimeSpan.FromMinutes(2) } });
        var ports = Sim.Ports with { Eql = new RecordedEql(Sim.Ports.Eql, calls) };
        var bundle = Root.CreateChild(EqlActors.Actors.EqlBundle.Props(Config, ports, new BundleOptions("bundle", SimulationHosting.Dispatcher, new Random(1))), "bundle");
        bundle.Tell(new StartBundle());
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromSeconds(10));
        calls.Clear();

        Assert.True(Sim.InjectPppdOutput(1, LinkActor.ModemHangup));
        AdvanceUntil(() => calls.Contains("emancipate ppp1"), TimeSpan.FromSeconds(5), "ppp1 released");

        Assert.Equal("emancipate ppp1", calls[0]);
        AdvanceUntilHealthy(TimeSpan.FromMinutes(1));
    }

    private sealed class RecordedEql(IEqlDriver inner, List<string> calls) : IEqlDriver
    {
        private T Note<T>(string call, T result)
        {
            calls.Add(call);
            return result;
        }

        public Task EnsureMasterAsync(EqlMasterSpec spec, CancellationToken ct = default) => Note("ensure", inner.EnsureMasterAsync(spec, ct));
        public Task<EqlMasterState> GetMasterAsync(string device, CancellationToken ct = default) => Note("master", inner.GetMasterAsync(device, ct));
        public Task RemoveMasterAsync(string device, CancellationToken ct = default) => inner.RemoveMasterAsync(device, ct);
        public Task EnslaveAsync(string device, string slave, long priority, CancellationToken ct = default) => Note($"enslave {slave}", inner.EnslaveAsync(device, slave, priority, ct));
        public Task EmancipateAsync(string device, string slave, CancellationToken ct = default) => Note($"emancipate {slave}", inner.EmancipateAsync(device, slave, ct));
        public Task<EqlSlaveState?> GetSlaveAsync(string device, string slave, CancellationToken ct = default) => Note($"slave {slave}", inner.GetSlaveAsync(device, slave, ct));
        public Task SetSlavePriorityAsync(string device, string slave, long priority, CancellationToken ct = default) => Note($"priority {slave}", inner.SetSlavePriorityAsync(device, slave, priority, ct));
    }
}
