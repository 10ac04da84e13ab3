namespace EqlActors.Messages;

/// <summary>
/// pppd(8) EXIT STATUS: the one table of what each code means to an operator and whether retrying can help. The
/// Linux port and the simulated system both report their exits from it.
/// </summary>
public static class PppExitCodes
{
    public const int Signal = 5;
    public const int ConnectFailed = 8;
    public const int PtyCommandFailed = 9;
    public const int NegotiationFailed = 10;
    public const int LcpEchoTimeout = 15;
    public const int Hangup = 16;

    /// <summary>What an exit means; <see cref="Permanent"/>: the same start will fail again until someone fixes something.</summary>
    public sealed record Meaning(string Reason, bool Permanent);

    public static readonly IReadOnlyDictionary<int, Meaning> Table = new Dictionary<int, Meaning>
    {
        [0] = new("pppd ended normally (link terminated by peer or idle)", false),
        [1] = new("pppd fatal error", false),
        [2] = new("pppd option error (the generated command line or /etc/ppp/options is wrong)", true),
        [3] = new("pppd is not setuid-root and was run by a normal user", true),
        [4] = new("the kernel does not support PPP (no ppp_generic/ppp_async)", true),
        [Signal] = new("pppd terminated by a signal (SIGINT, SIGTERM or SIGHUP)", false),
        [6] = new("the serial port could not be locked", false),
        [7] = new("the serial port could not be opened", false),
        [ConnectFailed] = new("the connect script failed", false),
        [PtyCommandFailed] = new("the pty command (ssh to host_B) could not be run", false),
        [NegotiationFailed] = new("PPP negotiation failed (no network protocol came up)", false),
        [11] = new("the peer system failed or refused to authenticate itself", true),
        [12] = new("the link was idle and was terminated", false),
        [13] = new("the link reached its maximum connect time", false),
        [14] = new("callback negotiated, an incoming call should arrive", false),
        [LcpEchoTimeout] = new("the peer stopped answering LCP echo requests (dead link)", false),
        [Hangup] = new("modem hangup: the pty command (ssh or slirp) ended", false),
        [17] = new("the PPP negotiation failed because serial loopback was detected", false),
        [18] = new("the init script failed", false),
        [19] = new("pppd failed to authenticate itself to the peer", true),
    };

    public static Meaning Explain(int code) =>
        Table.TryGetValue(code, out var meaning) ? meaning
        : code is > 128 and < 128 + 65 ? new($"pppd killed by signal {code - 128}", false)
        : new($"pppd exited with unknown status {code}", false);

    public static string Describe(int code) => Explain(code).Reason;
}
