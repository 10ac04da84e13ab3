using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;

namespace EqlActors.Simulation;

/// <summary>
/// The actor system settings that make a simulation deterministic and fast: Akka's TestScheduler (time moves only
/// when the driver advances it) and a calling-thread dispatcher for the bundle's actors (every message is handled
/// before <c>Advance</c> returns, so the driver always sees a settled world).
/// </summary>
public static class SimulationHosting
{
    public const string Dispatcher = "eqlactors.simulation-dispatcher";

    public static readonly Config Config = ConfigurationFactory.ParseString("""
        akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
        akka.loglevel = OFF
        akka.stdout-loglevel = OFF
        akka.log-dead-letters = off
        akka.log-dead-letters-during-shutdown = off
        eqlactors.simulation-dispatcher {
          type = "Akka.TestKit.CallingThreadDispatcherConfigurator, Akka.TestKit"
          throughput = 100
        }
        """);

    /// <summary>
    /// Creates the root and waits (wall time, bounded) until a message to it runs on the calling thread: from then
    /// on nothing else touches it, so every message to the tree is handled inline by whoever sends it.
    /// </summary>
    public static IActorRef StartSimulationRoot(this ActorSystem system, string name = "simulation")
    {
        var root = system.ActorOf(Props.Create(() => new SimulationRoot()).WithDispatcher(SimulationHosting.Dispatcher), name);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var answer = root.Ask<int>(new SimulationRoot.WhichThread(), Timeout.InfiniteTimeSpan);
            if (answer.IsCompletedSuccessfully && answer.Result == Environment.CurrentManagedThreadId) return root;
            if (!answer.Wait(TimeSpan.FromSeconds(30)) || DateTime.UtcNow > deadline)
                throw new TimeoutException("the simulation root never came to the driver's thread");
            Thread.Yield();
        }
    }

    /// <summary>Creates a child of the root on the calling thread; it exists, settled, when this returns.</summary>
    public static IActorRef CreateChild(this IActorRef root, Props props, string name)
    {
        var created = root.Ask<IActorRef>(new SimulationRoot.Create(props, name), Timeout.InfiniteTimeSpan);
        if (!created.IsCompletedSuccessfully) throw new InvalidOperationException("the simulation root did not create its child on the calling thread");
        return created.Result;
    }

    /// <summary>
    /// Fails if any actor under <paramref name="root"/> still has a message waiting: after a clock advance everything
    /// the driver's thread set off must have been handled on it. A waiting message would mean some other thread runs
    /// part of the simulation, and then a seed no longer replays.
    /// </summary>
    public static void AssertQuiet(IActorRef root)
    {
        if (root is not ActorRefWithCell cell) return;
        if (cell.Underlying.HasMessages) throw new InvalidOperationException($"{root.Path} still has messages after the clock advanced: the simulation is not running on the driver's thread alone");
        foreach (var child in cell.Children) AssertQuiet(child);
    }

    public static TestScheduler VirtualClock(this ActorSystem system) =>
        system.Scheduler as TestScheduler ?? throw new InvalidOperationException("the actor system does not run on the TestScheduler");
}
