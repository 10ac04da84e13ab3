using System.Text.RegularExpressions;

namespace EqlActors.Messages;

/// <summary>
/// A small, closed set of reasons a link went down, for counters and alerts (a free-text reason cannot be a
/// metric label). Derived from the reason text a <see cref="LinkDown"/> carries, so it works on every event the
/// link actor publishes today; a producer that knows the class directly only has to map onto these names.
/// </summary>
public static partial class FailureClass
{
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
        [Signal, ConnectFailed, PtyCommandFailed, NegotiationFailed, LcpEchoTimeout, Hangup, PppdExit, InterfaceDown, UpTimeout, StartFailed, HealthProbe, Operator, Other];

    [GeneratedRegex(@"\(pppd exit (\d+)\)")]
    private static partial Regex PppdExitCode();

    public static string Of(string reason)
    {
        if (PppdExitCode().Match(reason) is { Success: true } m && int.TryParse(m.Groups[1].Value, out var code))
        {
            return code switch
            {
                PppExitCodes.Signal => Signal,
                PppExitCodes.ConnectFailed => ConnectFailed,
                PppExitCodes.PtyCommandFailed => PtyCommandFailed,
                PppExitCodes.NegotiationFailed => NegotiationFailed,
                PppExitCodes.LcpEchoTimeout => LcpEchoTimeout,
                PppExitCodes.Hangup => Hangup,
                _ => PppdExit,
            };
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
