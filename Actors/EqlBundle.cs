using Akka.Actor;
using EqlActors.Configuration;
using EqlActors.Ports;

namespace EqlActors.Actors;

/// <summary>
/// The one way to build a bundle's actor tree from (configuration, ports). The tree starts idle: send
/// <see cref="Messages.StartBundle"/>; query with <see cref="Messages.GetBundleStatus"/>; stop with
/// <see cref="Messages.StopBundle"/> and wait for <see cref="Messages.BundleStopped"/>. Progress is published as
/// <see cref="Messages.IBundleEvent"/>s on the system's event stream.
/// </summary>
public static class EqlBundle
{
    public static Props Props(BundleConfig config, SystemPorts ports, BundleOptions? options = null)
    {
        options ??= new BundleOptions();
        var props = Akka.Actor.Props.Create(() => new BundleActor(config, ports, options));
        return options.Dispatcher is null ? props : props.WithDispatcher(options.Dispatcher);
    }

    /// <summary>For <c>AddAkka(...).WithActors((system, registry) => registry.Register&lt;BundleActor&gt;(system.CreateBundle(config, ports)))</c>.</summary>
    public static IActorRef CreateBundle(this IActorRefFactory factory, BundleConfig config, SystemPorts ports, BundleOptions? options = null)
    {
        options ??= new BundleOptions();
        return factory.ActorOf(Props(config, ports, options), options.Name);
    }
}
