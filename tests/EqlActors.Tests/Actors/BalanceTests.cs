using EqlActors.Configuration;
using EqlActors.Messages;

namespace EqlActors.Tests.Actors;

/// <summary>docs/facts.md, "EQL priority and balance": upload shares right after a link restart, per EQL priority.</summary>
public class BalanceTests : BundleSpec
{
    private Dictionary<string, double> SharesOver(TimeSpan window)
    {
        var names = Sim.Slaves.Select(s => s.Name).ToList();
        var before = names.ToDictionary(n => n, n => Sim.Interface(n).TxBytes);
        Advance(window);
        var deltas = names.ToDictionary(n => n, n => Sim.Interface(n).TxBytes - before[n]);
        var total = (double)deltas.Values.Sum();
        Assert.True(total > 0, "no upload at all");
        return deltas.ToDictionary(kv => kv.Key, kv => kv.Value / total);
    }

    private void RunLongThenRestartLink1()
    {
        AdvanceUntilHealthy();
        // A long-lived bundle: with priority 1 every slave's queue counter has grown for ten minutes.
        Advance(TimeSpan.FromMinutes(10));
        Sim.InjectPppdExit(1, PppExitCodes.Hangup);
        AdvanceUntilHealthy();
    }

    [Fact]
    public void With_the_default_priority_upload_is_balanced_right_after_a_link_restart()
    {
        CreateBundle();
        RunLongThenRestartLink1();

        var shares = SharesOver(TimeSpan.FromSeconds(25));

        Assert.Equal(3, shares.Count);
        Assert.All(shares.Values, s => Assert.InRange(s * 3, 0.85, 1.15));
    }

    [Fact]
    public void With_the_HOWTOs_priority_1_a_restarted_link_takes_most_upload_until_the_actor_rebalances()
    {
        var events = SubscribeEvents();
        CreateBundle(new BundleConfig { Eql = new EqlConfig { Priority = 1 } });
        RunLongThenRestartLink1();
        Drain(events);

        // Measured on the real driver: 21.7/56.6/21.7. The re-enslaved slave's counter starts at 0 and never decays.
        var shares = SharesOver(TimeSpan.FromSeconds(25));
        Assert.InRange(shares["ppp1"], 0.5, 0.65);
        Assert.InRange(shares["ppp0"], 0.15, 0.3);
        Assert.InRange(shares["ppp2"], 0.15, 0.3);
        Assert.Contains(shares.Values, s => Math.Abs(s * 3 - 1) > 0.15);

        // The EQL actor sees it in its per-slave counters and re-enslaves every slave: equal counters, equal shares.
        AdvanceUntil(() => Drain(events).OfType<UploadRebalanced>().Any(), TimeSpan.FromMinutes(2), "a rebalance");
        var healed = SharesOver(TimeSpan.FromSeconds(25));
        Assert.All(healed.Values, s => Assert.InRange(s * 3, 0.85, 1.15));
        AssertInvariants();
    }

    [Fact]
    public void A_slave_that_stops_carrying_upload_is_detected_and_re_enslaved()
    {
        var events = SubscribeEvents();
        CreateBundle();
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromMinutes(1));
        Drain(events);

        Sim.StallSlave(2);
        Assert.InRange(SharesOver(TimeSpan.FromSeconds(5))["ppp2"], 0, 0.01);

        AdvanceUntilHealthy(TimeSpan.FromMinutes(2));
        var seen = Drain(events);
        var imbalance = seen.OfType<UploadImbalanced>().First();
        Assert.True(imbalance.Shares["ppp2"] < 0.05);
        Assert.Contains(seen, m => m is UploadRebalanced);
        Assert.All(SharesOver(TimeSpan.FromSeconds(25)).Values, s => Assert.InRange(s * 3, 0.85, 1.15));
        var status = Status();
        Assert.All(status.Links, l => Assert.NotNull(l.UploadShare));
    }
    [Fact]
    public void In_a_two_link_bundle_a_stalled_slave_is_detected_although_it_still_carries_the_overflow()
    {
        var events = SubscribeEvents();
        CreateBundle(new BundleConfig { Links = [0, 1] });
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromMinutes(1));
        Drain(events);

        Sim.StallSlave(0);
        // The driver never picks ppp0 while ppp1 has room; ppp1 is full at 170 of the 300 KB/s offered, so ppp0
        // still carries the rest: 43/57, only 0.13 from an equal share each, yet a stall all the same.
        var stalled = SharesOver(TimeSpan.FromSeconds(25));
        Assert.InRange(stalled["ppp0"], 0.4, 0.47);

        AdvanceUntilHealthy(TimeSpan.FromMinutes(2));
        var seen = Drain(events);
        Assert.Contains(seen, m => m is UploadImbalanced);
        Assert.Contains(seen, m => m is UploadRebalanced);
        Assert.All(SharesOver(TimeSpan.FromSeconds(25)).Values, s => Assert.InRange(s * 2, 0.9, 1.1));
        AssertInvariants();
    }
}
