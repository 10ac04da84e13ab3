using Akka.Actor;
using Akka.Event;
using EqlActors.Messages;

namespace EqlActors.Actors;

/// <summary>
/// The backoff supervisor of one link (<c>link-N</c>, child <c>pppd</c>). Its own rather than Akka's
/// <c>BackoffSupervisor</c> for three reasons: the jitter comes from the bundle's random source, so a seeded
/// simulation replays exactly (Akka's uses an unseeded thread-local one); "at most maxRestarts restarts within
/// restartWindow" is counted over a sliding window of failure times (Akka's restart count is reset by a manual
/// reset, which turns the limit into "N consecutive failures"); and the stop is a state, not a message that a
/// failing child can take down with its stash.
/// </summary>
/// <remarks>
/// A link actor never throws to end an attempt: it stops its chain, tells <see cref="LinkAttemptFailed"/> and
/// stops itself. Its termination then means one of two things. While running, a new attempt after
/// min(max, min * 2^n) * (1 + random * randomFactor), n failures since the link last came up; or parked when the
/// failures within the window exceed maxRestarts. While stopping (after <see cref="StopLink"/>), the end of this
/// supervisor: its <c>Terminated</c> is the stop confirmation the link supervisor waits for, and it comes only
/// after the child ended its chain, whichever way (stop or failure) it got there.
/// </remarks>
public sealed class LinkBackoff : PortActor
{
    private sealed record RestartDue;
    private sealed record HopCheckDue : ICoalesced;

    /// <summary>
    /// A backoff at least this long, after a failure to reach a hop, is watched: every <see cref="HopCheckInterval"/>
    /// the hop's ssh port is asked (<see cref="Ports.IRemoteHost.HopAnswersAsync"/>, within
    /// <see cref="HopCheckTimeout"/>), and once it answers after it did not, the link retries at once instead of
    /// waiting out up to the backoff cap (30 s) after an outage ends.
    /// </summary>
    public static readonly TimeSpan HopCheckMinDelay = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan HopCheckInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan HopCheckTimeout = TimeSpan.FromSeconds(2);

    private readonly BundleContext _ctx;
    private readonly int _link;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Queue<DateTimeOffset> _failures = new();
    private int _sinceUp;
    private IActorRef? _child;
    private string? _reported;
    private string? _reportedClass;
    private DateTimeOffset? _failedAt;
    private string? _crashed;
    private Configuration.SshEndpoint? _hop;
    private bool _hopWasDown;

    public LinkBackoff(BundleContext ctx, int link)
    {
        _ctx = ctx;
        _link = link;
        StartChild();
    }

    public static Props Props(BundleContext ctx, int link) => ctx.Apply(Akka.Actor.Props.Create(() => new LinkBackoff(ctx, link)));

    /// <summary>Akka's formula (<c>BackoffSupervisor.CalculateDelay</c>) with the random sample passed in.</summary>
    public static TimeSpan Delay(int failuresSinceUp, TimeSpan min, TimeSpan max, double randomFactor, double sample)
    {
        var exponent = Math.Min(failuresSinceUp, 30);
        var capped = Math.Min(max.Ticks, min.Ticks * Math.Pow(2, exponent));
        return TimeSpan.FromTicks((long)(capped * (1 + sample * randomFactor)));
    }

