namespace EqlActors.Messages;

/// <summary>Every event a bundle publishes carries the bundle's name and the (possibly virtual) time it happened.</summary>
public interface IBundleEvent
{
    string Bundle { get; }
    DateTimeOffset At { get; }
}

/// <summary>Where a link is in its life. A parked link waits for a configuration change or <see cref="RestartLink"/>.</summary>
public enum LinkPhase
{
    Idle,
    Adopting,
    WaitingForGoAhead,
    Starting,
    Up,
    Stopping,
    BackingOff,
    Parked,
    Stopped,
}

// Commands
/// <summary>
/// Go-ahead for a link that said it is ready. <paramref name="Generation"/>: a clean start, the chain prepares
/// host_B itself (see PppLaunch); null when links were adopted or the link restarts alone.
/// </summary>
public sealed record StartLink(int Link, string? Generation = null);
/// <summary>Stop the link's whole pppd chain and stay idle; answered with <see cref="LinkStopped"/>.</summary>
public sealed record StopLink(int Link);
/// <summary>Explicit restart of one link, the way out of <see cref="LinkPhase.Parked"/>.</summary>
public sealed record RestartLink(int Link);
/// <summary>Explicit restart of every parked link.</summary>
public sealed record RestartParkedLinks;

// Requests from a link to its bundle
/// <summary>A link found nothing to adopt and asks for the go-ahead (sent on every (re)start).</summary>
public sealed record LinkReadyToStart(int Link);

// Events
public sealed record LinkAdopted(string Bundle, int Link, int Pid, string? Interface, DateTimeOffset At) : IBundleEvent;
public sealed record LinkStarting(string Bundle, int Link, int Pid, DateTimeOffset At) : IBundleEvent;
public sealed record LinkUp(string Bundle, int Link, int Pid, string Interface, DateTimeOffset At) : IBundleEvent;
/// <summary>The link's chain is gone or going; <paramref name="Permanent"/>: retrying cannot help.</summary>
public sealed record LinkDown(string Bundle, int Link, string Reason, bool Permanent, DateTimeOffset At) : IBundleEvent
{
    /// <summary>What kind of cause (auth-refused, connection-refused, slirp-attach, hangup, ...): one of FailureClass.All.</summary>
    public string Class { get; init; } = FailureClass.Other;
}
/// <summary>
/// host_B's own words for a link's last failure (the remote side's error file), read after a failure whose local
/// words only said that the remote command ended.
/// </summary>
public sealed record LinkDiagnosed(string Bundle, int Link, string Reason, bool Permanent, string Class, DateTimeOffset At) : IBundleEvent;
/// <summary>The link will not be retried until a configuration change or <see cref="RestartLink"/>.</summary>
public sealed record LinkParked(string Bundle, int Link, string Reason, DateTimeOffset At) : IBundleEvent;
public sealed record LinkStopped(string Bundle, int Link, DateTimeOffset At) : IBundleEvent;

// Between the bundle and its link supervisor
public sealed record StartLinks;
public sealed record StopLinks;
/// <summary>Every link actor is gone; <paramref name="NotStopped"/>: links whose chain end was not confirmed in time.</summary>
public sealed record LinksStopped(IReadOnlyList<int> NotStopped);

// Between a link actor and its backoff supervisor
/// <summary>The attempt failed and its chain is already stopped; the link actor stops itself right after.</summary>
/// <paramref name="Class"/>: one of <see cref="FailureClass.All"/>, so that the backoff knows whether a hop check can cut it short.
/// <see cref="FailedAt"/>: when the failure was seen, before the chain was stopped; the backoff counts from then.
public sealed record LinkAttemptFailed(int Link, string Reason, string Class = FailureClass.Other)
{
    public DateTimeOffset? FailedAt { get; init; }
}
/// <summary>The link came up: the next failure starts the backoff from its minimum again.</summary>
public sealed record ResetBackoff;
