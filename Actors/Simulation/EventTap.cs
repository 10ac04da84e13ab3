using Akka.Actor;
using EqlActors.Messages;

namespace EqlActors.Simulation;

/// <summary>
/// Hands every published bundle event to a callback, on the publisher's thread, in publication order: the
/// simulation's timeline and bookkeeping. Not an actor: an actor subscribed to the event stream is watched by
/// Akka's unsubscriber from a pool thread, and that watch can run the subscriber's mailbox there, off the
/// driver's thread, which a replay cannot allow.
/// </summary>
public sealed class EventTap : MinimalActorRef
{
    private readonly Action<IBundleEvent> _onEvent;

    private EventTap(ActorSystem system, Action<IBundleEvent> onEvent)
    {
        _onEvent = onEvent;
        Provider = ((ExtendedActorSystem)system).Provider;
        Path = Provider.TempPath();
    }

    public override ActorPath Path { get; }
    public override IActorRefProvider Provider { get; }

    public static EventTap Subscribe(ActorSystem system, Action<IBundleEvent> onEvent)
    {
        var tap = new EventTap(system, onEvent);
        system.EventStream.Subscribe(tap, typeof(IBundleEvent));
        return tap;
    }

    protected override void TellInternal(object message, IActorRef sender)
    {
        if (message is IBundleEvent e) _onEvent(e);
    }
}
