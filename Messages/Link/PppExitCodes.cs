namespace EqlActors.Messages;

/// <summary>pppd(8) EXIT STATUS values this service meets, with words an operator understands.</summary>
public static class PppExitCodes
{
    public const int Signal = 5;
    public const int ConnectFailed = 8;
    public const int PtyCommandFailed = 9;
    public const int NegotiationFailed = 10;
    public const int LcpEchoTimeout = 15;
    public const int Hangup = 16;

    public static string Describe(int code) => code switch
    {
        0 => "pppd ended normally",
        Signal => "pppd was killed by a signal",
        ConnectFailed => "connect failed",
        PtyCommandFailed => "the pty command (ssh) failed",
        NegotiationFailed => "PPP negotiation failed",
        LcpEchoTimeout => "the peer stopped answering LCP echo requests",
        Hangup => "modem hangup: ssh or the remote slirp ended",
        _ => $"pppd exited with status {code}",
    };
}
