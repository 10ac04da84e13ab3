using EqlActors.Configuration;
using EqlActors.Messages;
using EqlActors.Simulation;

namespace EqlActors.Tests.Actors;

/// <summary>The health actor in virtual time: a silent link is restarted, host_B's own LAN trouble is only reported.</summary>
public class HealthTests : BundleSpec
{
    private static BundleConfig Probing(string? remoteLan = "192.168.1.10:80") => new BundleConfig() with
    {
        Health = new HealthConfig
        {
            Enabled = true,
            Interval = TimeSpan.FromSeconds(5),
            Timeout = TimeSpan.FromSeconds(2),
            FailuresBeforeRestart = 3,
            RemoteLanTarget = remoteLan,
        },
    };

    [Fact]
    public void A_link_that_passes_lcp_but_drops_traffic_is_restarted_after_the_configured_failures_and_only_that_link()
    {
        CreateBundle(Probing());
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromSeconds(30));
        Assert.All(Status().Links, l => Assert.True(l.Probe?.Ok, $"link {l.Link}: {l.Probe}"));
        Assert.All(Status().Links, l => Assert.True(l.Counters?.TxPackets > 0, $"link {l.Link} counters {l.Counters}"));
        var events = SubscribeEvents();

        Assert.True(Sim.DropLinkTraffic(1));
        AdvanceUntil(() => Status().Links[1].Failures.GetValueOrDefault(FailureClass.HealthProbe) == 1, TimeSpan.FromMinutes(1), "link 1 restarted by the probe");
        var seen = Drain(events);
        var probeFailures = seen.OfType<LinkProbeFailed>().ToList();
        Assert.Equal(3, probeFailures.Count);
        Assert.All(probeFailures, f => Assert.Equal(1, f.Link));
        Assert.Equal([1, 2, 3], probeFailures.Select(f => f.Failures));
        var down = Assert.Single(seen.OfType<LinkDown>());
        Assert.Equal(1, down.Link);
        Assert.StartsWith(FailureClass.HealthProbeReasonPrefix, down.Reason);
        Assert.False(down.Permanent);

        // The restarted link has a clean interface: it heals and passes again; the others were never touched.
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromSeconds(30));
        var status = Status();
        Assert.True(status.Links[1].Probe?.Ok);
        Assert.Equal(1, status.Links[1].Restarts);
        Assert.Equal(0, status.Links[0].Restarts + status.Links[2].Restarts);
        Assert.Null(status.Stats.RemoteLanVerdict);
        Assert.True(status.Stats.Recoveries >= 1);
    }

    [Fact]
    public void Probes_pause_while_the_bundle_stops_and_resume_when_it_starts_again()
    {
        // Ending each chain takes 20 s: the links are still up (and failing their probes) well into the stop.
        CreateBundle(Probing(remoteLan: null), new SimulationOptions { StopLinger = TimeSpan.FromSeconds(20) });
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromSeconds(30));
        var events = SubscribeEvents();
        var seen = new List<object>();
        Assert.True(Sim.DropLinkTraffic(1));
        AdvanceUntil(() => { seen.AddRange(Drain(events)); return seen.OfType<LinkProbeFailed>().Any(); }, TimeSpan.FromSeconds(30), "link 1's first probe failure");

        StopBundle();
        var duringStop = Drain(events);
        Assert.Empty(duringStop.OfType<LinkProbeFailed>());
        Assert.DoesNotContain(duringStop.OfType<LinkDown>(), d => d.Class == FailureClass.HealthProbe);

        // Started again: the probes run again (link 1's new chain has a clean interface; link 2 is made silent).
        Bundle.Tell(new StartBundle(), Akka.Actor.ActorRefs.NoSender);
        AdvanceUntilHealthy();
        Assert.True(Sim.DropLinkTraffic(2));
        AdvanceUntil(() => Drain(events).OfType<LinkProbeFailed>().Any(f => f.Link == 2), TimeSpan.FromMinutes(1), "link 2's probe failure after the restart");
    }

    [Fact]
    public void A_remote_lan_that_host_b_cannot_reach_is_reported_once_and_restarts_nothing()
    {
        CreateBundle(Probing());
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromSeconds(30));
        Assert.True(Status().Stats.RemoteLan?.Ok);
        var events = SubscribeEvents();

        Sim.SetRemoteLanUnreachable(true);
        Advance(TimeSpan.FromMinutes(2));
        var seen = Drain(events);
        Assert.Single(seen.OfType<RemoteLanUnreachable>());
        Assert.Empty(seen.OfType<LinkDown>());
        Assert.Empty(seen.OfType<LinkProbeFailed>());
        var status = Status();
        Assert.Contains("host_B cannot reach its LAN", status.Stats.RemoteLanVerdict);
        Assert.False(status.Stats.RemoteLan?.Ok);
        Assert.All(status.Links, l => Assert.Equal(0, l.Restarts));

        Sim.SetRemoteLanUnreachable(false);
        Advance(TimeSpan.FromSeconds(10));
        Assert.Null(Status().Stats.RemoteLanVerdict);
    }

    [Fact]
    public void Without_health_enabled_nothing_is_probed_but_counters_are_sampled()
    {
        CreateBundle(new BundleConfig());
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromSeconds(30));
        Assert.True(Sim.DropLinkTraffic(1));
        Advance(TimeSpan.FromMinutes(2));
        var status = Status();
        Assert.All(status.Links, l => Assert.Null(l.Probe));
        Assert.All(status.Links, l => Assert.Equal(0, l.Restarts));
        Assert.All(status.Links, l => Assert.True(l.Counters?.TxBytes > 0));
        Assert.True(status.Stats.ReconcilePasses > 0);
    }
}
