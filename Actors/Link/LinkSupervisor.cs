using Akka.Actor;
using Akka.Event;
using Akka.Pattern;
using EqlActors.Messages;

namespace EqlActors.Actors;

/// <summary>
/// One Akka backoff supervisor per link (<c>link-N</c>, child <c>pppd</c>), with the configuration's min/max backoff
/// and random factor. A link that exhausts MaxRestarts within RestartWindow stops its supervisor: it is parked
/// until <see cref="RestartLink"/>. Stop asks every link to end its chain before any actor goes, then stops every
/// supervisor and answers once all of them terminated.
/// </summary>
/// <remarks>
/// A stop request can be lost: a link actor that is ending a failed chain has it in its stash when it throws, and
/// the backoff supervisor stops (does not restart) a failed child, so the stash goes with it. Hence the request is
/// repeated every second to the links that have not answered (between attempts the backoff supervisor answers
/// <see cref="LinkNotRunning"/>), and the whole stop is bounded: past the deadline it completes anyway and names
/// the links it could not confirm.
/// </remarks>
public sealed class LinkSupervisor : ReceiveActor, IWithTimers
{
    private sealed record RepeatStop;
    private sealed record StopDeadline;

    private static readonly TimeSpan RepeatStopEvery = TimeSpan.FromSeconds(1);

    private readonly BundleContext _ctx;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<int, IActorRef> _links = [];
    private readonly HashSet<int> _pendingStops = [];
    private readonly Dictionary<IActorRef, int> _terminating = [];
    private readonly List<IActorRef> _stopRequesters = [];
    private readonly List<int> _notStopped = [];
    private bool _stopping;

    public ITimerScheduler Timers { get; set; } = null!;

    public LinkSupervisor(BundleContext ctx)
    {
        _ctx = ctx;
        Receive<StartLinks>(_ =>
        {
            if (_stopping) return;
            foreach (var link in _ctx.Config.EffectiveLinks) EnsureLink(link);
        });
        Receive<RestartLink>(m =>
        {
            if (_stopping) return;
            if (_links.TryGetValue(m.Link, out var supervisor)) supervisor.Tell(m);
            else if (_ctx.Config.EffectiveLinks.Contains(m.Link)) EnsureLink(m.Link);
        });
        Receive<RecycleLink>(m =>
        {
            if (!_stopping && _links.TryGetValue(m.Link, out var supervisor)) supervisor.Tell(m);
        });
        Receive<RestartParkedLinks>(_ =>
        {
            foreach (var link in _ctx.Config.EffectiveLinks) Self.Tell(new RestartLink(link));
        });
        Receive<StopLinks>(_ => StopAll(Sender));
        Receive<LinkStopped>(m => LinkDone(m.Link));
        Receive<LinkNotRunning>(_ =>
        {
            if (LinkOf(Sender) is { } link) LinkDone(link);
        });
        Receive<RepeatStop>(_ =>
        {
            foreach (var link in _pendingStops)
                if (_links.TryGetValue(link, out var supervisor)) supervisor.Tell(new StopLink(link));
        });
        Receive<StopDeadline>(_ => GiveUpWaiting());
        Receive<Terminated>(m => OnTerminated(m.ActorRef));
    }

    public static Props Props(BundleContext ctx) => ctx.Apply(Akka.Actor.Props.Create(() => new LinkSupervisor(ctx)));

    /// <summary>Time for a link to end a failed chain and then its current one, each within the stop grace.</summary>
    private TimeSpan StopTimeout => _ctx.Config.Supervision.StopGrace * 2 + TimeSpan.FromSeconds(10);

