using Akka.Actor;

namespace EqlActors.Tests.Actors;

/// <summary>
/// Parent of one actor under test: everything the child tells its parent, and its <c>Terminated</c>, go to a probe;
/// <see cref="ToChild"/> reaches the child. A child that throws is stopped and its exception reported too.
/// </summary>
public sealed class ProbeParent : ReceiveActor
{
    public sealed record ToChild(object Message);
    public sealed record ChildFailed(Exception Error);
    /// <summary>The child's <c>Terminated</c>, which a probe that did not watch it would drop.</summary>
    public sealed record ChildTerminated;

    private readonly IActorRef _probe;

    public ProbeParent(Props child, string name, IActorRef probe)
    {
        _probe = probe;
        var c = Context.ActorOf(child, name);
        Context.Watch(c);
        Receive<ToChild>(m => c.Tell(m.Message, Sender));
        Receive<Terminated>(m => m.ActorRef.Equals(c), _ => probe.Tell(new ChildTerminated()));
        ReceiveAny(m => probe.Forward(m));
    }

    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(ex =>
    {
        _probe.Tell(new ChildFailed(ex));
        return Directive.Stop;
    });
}
