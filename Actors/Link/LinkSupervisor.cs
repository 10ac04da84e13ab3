using Akka.Actor;
using Akka.Event;
using Akka.Pattern;
using EqlActors.Messages;

namespace EqlActors.Actors;

/// <summary>
/// One Akka backoff supervisor per link (<c>link-N</c>, child <c>pppd</c>), with the configuration's min/max backoff
/// and random factor. A link that exhausts MaxRestarts within RestartWindow stops its supervisor: it is parked
/// until <see cref="RestartLink"/>. Stop asks every link to end its chain before any actor goes.
/// </summary>
public sealed class LinkSupervisor : ReceiveActor
{
    private readonly BundleContext _ctx;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<int, IActorRef> _links = [];
    private readonly HashSet<int> _pendingStops = [];
    private readonly List<IActorRef> _stopRequesters = [];

    public LinkSupervisor(BundleContext ctx)
    {
        _ctx = ctx;
        Receive<StartLinks>(_ =>
        {
            foreach (var link in _ctx.Config.EffectiveLinks) EnsureLink(link);
        });
        Receive<RestartLink>(m =>
        {
            if (_links.TryGetValue(m.Link, out var supervisor)) supervisor.Tell(m);
            else if (_ctx.Config.EffectiveLinks.Contains(m.Link) && _stopRequesters.Count == 0) EnsureLink(m.Link);
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
        Receive<Terminated>(m =>
        {
            if (LinkOf(m.ActorRef) is not { } link) return;
            _links.Remove(link);
            if (_pendingStops.Count > 0)
            {
                LinkDone(link);
                return;
            }
            var reason = $"gave up after {_ctx.Config.Supervision.MaxRestarts} restarts within {_ctx.Config.Supervision.RestartWindow}";
            _log.Error("Link {Link} parked: {Reason}", link, reason);
            _ctx.Bundle.Tell(new LinkParked(_ctx.Name, link, reason, Context.System.Scheduler.Now));
        });
    }

    public static Props Props(BundleContext ctx) => ctx.Apply(Akka.Actor.Props.Create(() => new LinkSupervisor(ctx)));

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
        if (_pendingStops.Count > 0) return;
        foreach (var (link, supervisor) in _links)
        {
            _pendingStops.Add(link);
            supervisor.Tell(new StopLink(link));
        }
        if (_pendingStops.Count == 0) Finish();
    }

    private void LinkDone(int link)
    {
        if (!_pendingStops.Remove(link) || _pendingStops.Count > 0) return;
        Finish();
    }

    private void Finish()
    {
        foreach (var supervisor in _links.Values)
        {
            Context.Unwatch(supervisor);
            Context.Stop(supervisor);
        }
        _links.Clear();
        foreach (var requester in _stopRequesters) requester.Tell(new LinksStopped());
        _stopRequesters.Clear();
    }

    private int? LinkOf(IActorRef actor) => _links.FirstOrDefault(kv => kv.Value.Equals(actor)) is { Value: not null } kv ? kv.Key : null;
}
