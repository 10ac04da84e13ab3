using EqlActors.Configuration;
using EqlActors.Messages;
using EqlActors.Ports;

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

    public static RouteSpec ToSpec(this Route route) => new(route.Destination, route.Device, route.Gateway);
}
