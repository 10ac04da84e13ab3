namespace EqlActors.Messages;

public enum BundlePhase
{
    Stopped,
    Starting,
    Running,
    Stopping,
}

// Commands
/// <summary>Bring the bundle up; links adopt a pppd left running by an earlier daemon before starting new ones.</summary>
/// <param name="TcpReorderingBefore">
/// The value <c>net.ipv4.tcp_reordering</c> had before the host's cold start set it (null: it did not): the route
/// actor puts this one back at stop, not the value it finds.
/// </param>
public sealed record StartBundle(string? TcpReorderingBefore = null);
/// <summary>Tear down in order (routes, slaves, pppd chains, remote slirp, master); answered with <see cref="BundleStopped"/> when done.</summary>
public sealed record StopBundle;

// Queries
public sealed record GetBundleStatus;
/// <summary>
/// A round trip through the bundle and its eql actor, answered with <see cref="Alive"/>: the systemd watchdog is
/// fed only while it comes back. The eql actor is the one that talks to the kernel most often: an effect that
/// never completes there (a hung ioctl) stalls this answer.
/// </summary>
public sealed record CheckAlive;
public sealed record Alive;

// Events
public sealed record BundleStarting(string Bundle, DateTimeOffset At) : IBundleEvent;
/// <summary>Every configured link is enslaved and every configured route is present.</summary>
public sealed record BundleReady(string Bundle, DateTimeOffset At) : IBundleEvent;
/// <summary>The bundle left the ready state; <paramref name="Reason"/> says what is missing.</summary>
public sealed record BundleDegraded(string Bundle, string Reason, DateTimeOffset At) : IBundleEvent;
public sealed record BundleStopped(string Bundle, DateTimeOffset At) : IBundleEvent
{
    /// <summary>Links whose chain end was not confirmed within the stop's bound: their pppd may still run. Usually empty.</summary>
    public IReadOnlyList<int> LinksNotStopped { get; init; } = [];
}

// Status reply
/// <summary>
/// One link in the bundle's status. The one link table: the control protocol serializes it as is (each of
/// <c>status --json</c>'s <c>links[]</c>) and <c>/metrics</c> reads the same records.
/// </summary>
public sealed record LinkStatus(
    int Link,
    LinkPhase Phase,
    int? Pid,
    string? Interface,
    bool Enslaved,
    int Restarts,
    string? LastError,
    long TxBytes,
    double? UploadShare)
{
    /// <summary>Times the link went down, by <see cref="FailureClass"/>; classes that never happened are absent.</summary>
    public IReadOnlyDictionary<string, long> Failures { get; init; } = new Dictionary<string, long>();
    /// <summary>When the link last changed phase (virtual time under the simulation).</summary>
    public DateTimeOffset? LastChange { get; init; }
    /// <summary>Seconds from <see cref="LastChange"/> to the status's own time (<see cref="BundleStatus.At"/>).</summary>
    public double? SecondsSinceChange { get; init; }
    /// <summary>The interface's kernel counters, sampled every reconcile interval while it exists.</summary>
    public LinkCounters? Counters { get; init; }
    /// <summary>The last end-to-end probe through this link (health.enabled only).</summary>
    public ProbeResult? Probe { get; init; }

    /// <summary>When <see cref="LastError"/> was seen.</summary>
    public DateTimeOffset? LastErrorAt { get; init; }

    /// <summary>Its kind, one of <see cref="FailureClass.All"/>: auth-refused, host-key, connection-refused, slirp-attach, hangup, lcp-echo-timeout, ...</summary>
    public string? LastErrorClass { get; init; }
}

/// <summary>
/// Counters of the bundle's own work since the daemon started. Recoveries (degraded to ready again) are also
/// counted per bucket: <see cref="RecoveryBuckets"/>[i] is how many took at most <see cref="RecoveryBucketBounds"/>[i]
/// seconds (cumulative, as a Prometheus histogram; <see cref="Recoveries"/> is the +Inf bucket).
/// </summary>
public sealed record BundleStats(
    long ReconcilePasses,
    long ImbalancesHealed,
    long Recoveries,
    double RecoverySecondsTotal,
    double? LastRecoverySeconds,
    ProbeResult? RemoteLan,
    string? RemoteLanVerdict)
{
    /// <summary>From a quick re-enslave to a slow ssh through jump hosts.</summary>
    public static readonly IReadOnlyList<double> RecoveryBucketBounds = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800];

    public IReadOnlyList<long> RecoveryBuckets { get; init; } = new long[RecoveryBucketBounds.Count];
}

public sealed record MasterStatus(string Device, bool Up);

public sealed record RouteStatus(Route Route, bool Present);

public sealed record BundleStatus(
    string Bundle,
    BundlePhase Phase,
    bool Ready,
    IReadOnlyList<LinkStatus> Links,
    MasterStatus Master,
    IReadOnlyList<RouteStatus> Routes,
    string? TcpReordering,
    DateTimeOffset At)
{
    public BundleStats Stats { get; init; } = new(0, 0, 0, 0, null, null, null);
}
