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
public sealed record StartBundle;
/// <summary>Tear down in order (routes, slaves, pppd chains, remote slirp, master); answered with <see cref="BundleStopped"/> when done.</summary>
public sealed record StopBundle;

// Queries
public sealed record GetBundleStatus;

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
    /// <summary>When <see cref="LastError"/> was seen.</summary>
    public DateTimeOffset? LastErrorAt { get; init; }

    /// <summary>The kind of <see cref="LastError"/>: auth-refused, connection-refused, slirp-attach, lcp-echo, ...</summary>
    public string? LastErrorClass { get; init; }
}

public sealed record MasterStatus(string Device, bool Up);

public sealed record RouteStatus(RouteSpec Route, bool Present);

public sealed record BundleStatus(
    string Bundle,
    BundlePhase Phase,
    bool Ready,
    IReadOnlyList<LinkStatus> Links,
    MasterStatus Master,
    IReadOnlyList<RouteStatus> Routes,
    string? TcpReordering,
    DateTimeOffset At);
