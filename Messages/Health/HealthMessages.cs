namespace EqlActors.Messages;

/// <summary>A link interface's kernel counters at one moment.</summary>
public sealed record LinkCounters(long TxBytes, long RxBytes, long TxPackets, long RxPackets);

/// <summary>
/// One end-to-end probe: an ICMP echo sent out through one link (or, for the remote LAN, a TCP connect through the
/// bundle). <see cref="Ok"/>: the path carried traffic both ways (a refused connection counts: the RST came back).
/// <see cref="RttSeconds"/>: the echo's round trip, or the connect time.
/// </summary>
public sealed record ProbeResult(bool Ok, double? RttSeconds, string Detail, DateTimeOffset At);

// Between the bundle and its health actor
/// <summary>What the health actor last observed: counters and probe results per link, and the remote LAN's verdict.</summary>
public sealed record HealthObserved(
    IReadOnlyDictionary<int, LinkCounters> Counters,
    IReadOnlyDictionary<int, ProbeResult> LinkProbes,
    ProbeResult? RemoteLan,
    string? RemoteLanVerdict);

/// <summary>From the health actor: the link passes LCP but carries no traffic; restart it.</summary>
public sealed record LinkUnhealthy(int Link, string Reason);

/// <summary>
/// Stop probing until <see cref="ResumeProbes"/>: the bundle is stopping, and its links go down on purpose (a probe
/// that fails then is no reason to restart anything).
/// </summary>
public sealed record PauseProbes;
/// <summary>Probe again: the bundle starts.</summary>
public sealed record ResumeProbes;

/// <summary>Restart a link that is running (not parked): its chain is stopped and started again.</summary>
public sealed record RecycleLink(int Link, string Reason);

// Events
/// <summary>A link's end-to-end probe failed <paramref name="Failures"/> times in a row.</summary>
public sealed record LinkProbeFailed(string Bundle, int Link, string Reason, int Failures, DateTimeOffset At) : IBundleEvent;
/// <summary>The remote LAN target does not answer through the bundle although host_B answers over every link: host_B's side.</summary>
public sealed record RemoteLanUnreachable(string Bundle, string Target, string Reason, DateTimeOffset At) : IBundleEvent;
/// <summary>The bundle is ready again after it was degraded; <paramref name="Took"/> is the time it was degraded.</summary>
public sealed record BundleRecovered(string Bundle, TimeSpan Took, DateTimeOffset At) : IBundleEvent;

/// <summary>The <c>host:port</c> form of health targets (validated by the configuration).</summary>
public static class HealthTargets
{
    public static (string Host, int Port) Split(string target)
    {
        var colon = target.LastIndexOf(':');
        return (target[..colon].Trim('[', ']'), int.Parse(target[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}
