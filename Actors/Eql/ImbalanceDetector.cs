namespace EqlActors.Actors;

/// <summary>What one balance window of per-slave tx counters says.</summary>
/// <param name="Shares">Each slave's share of the window's upload; empty when there was nothing to judge by.</param>
/// <param name="Imbalanced">Some slave strays from the others by more than the tolerance: re-enslave every slave.</param>
public sealed record BalanceVerdict(IReadOnlyDictionary<string, double> Shares, bool Imbalanced)
{
    public static readonly BalanceVerdict NothingToJudge = new(new Dictionary<string, double>(), false);
}

/// <summary>
/// Upload balance as a pure function of two samples of the slaves' tx_bytes: no actor, no clock, no port.
/// A window is judged only with the same slaves at both ends (at least two) and at least 256 KiB of new upload.
/// </summary>
public static class ImbalanceDetector
{
    /// <summary>Below this much new upload in a window there is nothing to judge balance by (an idle bundle).</summary>
    public const long MinBytesToJudge = 256 * 1024;

    public static BalanceVerdict Judge(IReadOnlyDictionary<string, long> previous, IReadOnlyDictionary<string, long> sample, double tolerance)
    {
        if (sample.Count < 2 || previous.Count != sample.Count || !sample.Keys.All(previous.ContainsKey)) return BalanceVerdict.NothingToJudge;
        // A counter that went backwards (the interface was recreated) carried nothing new.
        var deltas = sample.ToDictionary(kv => kv.Key, kv => Math.Max(0, kv.Value - previous[kv.Key]));
        var total = deltas.Values.Sum();
        if (total < MinBytesToJudge) return BalanceVerdict.NothingToJudge;
        var shares = deltas.ToDictionary(kv => kv.Key, kv => (double)kv.Value / total);
        return new BalanceVerdict(shares, shares.Values.Any(s => DeviationFromTheOthers(s, shares.Count) > tolerance));
    }

    /// <summary>
    /// How far one slave's share is from the mean share of the other slaves, relative to that mean. Not from the
    /// equal share 1/n: the slave's own share is part of that mean, and with two slaves it pulls the mean halfway
    /// to itself, so a stalled slave that still carries the overflow of a full partner (43/57) looked only 0.13
    /// from equal and was never healed.
    /// </summary>
    public static double DeviationFromTheOthers(double share, int slaves)
    {
        var othersMean = (1 - share) / (slaves - 1);
        return othersMean <= 0 ? double.PositiveInfinity : Math.Abs(share / othersMean - 1);
    }
}
