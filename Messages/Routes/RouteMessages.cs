using EqlActors.Configuration;
using System.Net;

namespace EqlActors.Messages;

/// <summary>A route in words every layer understands (the port's own type stays with the ports).</summary>
public sealed record RouteSpec(Cidr Destination, string Device, IPAddress? Gateway)
{
    public override string ToString() => Gateway is null ? $"{Destination} dev {Device}" : $"{Destination} via {Gateway} dev {Device}";
}

// Commands
public sealed record StartRoutes;
/// <summary>Something changed that routes depend on (the master came back): reconcile now.</summary>
public sealed record ReconcileRoutes;
/// <summary>Remove our own routes, restore the sysctl we changed, stop reconciling.</summary>
public sealed record StopRoutes;
public sealed record RoutesStopped(int Removed);

// Events
public sealed record RouteAdded(string Bundle, RouteSpec Route, bool Restored, DateTimeOffset At) : IBundleEvent;
public sealed record SysctlSet(string Bundle, string Key, string Value, DateTimeOffset At) : IBundleEvent;

/// <summary>What the route actor last observed.</summary>
public sealed record RoutesObserved(IReadOnlyList<RouteSpec> Present, IReadOnlyList<RouteSpec> Missing, string? TcpReordering);