    /// <summary>
    /// The backoff counts from when the failure was seen, not from when the old chain was gone: stopping it (pppd's
    /// SIGTERM, its ip-down, the wait for every member; a second or two in the guest) already spaced the attempts.
    /// A child that ended without saying when it failed gets the whole delay.
    /// </summary>
    public static TimeSpan Remaining(TimeSpan delay, DateTimeOffset? failedAt, DateTimeOffset now)
    {
        if (failedAt is not { } at || now <= at) return delay;
        var left = delay - (now - at);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>A child that throws is stopped, not restarted in place: its next attempt is a fresh actor after the backoff.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(ex =>
    {
        _log.Error(ex, "Link {Link}: the link actor failed", _link);
        _crashed = $"link actor failed: {ex.Message}";
        return Directive.Stop;
    }, loggingEnabled: false);

    private void StartChild()
    {
        _reported = null;
        _reportedClass = null;
        _failedAt = null;
        _crashed = null;
        // (null while the constructor starts the first child: Akka sets the timers after construction)
        Timers?.Cancel("hop-check");
        _child = Context.ActorOf(LinkActor.Props(_ctx, _link), "pppd");
        Context.Watch(_child);
        Become(Running);
    }

    private void Running()
    {
        Receive<LinkAttemptFailed>(m =>
        {
            _reported = m.Reason;
            _reportedClass = m.Class;
            _failedAt = m.FailedAt;
        });
        Receive<ResetBackoff>(_ => _sinceUp = 0);
        Receive<Terminated>(m => m.ActorRef.Equals(_child), _ => ChildEnded());
        Receive<StopLink>(m =>
        {
            _child!.Tell(m);
            Become(Stopping);
        });
        Receive<RestartLink>(m => _child!.Tell(m));
        Receive<RecycleLink>(m => _child!.Tell(m));
    }

    private void ChildEnded()
    {
        _child = null;
        var reason = _reported ?? _crashed ?? "link actor stopped without a reason";
        if (_reported is null)
        {
            // The actor did not end its attempt the normal way, so nobody told the bundle. Its chain, if any, is
            // adopted by the next attempt.
            _log.Warning("Link {Link}: {Reason}", _link, reason);
            _ctx.Bundle.Tell(new LinkDown(_ctx.Name, _link, reason, false, Now));
        }
        var s = _ctx.Config.Supervision;
        var now = Now;
        _failures.Enqueue(now);
        while (_failures.Count > 0 && now - _failures.Peek() > s.RestartWindow) _failures.Dequeue();
        if (s.MaxRestarts > 0 && _failures.Count > s.MaxRestarts)
        {
            var why = $"gave up after {s.MaxRestarts} restarts within {s.RestartWindow}; last: {reason}";
            _log.Error("Link {Link} parked: {Reason}", _link, why);
            _ctx.Bundle.Tell(new LinkParked(_ctx.Name, _link, why, now));
            Become(Parked);
            return;
        }
        var delay = Remaining(Delay(_sinceUp++, s.MinBackoff, s.MaxBackoff, s.RandomFactor, _ctx.Random.NextDouble()), _failedAt, now);
        _log.Info("Link {Link}: next attempt in {Delay}", _link, delay);
        Timers.StartSingleTimer("restart", new RestartDue(), delay);
        _hop = delay >= HopCheckMinDelay && _reportedClass is { } cls && _reported is { } said ? FailureReasons.HopToCheck(cls, said, _ctx.Config.Remote) : null;
        _hopWasDown = false;
        if (_hop is not null) Timers.StartPeriodicTimer("hop-check", new HopCheckDue(), HopCheckInterval);
        Become(BackingOff);
    }

    private void BackingOff()
    {
        Receive<RestartDue>(_ => StartChild());
        Receive<HopCheckDue>(_ => CheckHop());
        Receive<RestartLink>(_ =>
        {
            Timers.Cancel("restart");
            _sinceUp = 0;
            StartChild();
        });
        // Restarting already.
        Receive<RecycleLink>(_ => { });
        Receive<StopLink>(_ => Context.Stop(Self));
    }

    /// <summary>Retry now if the hop that could not be reached answers again; a hop that never stopped answering changes nothing.</summary>
    private void CheckHop()
    {
        if (_hop is not { } hop) return;
        RunPort(ct => _ctx.Ports.Remote.HopAnswersAsync(hop, HopCheckTimeout, ct), answers =>
        {
            // Stopped or restarted meanwhile: the check is stale.
            if (_child is not null || !Timers.IsTimerActive("restart")) return;
            if (!answers)
            {
                _hopWasDown = true;
                return;
            }
            if (!_hopWasDown) return;
            _log.Info("Link {Link}: {Hop} answers again; retrying now instead of after the backoff", _link, hop);
            Timers.Cancel("restart");
            StartChild();
        }, _ => _hopWasDown = true, HopCheckTimeout + TimeSpan.FromSeconds(1));
    }

    private void Parked()
    {
        Receive<RestartLink>(_ => Unpark());
        Receive<RecycleLink>(_ => Unpark());
        Receive<StopLink>(_ => Context.Stop(Self));
    }

    private void Unpark()
    {
        _failures.Clear();
        _sinceUp = 0;
        StartChild();
    }

    /// <summary>The child is ending its chain; its termination, after a stop or a failure alike, ends this supervisor.</summary>
    private void Stopping()
    {
        Receive<Terminated>(m => m.ActorRef.Equals(_child), _ => Context.Stop(Self));
        Receive<LinkAttemptFailed>(_ => { });
        Receive<ResetBackoff>(_ => { });
        Receive<StopLink>(_ => { });
        Receive<RestartLink>(_ => { });
        Receive<RecycleLink>(_ => { });
    }
}
