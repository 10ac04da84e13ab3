using EqlActors.Actors;

namespace EqlActors.Tests.Actors;

public class ImbalanceDetectorTests
{
    private const long KiB = 1024;

    private static Dictionary<string, long> Tx(params (string Slave, long Bytes)[] counters) => counters.ToDictionary(c => c.Slave, c => c.Bytes);

    [Fact]
    public void Equal_upload_is_balanced_and_its_shares_are_reported()
    {
        var verdict = ImbalanceDetector.Judge(Tx(("ppp0", 0), ("ppp1", 0), ("ppp2", 0)), Tx(("ppp0", 300 * KiB), ("ppp1", 300 * KiB), ("ppp2", 300 * KiB)), 0.2);

        Assert.False(verdict.Imbalanced);
        Assert.All(verdict.Shares.Values, s => Assert.Equal(1 / 3.0, s, 6));
    }

    [Fact]
    public void The_measured_restart_shares_of_priority_1_are_imbalanced()
    {
        // 21.7/56.6/21.7: the driver's measured shares right after a restart with the HOWTO's priority.
        var verdict = ImbalanceDetector.Judge(Tx(("ppp0", 0), ("ppp1", 0), ("ppp2", 0)), Tx(("ppp0", 217 * KiB), ("ppp1", 566 * KiB), ("ppp2", 217 * KiB)), 0.2);

        Assert.True(verdict.Imbalanced);
    }

    [Fact]
    public void Two_slaves_at_43_57_are_judged_against_each_other_not_against_half()
    {
        // 0.13 from the equal share, but 0.25 from the other slave: with a tolerance of 0.2 this is a stall.
        var verdict = ImbalanceDetector.Judge(Tx(("ppp0", 0), ("ppp1", 0)), Tx(("ppp0", 430 * KiB), ("ppp1", 570 * KiB)), 0.2);

        Assert.True(verdict.Imbalanced);
        Assert.Equal(0.43, verdict.Shares["ppp0"], 2);
    }

    [Fact]
    public void A_window_with_too_little_upload_or_other_slaves_is_not_judged()
    {
        var idle = ImbalanceDetector.Judge(Tx(("ppp0", 0), ("ppp1", 0)), Tx(("ppp0", 200 * KiB), ("ppp1", 0)), 0.2);
        var changed = ImbalanceDetector.Judge(Tx(("ppp0", 0), ("ppp1", 0)), Tx(("ppp0", 900 * KiB), ("ppp2", 0)), 0.2);
        var alone = ImbalanceDetector.Judge(Tx(("ppp0", 0)), Tx(("ppp0", 900 * KiB)), 0.2);

        Assert.Same(BalanceVerdict.NothingToJudge, idle);
        Assert.Same(BalanceVerdict.NothingToJudge, changed);
        Assert.Same(BalanceVerdict.NothingToJudge, alone);
    }

    [Fact]
    public void A_counter_that_went_backwards_counts_as_nothing_sent()
    {
        var verdict = ImbalanceDetector.Judge(Tx(("ppp0", 5000 * KiB), ("ppp1", 0)), Tx(("ppp0", 10 * KiB), ("ppp1", 400 * KiB)), 0.2);

        Assert.Equal(0, verdict.Shares["ppp0"]);
        Assert.True(verdict.Imbalanced);
    }

    [Theory]
    [InlineData(0.5, 2, 0.0)]
    [InlineData(0.43, 2, 0.2456)]
    [InlineData(0.566, 3, 1.6083)]
    [InlineData(1.0, 3, double.PositiveInfinity)]
    public void Deviation_is_relative_to_the_mean_of_the_others(double share, int slaves, double expected)
    {
        Assert.Equal(expected, ImbalanceDetector.DeviationFromTheOthers(share, slaves), 3);
    }
}
