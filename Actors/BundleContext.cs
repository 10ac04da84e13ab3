using Akka.Actor;
using EqlActors.Configuration;
using EqlActors.Ports;

namespace EqlActors.Actors;

/// <summary>How the host wants a bundle's actors created.</summary>
/// <param name="Name">The bundle's name: the actor's name and the <c>Bundle</c> of every event.</param>
/// <param name="Dispatcher">Dispatcher for every actor of the tree; the simulation runs them on the calling thread.</param>
/// <param name="Random">
/// Source of the backoff jitter. The simulation passes a seeded one so that a run replays exactly; by default the
/// thread-safe shared one.
/// </param>
public sealed record BundleOptions(string Name = "bundle", string? Dispatcher = null, Random? Random = null);

/// <summary>What every actor of one bundle shares: its configuration, its ports and the bundle that coordinates it.</summary>
public sealed record BundleContext(string Name, BundleConfig Config, SystemPorts Ports, IActorRef Bundle, string? Dispatcher, Random Random)
{
    public Props Apply(Props props) => Dispatcher is null ? props : props.WithDispatcher(Dispatcher);
}
