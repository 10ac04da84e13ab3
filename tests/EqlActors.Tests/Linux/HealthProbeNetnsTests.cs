using System.Runtime.Versioning;
using EqlActors.Host.Linux;
using EqlActors.Tests.Fixtures;

namespace EqlActors.Tests.Linux;

/// <summary>
/// The Linux health probe on a real kernel, inside two namespaces the test creates, joined by two veth pairs:
/// v0 (10.9.1.1) - v1 (10.9.1.2) and w0 (10.9.2.1) - w1 (10.9.2.2). B answers 10.9.1.1 over w1, so the reply to an
/// echo sent out through v0 comes back on w0, as a multi-unit slirp answers every link over its first unit.
/// A root qdisc that drops every packet on v0 is the guest's lcp-only fault: the device is up, its traffic is gone.
/// Nothing is sent outside these namespaces.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class HealthProbeNetnsTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);
    private readonly NetnsFixture _a = new();
    private readonly NetnsFixture _b = new();

    public HealthProbeNetnsTests()
    {
        foreach (var (local, peer, net) in new[] { ("v0", "v1", "10.9.1"), ("w0", "w1", "10.9.2") })
        {
            _a.Ip("link", "add", local, "type", "veth", "peer", "name", peer, "netns", _b.Name);
            _a.Ip("addr", "add", $"{net}.1/24", "dev", local);
            _b.Ip("addr", "add", $"{net}.2/24", "dev", peer);
            _a.Ip("link", "set", local, "up");
            _b.Ip("link", "set", peer, "up");
        }
        _b.Ip("route", "add", "10.9.1.1/32", "via", "10.9.2.1", "dev", "w1");
        // A reply to 10.9.1.1 arriving on w0 is asymmetric routing: strict reverse-path filtering would drop it.
        Run.Checked("ip", "netns", "exec", _a.Name, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.w0.rp_filter=0");
    }

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }

    [Fact]
    public async Task An_echo_leaves_through_the_bound_device_counts_its_reply_on_another_and_fails_when_that_device_drops_traffic()
    {
        var probe = new LinuxHealthProbe(_a.Name);
        var v0TxBefore = (await new LinuxNetworkLinks(_a.Name).GetAsync("v0")).TxPackets;
        var w0RxBefore = (await new LinuxNetworkLinks(_a.Name).GetAsync("w0")).RxPackets;

        var ok = await probe.EchoAsync("v0", "10.9.1.2", Timeout);
        Assert.True(ok.Ok, ok.Detail);
        Assert.NotNull(ok.RttSeconds);
        Assert.True((await new LinuxNetworkLinks(_a.Name).GetAsync("v0")).TxPackets > v0TxBefore, "the echo left through v0");
        Assert.True((await new LinuxNetworkLinks(_a.Name).GetAsync("w0")).RxPackets > w0RxBefore, "the reply came back on w0");

        var other = await probe.EchoAsync("w0", "10.9.1.2", Timeout);
        Assert.True(other.Ok, other.Detail);

        Run.Checked("tc", "-n", _a.Name, "qdisc", "replace", "dev", "v0", "root", "pfifo", "limit", "0");
        var dropped = await probe.EchoAsync("v0", "10.9.1.2", Timeout);
        Assert.False(dropped.Ok, dropped.Detail);
        Assert.Null(dropped.RttSeconds);
        Assert.Contains("v0", dropped.Detail);
        // The route to 10.9.1.2 is v0's: this echo passes only because the binding sends it out through w0.
        var stillOk = await probe.EchoAsync("w0", "10.9.1.2", Timeout);
        Assert.True(stillOk.Ok, "bound to w0, the echo avoids the dropping v0: " + stillOk.Detail);

        Run.Checked("tc", "-n", _a.Name, "qdisc", "del", "dev", "v0", "root");
        var again = await probe.EchoAsync("v0", "10.9.1.2", Timeout);
        Assert.True(again.Ok, again.Detail);
    }

    [Fact]
    public async Task A_connect_passes_when_accepted_or_refused_and_fails_when_nothing_answers()
    {
        var probe = new LinuxHealthProbe(_a.Name);
        var refused = await probe.ConnectAsync("10.9.1.2", 9, Timeout);
        Assert.True(refused.Ok, refused.Detail);
        Assert.Contains("refused", refused.Detail);

        using var listener = Netns.Run(_b.Name, () =>
        {
            var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Parse("10.9.1.2"), 0);
            l.Start();
            return l;
        });
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var accepted = await probe.ConnectAsync("10.9.1.2", port, Timeout);
        Assert.True(accepted.Ok, accepted.Detail);
        Assert.Contains("connected", accepted.Detail);

        // No host has 10.9.1.3: its ARP request is never answered.
        var silent = await probe.ConnectAsync("10.9.1.3", 9, Timeout);
        Assert.False(silent.Ok, silent.Detail);
    }
}
