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
public sealed record StartRoutes;
/// <summary>Something changed that routes depend on (the master came back): reconcile now.</summary>
public sealed record ReconcileRoutes;
/// <summary>Remove our own routes, restore the sysctl we changed, stop reconciling.</summary>
public sealed record StopRoutes;
public sealed record RoutesStopped(int Removed);

// Events
public sealed record RouteAdded(string Bundle, Route Route, bool Restored, DateTimeOffset At) : IBundleEvent;
public sealed record SysctlSet(string Bundle, string Key, string Value, DateTimeOffset At) : IBundleEvent;

/// <summary>What the route actor last observed.</summary>
public sealed record RoutesObserved(IReadOnlyList<Route> Present, IReadOnlyList<Route> Missing, string? TcpReordering);
