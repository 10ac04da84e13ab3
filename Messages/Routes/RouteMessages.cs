using EqlActors.Configuration;
using System.Net;

namespace EqlActors.Messages;

/// <summary>
/// One IPv4 route: to <see cref="Destination"/> via <see cref="Gateway"/> (or directly) on <see cref="Device"/>.
/// <see cref="OnLink"/> declares the gateway reachable on the device although it is outside the device's subnet:
/// slirp's 10.0.2.2 seen through eql (172.16.1.0/24) needs it, or the kernel refuses the nexthop. The one route
/// type: the routes port, the route actor's messages and the bundle's status all use it.
/// </summary>
public sealed record Route(Cidr Destination, string Device, IPAddress? Gateway = null, bool OnLink = false)
{
    public override string ToString() =>
        (Gateway is null ? $"{Destination} dev {Device}" : $"{Destination} via {Gateway} dev {Device}") + (OnLink ? " onlink" : "");
}

// Commands
/// <param name="TcpReorderingBefore">The sysctl's value before the host's cold start set it (<see cref="StartBundle"/>).</param>
public sealed record StartRoutes(string? TcpReorderingBefore = null);
/// <summary>
/// Something changed that routes depend on (the master came back, a link came up with its peer route): reconcile
/// now. <see cref="Request"/> numbers the bundle's requests that its readiness waits for (0: none, e.g. a stall).
/// </summary>
public sealed record ReconcileRoutes(long Request = 0);
/// <summary>Remove our own routes, restore the sysctl we changed, stop reconciling.</summary>
public sealed record StopRoutes;
public sealed record RoutesStopped(int Removed);

// Events
public sealed record RouteAdded(string Bundle, Route Route, bool Restored, DateTimeOffset At) : IBundleEvent;
public sealed record SysctlSet(string Bundle, string Key, string Value, DateTimeOffset At) : IBundleEvent;

/// <summary>What the route actor last observed.</summary>
public sealed record RoutesObserved(IReadOnlyList<Route> Present, IReadOnlyList<Route> Missing, string? TcpReordering)
{
    /// <summary>Routes on a link's device that still shadow a desired route after the pass (their removal failed).</summary>
    public IReadOnlyList<Route> Shadowing { get; init; } = [];

    /// <summary>The highest <see cref="ReconcileRoutes.Request"/> received before the pass began: what it answers.</summary>
    public long Answers { get; init; }
}
