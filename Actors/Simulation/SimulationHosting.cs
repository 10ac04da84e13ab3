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
    /// Waits (in wall time, at most a few seconds) until the actor has handled everything sent to it so far. Needed
    /// once after creating a top-level actor: Akka may run its first messages on a pool thread, and virtual time
    /// must not move while it does.
    /// </summary>
    public static void Settle(this IActorRef actor)
    {
        var probe = actor.Ask<object>(new Messages.GetBundleStatus(), Timeout.InfiniteTimeSpan);
        if (!probe.Wait(TimeSpan.FromSeconds(30))) throw new TimeoutException($"{actor.Path} did not settle");
    }

    public static TestScheduler VirtualClock(this ActorSystem system) =>
        system.Scheduler as TestScheduler ?? throw new InvalidOperationException("the actor system does not run on the TestScheduler");
}