    private void EnsureLink(int link)
    {
        if (_links.ContainsKey(link)) return;
        var s = _ctx.Config.Supervision;
        var unlimited = s.MaxRestarts <= 0;
        var strategy = new OneForOneStrategy(
            unlimited ? -1 : s.MaxRestarts,
            unlimited ? -1 : (int)s.RestartWindow.TotalMilliseconds,
            _ => Directive.Restart,
            loggingEnabled: false);
        var options = Backoff.OnFailure(LinkActor.Props(_ctx, link), "pppd", s.MinBackoff, s.MaxBackoff, s.RandomFactor, unlimited ? -1 : s.MaxRestarts)
            .WithManualReset()
            .WithSupervisorStrategy(strategy)
            .WithReplyWhileStopped(new LinkNotRunning());
        var supervisor = Context.ActorOf(_ctx.Apply(BackoffSupervisor.Props(options)), $"link-{link}");
        Context.Watch(supervisor);
        _links[link] = supervisor;
    }

    private void StopAll(IActorRef requester)
    {
        _stopRequesters.Add(requester);
        if (_stopping) return;
        _stopping = true;
        _notStopped.Clear();
        foreach (var (link, supervisor) in _links)
        {
            _pendingStops.Add(link);
            supervisor.Tell(new StopLink(link));
        }
        Timers.StartPeriodicTimer("repeat-stop", new RepeatStop(), RepeatStopEvery);
        Timers.StartSingleTimer("stop-deadline", new StopDeadline(), StopTimeout);
        if (_pendingStops.Count == 0) StopSupervisors();
    }

    private void LinkDone(int link)
    {
        if (!_pendingStops.Remove(link) || _pendingStops.Count > 0) return;
        StopSupervisors();
    }

    /// <summary>Every chain is ended: stop the supervisors (no backoff may start a link again) and wait until they are gone.</summary>
    private void StopSupervisors()
    {
        Timers.Cancel("repeat-stop");
        foreach (var (link, supervisor) in _links)
        {
            _terminating[supervisor] = link;
            Context.Stop(supervisor);
        }
        _links.Clear();
        if (_terminating.Count == 0) Finish();
    }

    private void OnTerminated(IActorRef actor)
    {
        if (_terminating.Remove(actor))
        {
            if (_stopping && _terminating.Count == 0 && _pendingStops.Count == 0) Finish();
            return;
        }
        if (LinkOf(actor) is not { } link) return;
        _links.Remove(link);
        if (_stopping)
        {
            // A supervisor that gave up while stopping has nothing left to stop.
            LinkDone(link);
            return;
        }
        var reason = $"gave up after {_ctx.Config.Supervision.MaxRestarts} restarts within {_ctx.Config.Supervision.RestartWindow}";
        _log.Error("Link {Link} parked: {Reason}", link, reason);
        _ctx.Bundle.Tell(new LinkParked(_ctx.Name, link, reason, Context.System.Scheduler.Now));
    }

    private void GiveUpWaiting()
    {
        if (!_stopping) return;
        var unconfirmed = _pendingStops.Concat(_terminating.Values).Distinct().OrderBy(l => l).ToList();
        _log.Error("Links {Links} did not confirm their stop within {Timeout}: their pppd chains may still run", string.Join(",", unconfirmed), StopTimeout);
        _notStopped.AddRange(unconfirmed);
        _pendingStops.Clear();
        foreach (var supervisor in _links.Values) Context.Stop(supervisor);
        _links.Clear();
        // Whatever still terminates is no longer waited for; its Terminated finds nothing to do.
        foreach (var supervisor in _terminating.Keys) Context.Unwatch(supervisor);
        _terminating.Clear();
        Finish();
    }

    private void Finish()
    {
        Timers.Cancel("repeat-stop");
        Timers.Cancel("stop-deadline");
        _stopping = false;
        var done = new LinksStopped([.. _notStopped]);
        foreach (var requester in _stopRequesters) requester.Tell(done);
        _stopRequesters.Clear();
    }

    private int? LinkOf(IActorRef actor) => _links.FirstOrDefault(kv => kv.Value.Equals(actor)) is { Value: not null } kv ? kv.Key : null;
}
