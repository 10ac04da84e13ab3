using System.Globalization;
using System.Net;
using System.Text.Json;
using EqlActors.Configuration;
using EqlActors.Ports;
using EqlActors.Messages;

namespace EqlActors.Host.Linux;

/// <summary>
/// The main IPv4 routing table through iproute2 argv lists (<c>ip -4 -json route show</c>, <c>ip route add|del</c>).
/// With a <c>netns</c> name every command runs as <c>ip -n NAME ...</c>.
/// </summary>
public sealed class LinuxRoutes(string? netns = null, string ipPath = "/usr/sbin/ip") : IRoutes
{
    private List<string> Ip(params string[] args)
    {
        var argv = new List<string> { ipPath };
        if (netns is not null) argv.AddRange(["-n", netns]);
        argv.AddRange(args);
        return argv;
    }

    public async Task<IReadOnlyList<Route>> ListAsync(CancellationToken ct = default)
    {
        var r = await CommandRunner.RunCheckedAsync(Ip("-4", "-json", "route", "show", "table", "main"), ct).ConfigureAwait(false);
        return Parse(r.Stdout);
    }

    /// <summary>Parses <c>ip -4 -json route show</c>; <c>default</c> is 0.0.0.0/0, a bare address is a /32.</summary>
    public static IReadOnlyList<Route> Parse(string json)
    {
        var list = new List<Route>();
        if (string.IsNullOrWhiteSpace(json)) return list;
        using var doc = JsonDocument.Parse(json);
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            if (!e.TryGetProperty("dst", out var dstEl) || !e.TryGetProperty("dev", out var devEl)) continue;
            var dst = dstEl.GetString()!;
            if (e.TryGetProperty("type", out var type) && type.GetString() is not ("unicast" or null)) continue;
            Cidr cidr;
            if (dst == "default") cidr = new Cidr(IPAddress.Any, 0);
            else
            {
                var slash = dst.IndexOf('/');
                if (!IPAddress.TryParse(slash < 0 ? dst : dst[..slash], out var net)) continue;
                cidr = new Cidr(net, slash < 0 ? 32 : int.Parse(dst[(slash + 1)..], CultureInfo.InvariantCulture));
            }
            IPAddress? gw = e.TryGetProperty("gateway", out var g) && IPAddress.TryParse(g.GetString(), out var gwa) ? gwa : null;
            var onlink = e.TryGetProperty("flags", out var flags) && flags.ValueKind == JsonValueKind.Array
                && flags.EnumerateArray().Any(f => f.ValueKind == JsonValueKind.String && f.GetString() == "onlink");
            list.Add(new Route(cidr, devEl.GetString()!, gw, onlink));
        }
        return list;
    }

    public Task AddAsync(Route route, CancellationToken ct = default) => Change("add", route, ct);

    public Task DeleteAsync(Route route, CancellationToken ct = default) => Change("del", route, ct);

    private async Task Change(string verb, Route route, CancellationToken ct)
    {
        EqlStructs.WriteName(new byte[EqlStructs.IfNameSize], route.Device); // a device name, never an option
        var args = new List<string> { "-4", "route", verb, route.Destination.ToString() };
        if (route.Gateway is not null) args.AddRange(["via", route.Gateway.ToString()]);
        args.AddRange(["dev", route.Device]);
        if (route.OnLink) args.Add("onlink");
        var r = await CommandRunner.RunAsync(Ip([.. args]), ct).ConfigureAwait(false);
        if (r.ExitCode == 0) return;
        var kind = r.Message.Contains("Operation not permitted", StringComparison.Ordinal) ? FailureKind.Permanent : FailureKind.Transient;
        throw new PortException($"ip route {verb} {route} failed: {r.Message}", kind);
    }
}
