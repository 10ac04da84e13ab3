using Akka.Actor;
using Akka.Event;
using EqlActors.Messages;
using EqlActors.Ports;

namespace EqlActors.Actors;

/// <summary>
/// Keeps exactly the configured routes (remote LANs dev eql, the management net via 10.0.2.2 dev eql) and
/// net.ipv4.tcp_reordering: adds what is missing on every reconcile, removes only its own routes at stop and
/// puts the sysctl back as it was before the product's first change (kept outside the daemon, so a daemon that
/// replaced a killed one knows it too: <see cref="ISysctlOriginals"/>). It also removes routes on the links' own
/// devices that shadow a desired route: pppd's peer route <c>10.0.2.2 dev pppN</c> (added by the kernel with each link's address) is more
/// specific than <c>10.0.2.0/28 via 10.0.2.2 dev eql</c>, so without this all management traffic would leave
/// by the first ppp that came up, the HOWTO script's mistake.
/// </summary>
public sealed class RouteActor : PortActor
{
    private const string TcpReordering = RoutePass.TcpReordering;

    private sealed record ReconcileTick : ICoalesced;

    private readonly BundleContext _ctx;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IReadOnlyList<Route> _desired;
    private readonly HashSet<Route> _everPresent = [];
    private string? _sysctlOriginal;
    private bool _active;
    // The bundle's newest ReconcileRoutes.Request: a pass that begins after it answers it (messages that come during a
    // pass wait in the stash, so the number taken at the start of a pass is one the pass really looked after).
    private long _request;

    public RouteActor(BundleContext ctx)
    {
        _ctx = ctx;
        _desired = DesiredRoutes.For(ctx.Config);
        Receive<StartRoutes>(m =>
        {
            _active = true;
            // The cold start set the sysctl before this actor existed: the value to put back is the one it found.
            _sysctlOriginal ??= m.TcpReorderingBefore;
            Timers.StartPeriodicTimer("reconcile", new ReconcileTick(), _ctx.Config.Supervision.ReconcileInterval);
            Reconcile();
        });
        Receive<ReconcileRoutes>(m =>
        {
            _request = Math.Max(_request, m.Request);
            Reconcile();
        });
        Receive<ReconcileTick>(_ => Reconcile());
        Receive<StopRoutes>(_ => Stop(Sender));
    }

    public static Props Props(BundleContext ctx) => ctx.Apply(Akka.Actor.Props.Create(() => new RouteActor(ctx)));

    private void Reconcile()
    {
        if (!_active) return;
        var routes = _ctx.Ports.Routes;
        var sysctl = _ctx.Ports.Sysctl;
        var originals = _ctx.Ports.SysctlOriginals;
        var desired = _desired;
        var wanted = _ctx.Config.Routes.TcpReordering?.ToString();
        var device = _ctx.Config.Eql.Device;
        var request = _request;
        RunPort(() => RoutePass.RunAsync(routes, sysctl, originals, desired, device, wanted), pass =>
        {
            if (pass.SysctlWritten)
            {
                _sysctlOriginal ??= pass.SysctlFound;
                _log.Info("Set {Key} to {Value} (was {Previous})", TcpReordering, pass.Sysctl, pass.SysctlFound);
                _ctx.Bundle.Tell(new SysctlSet(_ctx.Name, TcpReordering, pass.Sysctl!, Now));
            }
            foreach (var route in pass.Unshadowed) _log.Info("Route {Route} removed: it shadowed a route via {Device}", route, _ctx.Config.Eql.Device);
            foreach (var route in pass.Added)
            {
                var restored = !_everPresent.Add(route);
                _log.Info("Route {Route} {Action}", route, restored ? "restored" : "added");
                _ctx.Bundle.Tell(new RouteAdded(_ctx.Name, route, restored, Now));
            }
            foreach (var route in pass.Present) _everPresent.Add(route);
            _ctx.Bundle.Tell(new RoutesObserved(pass.Present, pass.Missing, pass.Sysctl) { Shadowing = pass.Shadowing, Answers = request });
        }, ex => _log.Warning("Reconciling routes failed: {Reason}", ex.Message));
    }

    private void Stop(IActorRef requester)
    {
        _active = false;
        Timers.CancelAll();
        var routes = _ctx.Ports.Routes;
        var sysctl = _ctx.Ports.Sysctl;
        var originals = _ctx.Ports.SysctlOriginals;
        var desired = _desired;
        var original = _sysctlOriginal;
        var wanted = _ctx.Config.Routes.TcpReordering?.ToString();
        RunPort(() => RoutePass.RemoveAsync(routes, sysctl, originals, desired, original, wanted), removed =>
        {
            _log.Info("Removed {Count} routes", removed);
            _sysctlOriginal = null;
            _everPresent.Clear();
            _ctx.Bundle.Tell(new RoutesObserved([], desired, null));
            requester.Tell(new RoutesStopped(removed));
        }, ex =>
        {
            _log.Warning("Removing routes failed: {Reason}", ex.Message);
            requester.Tell(new RoutesStopped(0));
        });
    }
}
