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
