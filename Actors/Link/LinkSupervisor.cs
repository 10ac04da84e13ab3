using Akka.Actor;
using Akka.Event;
using EqlActors.Messages;

namespace EqlActors.Actors;

/// <summary>
/// One <see cref="LinkBackoff"/> per configured link (<c>link-N</c>). States: idle (no links), running, stopping.
/// Stop tells every link's supervisor to stop; a supervisor terminates only after its link actor ended its chain
/// (or at once when there is no link actor between attempts or while parked), so its <c>Terminated</c> is the
/// stop confirmation, and <see cref="LinksStopped"/> goes out when the last one came. Nothing is repeated: a stop
/// cannot be lost with a failing link actor's stash, because the supervisor, not the link actor, holds it.
/// </summary>
/// <remarks>
/// The stop is still bounded (twice the stop grace plus 10 s: a failed chain's stop and then nothing else), against
/// a port call that never returns: past that the remaining supervisors are stopped anyway and
/// <see cref="LinksStopped.NotStopped"/> names the links whose chain end was not confirmed.
/// </remarks>
public sealed class LinkSupervisor : ReceiveActor, IWithTimers
{
    private sealed record StopDeadline;

    private readonly BundleContext _ctx;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<int, IActorRef> _links = [];
    private int _generation;

    public ITimerScheduler Timers { get; set; } = null!;

    public LinkSupervisor(BundleContext ctx)
    {
        _ctx = ctx;
        Become(Idle);
    }

    public static Props Props(BundleContext ctx) => ctx.Apply(Akka.Actor.Props.Create(() => new LinkSupervisor(ctx)));

    /// <summary>Time for a link to end a failed chain and then its current one, each within the stop grace.</summary>
    private TimeSpan StopTimeout => _ctx.Config.Supervision.StopGrace * 2 + TimeSpan.FromSeconds(10);

    private void Idle()
    {
        Receive<StartLinks>(_ => StartAll());
        Receive<StopLinks>(_ => Sender.Tell(new LinksStopped([])));
        Receive<RestartLink>(_ => { });
        Receive<RestartParkedLinks>(_ => { });
        // A supervisor given up on at the last stop's deadline may still end later: nothing to do then.
        Receive<Terminated>(_ => { });
    }

    private void StartAll()
    {
        foreach (var link in _ctx.Config.EffectiveLinks) EnsureLink(link);
        Become(Running);
    }

    private void Running()
    {
        Receive<StartLinks>(_ => StartAll());
        Receive<RestartLink>(m =>
        {
            if (_links.TryGetValue(m.Link, out var link)) link.Tell(m);
        });
        Receive<RestartParkedLinks>(_ =>
        {
            foreach (var (link, supervisor) in _links) supervisor.Tell(new RestartLink(link));
        });
        Receive<StopLinks>(_ => BeginStop(Sender));
        Receive<Terminated>(m =>
        {
            // Not asked to stop: the supervisor itself failed. The link must not silently vanish.
            if (LinkOf(m.ActorRef) is not { } link) return;
            _links.Remove(link);
            _log.Error("Link {Link}: its supervisor ended unexpectedly; starting a new one", link);
            EnsureLink(link);
        });
    }

    private void EnsureLink(int link)
    {
        if (_links.ContainsKey(link)) return;
        // A supervisor abandoned at a stop deadline may still hold the plain name.
        var name = Context.Child($"link-{link}").IsNobody() ? $"link-{link}" : $"link-{link}.{++_generation}";
        var supervisor = Context.ActorOf(LinkBackoff.Props(_ctx, link), name);
        Context.Watch(supervisor);
        _links[link] = supervisor;
    }

    private void BeginStop(IActorRef requester)
    {
        var requesters = new List<IActorRef> { requester };
        foreach (var (link, supervisor) in _links) supervisor.Tell(new StopLink(link));
        Timers.StartSingleTimer("stop-deadline", new StopDeadline(), StopTimeout);
        Become(() => Stopping(requesters));
        if (_links.Count == 0) Finish(requesters, []);
    }

    private void Stopping(List<IActorRef> requesters)
    {
        Receive<StopLinks>(_ => requesters.Add(Sender));
        Receive<Terminated>(m =>
        {
            if (LinkOf(m.ActorRef) is not { } link) return;
            _links.Remove(link);
            if (_links.Count == 0) Finish(requesters, []);
        });
        Receive<StopDeadline>(_ =>
        {
            var unconfirmed = _links.Keys.Order().ToList();
            _log.Error("Links {Links} did not confirm their stop within {Timeout}: their pppd chains may still run", string.Join(",", unconfirmed), StopTimeout);
            foreach (var supervisor in _links.Values)
            {
                Context.Unwatch(supervisor);
                Context.Stop(supervisor);
            }
            _links.Clear();
            Finish(requesters, unconfirmed);
        });
        Receive<StartLinks>(_ => _log.Warning("Bundle {Bundle}: links not started while stopping", _ctx.Name));
        Receive<RestartLink>(_ => { });
        Receive<RestartParkedLinks>(_ => { });
    }

    private void Finish(List<IActorRef> requesters, IReadOnlyList<int> notStopped)
    {
        Timers.Cancel("stop-deadline");
        var done = new LinksStopped(notStopped);
        foreach (var requester in requesters) requester.Tell(done);
        Become(Idle);
    }

    private int? LinkOf(IActorRef actor) => _links.FirstOrDefault(kv => kv.Value.Equals(actor)) is { Value: not null } kv ? kv.Key : null;
}
