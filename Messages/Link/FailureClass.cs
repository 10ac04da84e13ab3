using System.Text.RegularExpressions;

namespace EqlActors.Messages;

/// <summary>
/// The one table of the reasons a link went down, a small closed set for status (<c>lastErrorClass</c>), counters
/// and alerts (a free-text reason cannot be a metric label). The link actor names the class when it fails a link:
/// from the remote's own words (ssh, slirp, pppd's log lines; see <c>FailureReasons</c>) when they say more, else
/// from pppd's exit code or the reason text (<see cref="Of"/>).
/// </summary>
public static partial class FailureClass
{
    // In the remote's own words (FailureReasons).
    public const string AuthRefused = "auth-refused";
    public const string HostKey = "host-key";
    public const string ConnectionRefused = "connection-refused";
    public const string Unreachable = "unreachable";
    public const string TimedOut = "timed-out";
    public const string ConnectionLost = "connection-lost";
    public const string LocalSetup = "local-setup";
    public const string SlirpAttach = "slirp-attach";
    public const string RemoteCommand = "remote-command";

    // From pppd's exit code or what the link actor saw.
    public const string Signal = "signal";
    public const string ConnectFailed = "connect-failed";
    public const string PtyCommandFailed = "pty-command-failed";
    public const string NegotiationFailed = "negotiation-failed";
    public const string LcpEchoTimeout = "lcp-echo-timeout";
    public const string Hangup = "hangup";
    public const string PppdExit = "pppd-exit";
    public const string InterfaceDown = "interface-down";
    public const string UpTimeout = "up-timeout";
    public const string StartFailed = "start-failed";
    public const string HealthProbe = "health-probe";
    public const string Operator = "operator";
    public const string Other = "other";

    /// <summary>Every class, in the order status and /metrics list them.</summary>
    public static readonly IReadOnlyList<string> All =
        [AuthRefused, HostKey, ConnectionRefused, Unreachable, TimedOut, ConnectionLost, LocalSetup, SlirpAttach, RemoteCommand,
         Signal, ConnectFailed, PtyCommandFailed, NegotiationFailed, LcpEchoTimeout, Hangup, PppdExit, InterfaceDown, UpTimeout, StartFailed, HealthProbe, Operator, Other];

    [GeneratedRegex(@"\(pppd exit (\d+)\)")]
    private static partial Regex PppdExitCode();

    /// <summary>The class pppd's exit code alone gives (16, hangup: the pty command ended, for whatever reason).</summary>
    public static string OfExitCode(int code) => code switch
    {
        PppExitCodes.Signal => Signal,
        PppExitCodes.ConnectFailed => ConnectFailed,
        PppExitCodes.PtyCommandFailed => PtyCommandFailed,
        PppExitCodes.NegotiationFailed => NegotiationFailed,
        PppExitCodes.LcpEchoTimeout => LcpEchoTimeout,
        PppExitCodes.Hangup => Hangup,
        _ => PppdExit,
    };

    public static string Of(string reason)
    {
        if (PppdExitCode().Match(reason) is { Success: true } m && int.TryParse(m.Groups[1].Value, out var code))
        {
            return OfExitCode(code);
        }
        if (reason.StartsWith(HealthProbeReasonPrefix, StringComparison.Ordinal)) return HealthProbe;
        if (reason.StartsWith(OperatorReason, StringComparison.Ordinal)) return Operator;
        if (reason.Contains("went down while pppd kept running", StringComparison.Ordinal) || reason.EndsWith(" vanished", StringComparison.Ordinal)) return InterfaceDown;
        if (reason.StartsWith("the link did not come up within", StringComparison.Ordinal)) return UpTimeout;
        if (reason.StartsWith("pppd could not be started", StringComparison.Ordinal)) return StartFailed;
        return Other;
    }

    /// <summary>The reason a link restarted by the health probe goes down with.</summary>
    public const string HealthProbeReasonPrefix = "end-to-end probe failed";

    /// <summary>The reason a link restarted by the operator (<c>eqlactors restart-link</c>) goes down with.</summary>
    public const string OperatorReason = "restarted by the operator";
}
