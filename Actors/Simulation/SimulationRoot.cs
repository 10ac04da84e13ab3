using Akka.Actor;

namespace EqlActors.Simulation;

/// <summary>
/// The parent of every actor of a simulation. Akka creates a top-level actor asynchronously: its first messages
/// run on the guardian's pool thread, racing the driver that advances virtual time. Children made with
/// <c>Context.ActorOf</c> are created synchronously, so once this one root is known to run on the driver's thread,
/// everything below it does too, and a simulation replays exactly.
/// </summary>
public sealed class SimulationRoot : ReceiveActor
{
    public SimulationRoot()
    {
        Receive<Create>(m => Sender.Tell(Context.ActorOf(m.Props, m.Name)));
        Receive<WhichThread>(_ => Sender.Tell(Environment.CurrentManagedThreadId));
    }

    internal sealed record Create(Props Props, string Name);
    internal sealed record WhichThread;
}
