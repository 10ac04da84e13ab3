using EqlActors.Configuration;
using EqlActors.Messages;
using EqlActors.Ports;
using System.Net;

namespace EqlActors.Actors;

/// <summary>The routes a configuration asks for: each remote LAN dev eql, and slirp's management net via 10.0.2.2 dev eql.</summary>
public static class DesiredRoutes
{
    public static IReadOnlyList<Route> For(BundleConfig config)
    {
        var device = config.Eql.Device;
        var routes = config.Routes.RemoteLans.Select(lan => new Route(lan, device)).ToList();
        if (config.Routes.ManagementRoute)
            // Through eql, not whichever ppp came up first as the HOWTO's route resolved to.
            routes.Add(new Route(config.Routes.ManagementNetwork, device, config.Routes.ManagementGateway, OnLink: true));
        return routes;
    }

    /// <summary>
    /// Routes on a link's device (<c>pppN</c>) whose destination lies inside a desired route's destination, or is
    /// that route's gateway: the kernel's peer route <c>10.0.2.2 dev pppN</c> of every link is one. Being more
    /// specific, each would take the traffic meant for the bundle past eql. Routes on other devices (the
    /// operator's) are never touched.
    /// </summary>
    public static IReadOnlyList<Route> Shadowing(IEnumerable<Route> table, IReadOnlyList<Route> desired, string master) =>
        [.. table.Where(r => r.Device != master && IsLinkDevice(r.Device)
            && desired.Any(d => Contains(d.Destination, r.Destination) || (d.Gateway is { } gw && Contains(r.Destination, gw) && r.Destination.PrefixLength == 32)))];

    /// <summary>pppd's interfaces: <c>ppp</c> and a unit number.</summary>
    public static bool IsLinkDevice(string device) =>
        device.Length > 3 && device.StartsWith("ppp", StringComparison.Ordinal) && device.AsSpan(3).IndexOfAnyExceptInRange('0', '9') < 0;

    /// <summary>Whether <paramref name="inner"/> lies inside <paramref name="outer"/> (equal counts).</summary>
    public static bool Contains(Cidr outer, Cidr inner) =>
        inner.PrefixLength >= outer.PrefixLength && Contains(outer, inner.Network);

    public static bool Contains(Cidr outer, IPAddress address)
    {
        var a = address.GetAddressBytes();
        var n = outer.Network.GetAddressBytes();
        if (a.Length != n.Length) return false;
        var bits = outer.PrefixLength;
        for (var i = 0; i < a.Length && bits > 0; i++, bits -= 8)
        {
            var mask = bits >= 8 ? 0xFF : (byte)(0xFF << (8 - bits));
            if ((a[i] & mask) != (n[i] & mask)) return false;
        }
        return true;
    }
}
