using System.Net;
using System.Net.Sockets;
using EqlActors.Configuration;
using EqlActors.Messages;
using EqlActors.Ports;

namespace EqlActors.Host.Linux;

/// <summary>
/// The main IPv4 routing table through rtnetlink (RTM_GETROUTE dump, RTM_NEWROUTE, RTM_DELROUTE), in this process:
/// each <c>ip</c> process it replaces cost 0.2-0.5 s of the guest's CPU, and a route pass after links came up ran
/// three or four of them (listing, then one delete per link's peer route) while the bundle was not yet whole
/// (docs/benchmarks.md, "The restart's own time"). Interface names are resolved with an RTM_GETLINK dump on the same
/// socket. With a <c>netns</c> name the socket is opened inside that namespace.
/// </summary>
public sealed class LinuxRoutes(string? netns = null) : IRoutes, IDisposable
{
    private readonly object _gate = new();
    private int _fd = -1;
    private uint _seq;

    public Task<IReadOnlyList<Route>> ListAsync(CancellationToken ct = default)
    {
        lock (_gate)
        {
            var names = Links(ct).ToDictionary(l => l.Index, l => l.Name);
            var list = new List<Route>();
            foreach (var (buf, m) in Exchange(Rtnetlink.DumpRoutesRequest(++_seq), "listing the routes", ct))
            {
                if (m.Type != Rtnetlink.RTM_NEWROUTE) continue;
                Rtnetlink.RtRoute r;
                try { r = Rtnetlink.ParseRoute(buf, m); }
                catch (ArgumentException) { continue; }
                // What `ip -4 route show table main` lists as unicast routes on one device (a multipath route has none).
                if (r.Family != Rtnetlink.AF_INET || r.Table != Rtnetlink.RT_TABLE_MAIN || r.Type != Rtnetlink.RTN_UNICAST) continue;
                if (r.OutputInterface is not { } oif || !names.TryGetValue(oif, out var dev)) continue;
                var net = r.DstLength == 0 || r.Destination is not { Length: 4 } d ? IPAddress.Any : new IPAddress(d);
                var gw = r.Gateway is { Length: 4 } g ? new IPAddress(g) : null;
                list.Add(new Route(new Cidr(net, r.DstLength), dev, gw, (r.Flags & Rtnetlink.RTNH_F_ONLINK) != 0));
            }
            return Task.FromResult<IReadOnlyList<Route>>(list);
        }
    }

    public Task AddAsync(Route route, CancellationToken ct = default) => Change(true, route, ct);

    public Task DeleteAsync(Route route, CancellationToken ct = default) => Change(false, route, ct);

    private Task Change(bool add, Route route, CancellationToken ct)
    {
        EqlStructs.WriteName(new byte[EqlStructs.IfNameSize], route.Device); // a device name, never an option
        var verb = add ? "add" : "del";
        if (route.Destination.Network.AddressFamily != AddressFamily.InterNetwork || route.Gateway is { AddressFamily: not AddressFamily.InterNetwork })
            throw new PortException($"route {verb} {route} failed: not an IPv4 route", FailureKind.Permanent);
        lock (_gate)
        {
            var index = Links(ct).FirstOrDefault(l => l.Name == route.Device).Index;
            if (index == 0) throw new PortException($"route {verb} {route} failed: no device {route.Device}");
            var request = Rtnetlink.RouteRequest(add, ++_seq, (byte)route.Destination.PrefixLength, route.Destination.Network.GetAddressBytes(),
                route.Gateway?.GetAddressBytes(), index, route.OnLink);
            try
            {
                Exchange(request, $"route {verb} {route}", ct);
            }
            catch (NetlinkError e)
            {
                throw new PortException($"route {verb} {route} failed: {Native.StrError(e.Errno)} ({Native.ErrnoName(e.Errno)})",
                    e.Errno == Native.EPERM ? FailureKind.Permanent : FailureKind.Transient);
            }
        }
        return Task.CompletedTask;
    }

    private List<(int Index, string Name)> Links(CancellationToken ct)
    {
        var links = new List<(int, string)>();
        foreach (var (buf, m) in Exchange(Rtnetlink.DumpLinksRequest(++_seq), "listing the interfaces", ct))
        {
            if (m.Type != Rtnetlink.RTM_NEWLINK) continue;
            RtLink l;
            try { l = Rtnetlink.ParseLink(buf, m); }
            catch (ArgumentException) { continue; }
            if (l.Name is { } name) links.Add((l.Index, name));
        }
        return links;
    }

    private sealed class NetlinkError(int errno) : Exception($"netlink error {errno}")
    {
        public int Errno { get; } = errno;
    }

    /// <summary>
    /// Sends one request (the caller holds the gate) and collects the answer's messages until the dump's NLMSG_DONE or
    /// the acknowledgement; a refusal is a <see cref="NetlinkError"/>.
    /// </summary>
    private List<(byte[] Buffer, Rtnetlink.Message Message)> Exchange(byte[] request, string what, CancellationToken ct)
    {
        if (_fd < 0) _fd = OpenSocket();
        var seq = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(request.AsSpan(8));
        if (Native.send(_fd, request, (nuint)request.Length, 0) < 0)
            throw new PortException($"rtnetlink request ({what}) failed: {Native.StrError(Native.Errno)}");
        var answer = new List<(byte[], Rtnetlink.Message)>();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var fds = new[] { new Native.PollFd { Fd = _fd, Events = Native.POLLIN } };
            if (Native.poll(fds, 1, 5000) <= 0) throw new PortException($"rtnetlink did not answer ({what})");
            var buf = new byte[65536];
            var n = (int)Native.recv(_fd, buf, (nuint)buf.Length, 0);
            if (n < 0) throw new PortException($"rtnetlink receive failed ({what}): {Native.StrError(Native.Errno)}");
            foreach (var m in Rtnetlink.Split(buf, n))
            {
                if (m.Seq != seq) continue; // a late answer to an abandoned request
                if (m.Type == Rtnetlink.NLMSG_DONE) return answer;
                if (m.Type == Rtnetlink.NLMSG_ERROR)
                {
                    var err = -Rtnetlink.Error(buf, m);
                    if (err == 0) return answer;
                    throw new NetlinkError(err);
                }
                answer.Add((buf, m));
            }
        }
    }

    private int OpenSocket() => Netns.Run(netns, () =>
    {
        var fd = Native.socket(Native.AF_NETLINK, Native.SOCK_RAW | Native.SOCK_CLOEXEC, Native.NETLINK_ROUTE);
        if (fd < 0) throw new PortException($"cannot open an rtnetlink socket: {Native.StrError(Native.Errno)}");
        var addr = Rtnetlink.SockaddrNl(0);
        if (Native.bind(fd, addr, addr.Length) != 0)
        {
            var errno = Native.Errno;
            Native.close(fd);
            throw new PortException($"cannot bind the rtnetlink socket: {Native.StrError(errno)}");
        }
        return fd;
    });

    public void Dispose()
    {
        lock (_gate)
        {
            if (_fd >= 0) Native.close(_fd);
            _fd = -1;
        }
    }
}
