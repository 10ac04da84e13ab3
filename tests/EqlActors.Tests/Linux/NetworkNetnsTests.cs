using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using EqlActors.Configuration;
using EqlActors.Host.Linux;
using EqlActors.Ports;
using EqlActors.Tests.Fixtures;
using Xunit.Abstractions;
using EqlActors.Messages;

namespace EqlActors.Tests.Linux;

/// <summary>
/// Links, routes and sysctl inside namespaces the test creates: a veth pair whose ends live in two test
/// namespaces (10.9.0.1 in A, 10.9.0.2 in B). Nothing is sent anywhere else.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class NetworkNetnsTests : IDisposable
{
    private readonly ITestOutputHelper _out;
    private readonly NetnsFixture _a = new();
    private readonly NetnsFixture _b = new();

    public NetworkNetnsTests(ITestOutputHelper output)
    {
        _out = output;
        _a.Ip("link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", _b.Name);
        _a.Ip("addr", "add", "10.9.0.1/24", "dev", "v0");
        _b.Ip("addr", "add", "10.9.0.2/24", "dev", "v1");
        _a.Ip("link", "set", "v0", "up");
        _b.Ip("link", "set", "v1", "up");
    }

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }

    [Fact]
    public async Task Link_down_up_and_deletion_arrive_as_events()
    {
        using var links = new LinuxNetworkLinks(_a.Name);
        var events = new ConcurrentQueue<(LinkChanged Change, long Ticks)>();
        using var sub = links.Subscribe(c => events.Enqueue((c, Stopwatch.GetTimestamp())));

        var latencies = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            foreach (var (state, up) in new[] { ("down", false), ("up", true) })
            {
                events.Clear();
                var before = Stopwatch.GetTimestamp();
                _a.Ip("link", "set", "v0", state);
                var after = Stopwatch.GetTimestamp();
                // Arrival, not speed: how fast is bench/'s business (a bound here fails under load).
                await Wait.UntilAsync(() => events.Any(e => e.Change.Name == "v0" && e.Change.IsUp == up), TimeSpan.FromSeconds(30), $"v0 {state} event", pollMs: 1);
                var at = events.First(e => e.Change.Name == "v0" && e.Change.IsUp == up).Ticks;
                // From the moment `ip` returned (the change is made before it exits); negative: the event came first.
                var ms = Stopwatch.GetElapsedTime(after, at).TotalMilliseconds;
                latencies.Add(ms);
                _out.WriteLine($"v0 {state}: event {ms:0.000} ms after ip returned ({Stopwatch.GetElapsedTime(before, at).TotalMilliseconds:0.000} ms after it was started)");
            }
        }
        _out.WriteLine($"max {latencies.Max():0.000} ms, median {latencies.Order().ElementAt(latencies.Count / 2):0.000} ms");

        events.Clear();
        _a.Ip("link", "add", "t0", "type", "veth", "peer", "name", "t1");
        _a.Ip("link", "del", "t0");
        await Wait.UntilAsync(() => events.Any(e => e.Change is { Name: "t0", Exists: false }), TimeSpan.FromSeconds(30), "t0 deletion event", pollMs: 1);
        Assert.Contains(events, e => e.Change is { Name: "t0", Exists: true });
        // Every event of one interface carries its ifindex, its deletion included; one of the same name made again
        // has another (what lets a link actor tell its interface's "down" from a previous chain's).
        var first = events.Where(e => e.Change.Name == "t0").Select(e => e.Change.Index).Distinct().ToList();
        Assert.True(first is [> 0], $"t0's events carry one index: [{string.Join(", ", first)}]");
        events.Clear();
        _a.Ip("link", "add", "t0", "type", "veth", "peer", "name", "t1");
        await Wait.UntilAsync(() => events.Any(e => e.Change is { Name: "t0", Exists: true }), TimeSpan.FromSeconds(30), "the new t0's event", pollMs: 1);
        var again = events.First(e => e.Change is { Name: "t0", Exists: true }).Change.Index;
        Assert.NotEqual(first[0], again);
        Assert.Equal(again, (await links.GetAsync("t0")).Index);
        _a.Ip("link", "del", "t0");
    }

    [Fact]
    public async Task Events_stop_after_dispose()
    {
        using var links = new LinuxNetworkLinks(_a.Name);
        var count = 0;
        var sub = links.Subscribe(_ => Interlocked.Increment(ref count));
        _a.Ip("link", "set", "v0", "down");
        await Wait.UntilAsync(() => Volatile.Read(ref count) > 0, TimeSpan.FromSeconds(2), "an event");
        sub.Dispose();
        var seen = Volatile.Read(ref count);
        _a.Ip("link", "set", "v0", "up");
        _a.Ip("link", "set", "v0", "down");
        // Nothing can arrive any more: the reader thread has ended and closed its socket.
        Assert.Equal(seen, Volatile.Read(ref count));
    }

    [Fact]
    public async Task Link_state_and_counters_come_from_the_namespace()
    {
        using var links = new LinuxNetworkLinks(_a.Name);
        var before = await links.GetAsync("v0");
        Assert.Equal(("v0", true, true, 1500, false), (before.Name, before.Exists, before.IsUp, before.Mtu, before.IsSlave));

        // 20 datagrams of 1000 bytes to the peer end in namespace B.
        Netns.Run(_a.Name, () =>
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            for (var i = 0; i < 20; i++) s.SendTo(new byte[1000], new IPEndPoint(IPAddress.Parse("10.9.0.2"), 9));
            return 0;
        });
        await Wait.UntilAsync(() => links.GetAsync("v0").Result.TxBytes >= before.TxBytes + 20 * 1000, TimeSpan.FromSeconds(5), "tx counter");
        var peer = await new LinuxNetworkLinks(_b.Name).GetAsync("v1");
        Assert.True(peer.RxBytes >= 20 * 1000, $"v1 rx {peer.RxBytes}");

        var missing = await links.GetAsync("ppp3");
        Assert.False(missing.Exists);
        Assert.False((await new LinuxNetworkLinks().GetAsync("v0")).Exists); // not visible from the root namespace
    }

    [Fact]
    public void Slave_and_up_flags_are_read_from_ifinfomsg()
    {
        // RTM_NEWLINK for ppp1, flags IFF_UP|IFF_SLAVE|IFF_RUNNING, mtu 1500, stats64 rx 7 tx 9 bytes, 3 and 4 packets.
        var msg = new List<byte>();
        void U16(int v) { var b = new byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v); msg.AddRange(b); }
        void U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); msg.AddRange(b); }
        U32(0); U16(Rtnetlink.RTM_NEWLINK); U16(0); U32(0); U32(0);
        msg.AddRange([0, 0, 0, 0]); U32(7); U32(0x1 | 0x800 | 0x40); U32(0);
        U16(4 + 5); U16(Rtnetlink.IFLA_IFNAME); msg.AddRange("ppp1\0"u8.ToArray()); msg.AddRange([0, 0, 0]);
        U16(8); U16(Rtnetlink.IFLA_MTU); U32(1500);
        U16(4 + 64); U16(Rtnetlink.IFLA_STATS64);
        var stats = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(stats.AsSpan(0), 3);
        BinaryPrimitives.WriteUInt64LittleEndian(stats.AsSpan(8), 4);
        BinaryPrimitives.WriteUInt64LittleEndian(stats.AsSpan(16), 7);
        BinaryPrimitives.WriteUInt64LittleEndian(stats.AsSpan(24), 9);
        msg.AddRange(stats);
        var buf = msg.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(buf, (uint)buf.Length);

        var m = Assert.Single(Rtnetlink.Split(buf, buf.Length));
        var link = Rtnetlink.ParseLink(buf, m);
        Assert.Equal(new RtLink(false, 7, "ppp1", 0x841, 1500, 7, 9) { RxPackets = 3, TxPackets = 4 }, link);
    }

    [Fact]
    public async Task Routes_are_listed_added_and_deleted_in_the_namespace()
    {
        var routes = new LinuxRoutes(_a.Name);
        var lan = new Route(new Cidr(IPAddress.Parse("192.168.77.0"), 24), "v0", IPAddress.Parse("10.9.0.2"));
        var direct = new Route(new Cidr(IPAddress.Parse("10.77.0.0"), 28), "v0");

        await routes.AddAsync(lan);
        await routes.AddAsync(direct);
        var listed = await routes.ListAsync();
        Assert.Contains(lan, listed);
        Assert.Contains(direct, listed);
        Assert.Contains(new Route(new Cidr(IPAddress.Parse("10.9.0.0"), 24), "v0"), listed); // the connected route

        var again = await Assert.ThrowsAsync<PortException>(() => routes.AddAsync(lan));
        Assert.Contains("File exists", again.Message);

        await routes.DeleteAsync(lan);
        await routes.DeleteAsync(direct);
        listed = await routes.ListAsync();
        Assert.DoesNotContain(lan, listed);
        Assert.DoesNotContain(direct, listed);

        var unreachable = await Assert.ThrowsAsync<PortException>(() =>
            routes.AddAsync(new Route(new Cidr(IPAddress.Parse("192.168.78.0"), 24), "v0", IPAddress.Parse("10.10.10.10"))));
        Assert.Contains("route add 192.168.78.0/24 via 10.10.10.10 dev v0 failed", unreachable.Message);

        // The management route's shape: a gateway outside the device's subnet, declared on-link, listed back as such.
        var management = new Route(new Cidr(IPAddress.Parse("10.0.2.0"), 28), "v0", IPAddress.Parse("10.0.2.2"), OnLink: true);
        await routes.AddAsync(management);
        Assert.Contains(management, await routes.ListAsync());
        await routes.DeleteAsync(management);
        Assert.DoesNotContain(management, await routes.ListAsync());
    }

    [Fact]
    public void A_route_request_carries_what_ip_route_sends_and_parses_back()
    {
        var add = Rtnetlink.RouteRequest(true, 7, 28, [10, 0, 2, 0], [10, 0, 2, 2], 5, onLink: true);
        var m = Assert.Single(Rtnetlink.Split(add, add.Length));
        Assert.Equal((Rtnetlink.RTM_NEWROUTE, 7u), (m.Type, m.Seq));
        var flags = BinaryPrimitives.ReadUInt16LittleEndian(add.AsSpan(6));
        Assert.Equal(Rtnetlink.NLM_F_REQUEST | Rtnetlink.NLM_F_ACK | Rtnetlink.NLM_F_CREATE | Rtnetlink.NLM_F_EXCL, flags); // never replaces
        var r = Rtnetlink.ParseRoute(add, m);
        Assert.Equal((Rtnetlink.AF_INET, (byte)28, (uint)Rtnetlink.RT_TABLE_MAIN, Rtnetlink.RTN_UNICAST, Rtnetlink.RTNH_F_ONLINK, 5),
            (r.Family, r.DstLength, r.Table, r.Type, r.Flags, r.OutputInterface));
        Assert.Equal(new byte[] { 10, 0, 2, 0 }, r.Destination);
        Assert.Equal(new byte[] { 10, 0, 2, 2 }, r.Gateway);

        // A delete matches any protocol, scope and type, as `ip route del` does; a default route carries no RTA_DST.
        var del = Rtnetlink.RouteRequest(false, 8, 0, [0, 0, 0, 0], null, 3, onLink: false);
        var d = Rtnetlink.ParseRoute(del, Assert.Single(Rtnetlink.Split(del, del.Length)));
        Assert.Equal((Rtnetlink.RTN_UNSPEC, (byte)0, (byte[]?)null, (byte[]?)null, 3), (d.Type, d.DstLength, d.Destination, d.Gateway, d.OutputInterface));
        Assert.Equal(Rtnetlink.RT_SCOPE_NOWHERE, del[Rtnetlink.HeaderSize + 6]);
    }

    [Fact]
    public async Task Sysctl_reads_and_writes_the_namespace_own_values()
    {
        var inNs = new LinuxSysctl(_a.Name);
        var root = new LinuxSysctl();
        var rootBefore = await root.ReadAsync("net.ipv4.tcp_reordering");

        var value = rootBefore == "127" ? "126" : "127";
        await inNs.WriteAsync("net.ipv4.tcp_reordering", value);
        Assert.Equal(value, await inNs.ReadAsync("net.ipv4.tcp_reordering"));
        Assert.Equal(rootBefore, await root.ReadAsync("net.ipv4.tcp_reordering"));

        Assert.Null(await inNs.ReadAsync("net.ipv4.no_such_key"));
        Assert.Throws<PortException>(() => LinuxSysctl.PathOf("/proc/sys", "net.ipv4/../../etc"));
        Assert.Throws<PortException>(() => LinuxSysctl.PathOf("/proc/sys", "net..ipv4"));
    }
}
