using EqlActors.Messages;

namespace EqlActors.Tests.Control;

/// <summary>The reason texts the link actor publishes map onto the closed set of failure classes metrics use.</summary>
public sealed class FailureClassTests
{
    [Theory]
    [InlineData("modem hangup: ssh or the remote slirp ended (pppd exit 16)", FailureClass.Hangup)]
    [InlineData("the peer stopped answering LCP echo requests (pppd exit 15)", FailureClass.LcpEchoTimeout)]
    [InlineData("pppd was killed by a signal (pppd exit 5)", FailureClass.Signal)]
    [InlineData("connect failed (pppd exit 8)", FailureClass.ConnectFailed)]
    [InlineData("the pty command (ssh) failed (pppd exit 9)", FailureClass.PtyCommandFailed)]
    [InlineData("PPP negotiation failed (pppd exit 10)", FailureClass.NegotiationFailed)]
    [InlineData("pppd exited with status 2 (pppd exit 2)", FailureClass.PppdExit)]
    [InlineData("ppp1 went down while pppd kept running", FailureClass.InterfaceDown)]
    [InlineData("ppp1 vanished", FailureClass.InterfaceDown)]
    [InlineData("the link did not come up within 60 s", FailureClass.UpTimeout)]
    [InlineData("pppd could not be started: no such file", FailureClass.StartFailed)]
    [InlineData("end-to-end probe failed 3 times (the link passes LCP but carries no traffic): x", FailureClass.HealthProbe)]
    [InlineData("restarted by the operator", FailureClass.Operator)]
    [InlineData("something new", FailureClass.Other)]
    public void A_reason_maps_to_its_class(string reason, string expected)
    {
        Assert.Equal(expected, FailureClass.Of(reason));
        Assert.Contains(expected, FailureClass.All);
    }
}

/// <summary>The Linux probes against this machine's loopback only.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LinuxHealthProbeTests
{
    [Fact]
    public async Task An_echo_out_through_lo_comes_back_and_one_through_a_missing_device_fails_with_the_reason()
    {
        var probe = new EqlActors.Host.Linux.LinuxHealthProbe();
        var ok = await probe.EchoAsync("lo", "127.0.0.1", TimeSpan.FromSeconds(10));
        Assert.True(ok.Ok, ok.Detail);
        Assert.True(ok.RttSeconds >= 0);
        var missing = await probe.EchoAsync("eqla-nodev0", "127.0.0.1", TimeSpan.FromSeconds(2));
        Assert.False(missing.Ok);
        Assert.Contains("eqla-nodev0", missing.Detail);
    }

    [Fact]
    public async Task A_connect_passes_when_accepted_or_refused()
    {
        var probe = new EqlActors.Host.Linux.LinuxHealthProbe();
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var accepted = await probe.ConnectAsync("127.0.0.1", port, TimeSpan.FromSeconds(10));
        Assert.True(accepted.Ok, accepted.Detail);
        listener.Stop();
        var refused = await probe.ConnectAsync("127.0.0.1", port, TimeSpan.FromSeconds(10));
        Assert.True(refused.Ok, refused.Detail);
        Assert.Contains("refused", refused.Detail);
    }

    [Fact]
    public void The_echo_request_carries_a_valid_checksum_and_a_reply_is_matched_by_source_id_and_sequence()
    {
        var request = EqlActors.Host.Linux.LinuxHealthProbe.EchoRequest(0x1234, 1);
        Assert.Equal(0, EqlActors.Host.Linux.LinuxHealthProbe.Checksum(request));
        var reply = new byte[20 + request.Length];
        reply[0] = 0x45;
        new byte[] { 10, 0, 2, 2 }.CopyTo(reply, 12);
        request.CopyTo(reply, 20);
        reply[20] = 0; // echo reply
        var from = System.Net.IPAddress.Parse("10.0.2.2");
        Assert.True(EqlActors.Host.Linux.LinuxHealthProbe.IsReply(reply, from, 0x1234, 1));
        Assert.False(EqlActors.Host.Linux.LinuxHealthProbe.IsReply(reply, from, 0x1235, 1));
        Assert.False(EqlActors.Host.Linux.LinuxHealthProbe.IsReply(reply, System.Net.IPAddress.Parse("10.0.2.3"), 0x1234, 1));
        reply[20] = 8; // our own request, seen by the raw socket
        Assert.False(EqlActors.Host.Linux.LinuxHealthProbe.IsReply(reply, from, 0x1234, 1));
    }
}
