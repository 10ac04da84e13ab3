using Akka.Actor;
using EqlActors.Messages;

namespace EqlActors.Simulation;

/// <summary>Hands every published bundle event to a callback: the simulate verb's timeline and the runner's bookkeeping.</summary>
public sealed class TimelineActor : ReceiveActor
{
    public TimelineActor(Action<IBundleEvent> onEvent)
    {
        Receive<IBundleEvent>(onEvent);
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(IBundleEvent));

    public static Props Props(Action<IBundleEvent> onEvent) =>
        Akka.Actor.Props.Create(() => new TimelineActor(onEvent)).WithDispatcher(SimulationHosting.Dispatcher);
}
