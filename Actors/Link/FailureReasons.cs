using System.Text.RegularExpressions;
using EqlActors.Configuration;
using EqlActors.Messages;

namespace EqlActors.Actors;

/// <summary>A link failure in the words of whoever saw it: ssh, the remote slirp or pppd.</summary>
/// <param name="Class">One of <see cref="FailureClass.All"/>: what kind of cause, for scripts and the system test.</param>
public sealed record LinkFailure(string Reason, bool Permanent, string Class);

/// <summary>
/// Reads the lines of one attempt (pppd's output, which carries the stderr of its pty command: ssh and every
/// ProxyCommand hop) and names the cause of a link failure in the remote's own words. A pure function: the link
/// actor collects the lines, the remote host's error file is read by the diagnosis and classified here too.
/// </summary>
public static partial class FailureReasons
{
    /// <summary>Lines kept per attempt, and characters per line: enough for ssh's and pppd's messages, bounded for hostile output.</summary>
    public const int MaxLines = 40;
    public const int MaxLineLength = 300;

    /// <summary>Bounds one line of output for keeping: control characters become spaces, long lines are cut.</summary>
    public static string Bound(string line)
    {
        var cut = line.Length > MaxLineLength ? line[..MaxLineLength] + "..." : line;
        return ControlChars().Replace(cut, " ").Trim();
    }

    /// <summary>
    /// The failure the lines explain, most specific first (a refused key beats the hangup it causes), or null when
    /// they say nothing beyond what pppd's exit code says.
    /// </summary>
    public static LinkFailure? Explain(IReadOnlyList<string> lines, RemoteConfig remote)
    {
        var (f, said) = ExplainCore(lines, remote);
        // The line the reason rests on is appended: the reason is also in the remote's own words.
        return f is not null && said is not null && !f.Reason.Contains(said, StringComparison.Ordinal) ? f with { Reason = $"{f.Reason} [\"{said}\"]" } : f;
    }

    private static (LinkFailure? F, string? Said) ExplainCore(IReadOnlyList<string> lines, RemoteConfig remote)
    {
        string? found = null;
        (LinkFailure?, string?) Said(LinkFailure? f) => (f, f is null ? null : found);
        string? Find(Regex r, out Match m)
        {
            foreach (var l in lines)
            {
                m = r.Match(l);
                if (m.Success) return found = l;
            }
            m = Match.Empty;
            return null;
        }

        if (Find(PermissionDenied(), out var pd) is not null)
        {
            var who = pd.Groups["who"].Success ? pd.Groups["who"].Value : null;
            return Said(new LinkFailure($"authentication refused by {HopOfAccount(who, remote)} ({pd.Groups["methods"].Value}): " +
                "the key is not accepted there (authorized_keys?)", true, FailureClass.AuthRefused));
        }
        if (Find(HostKeyChanged(), out var hk) is not null)
            return Said(new LinkFailure($"the host key of {HopOfAddress(hk.Groups["host"].Value, remote)} has changed (ssh refuses it: " +
                "check it and update the known_hosts file)", true, FailureClass.HostKey));
        if (Find(HostKeyUnknown(), out var hu) is not null)
            return Said(new LinkFailure($"no known host key for {HopOfAddress(hu.Groups["host"].Value, remote)} (add it to the known_hosts file, " +
                "or see remote.acceptNewHostKeys)", true, FailureClass.HostKey));
        if (Find(HostKeyFailed(), out _) is not null)
            return Said(new LinkFailure("host key verification failed on one of the hops", true, FailureClass.HostKey));
        if (Find(IdentityMissing(), out var im) is { } imLine)
            return Said(new LinkFailure($"ssh cannot use its key: {imLine}", true, FailureClass.LocalSetup));
        if (Find(ConnectFailed(), out var cf) is not null)
        {
            var hop = HopOfAddress(cf.Groups["host"].Value, remote, cf.Groups["port"].Value);
            return Said(Connect(cf.Groups["why"].Value, hop));
        }
        if (Find(ResolveFailed(), out var rf) is not null)
            return Said(new LinkFailure($"cannot resolve {HopOfAddress(rf.Groups["host"].Value, remote)}: {rf.Groups["why"].Value}", false, FailureClass.Unreachable));
        if (Find(ChannelOpenFailed(), out var co) is not null)
        {
            // A jump host's own ssh (-W) could not reach the next hop; with one jump host that is host_B.
            var next = remote.JumpHosts.Length <= 1 ? $"host_B ({remote.Account})" : "the hop behind a jump host";
            return Said(Connect(co.Groups["why"].Value, next + ", as seen from the jump host"));
        }
        if (Find(StdioForwardingFailed(), out _) is not null)
        {
            // The jump host's own ssh (-W) reports why only at INFO, below ssh's LogLevel=ERROR: seen in the guest
            // with host_B's sshd stopped, so a refused connection is the likely cause.
            var next = remote.JumpHosts.Length <= 1 ? $"host_B ({remote.Account})" : "the hop behind a jump host";
            return Said(new LinkFailure($"connection refused by {next} as seen from the jump host (stdio forwarding failed): its sshd is not listening or not reachable",
                false, FailureClass.ConnectionRefused));
        }
        if (Find(BannerTimeout(), out _) is not null)
            return Said(new LinkFailure($"ssh timed out waiting for a server's greeting ({FirstHop(remote)} or a hop behind it)", false, FailureClass.TimedOut));
        if (Find(ServerAlive(), out var sa) is not null)
            return Said(new LinkFailure($"ssh lost {HopOfAddress(sa.Groups["host"].Value, remote)}: no answer to keepalives", false, FailureClass.ConnectionLost));
        if (Find(ClosedByRemote(), out _) is { } closed)
            return Said(new LinkFailure($"ssh connection closed before login ({closed}): a hop's sshd refused or dropped it", false, FailureClass.ConnectionLost));
        if (Find(EchoTimeout(), out var et) is { } echo)
            return Said(new LinkFailure($"the peer stopped answering LCP echo requests (pppd: \"{echo}\"): the path froze", false, FailureClass.LcpEchoTimeout));
        if (Find(LcpConfTimeout(), out _) is { } conf)
            return Said(new LinkFailure($"the remote end never spoke PPP (pppd: \"{conf}\"): slirp is not running in ppp mode or is stuck", false, FailureClass.PppdExit));
        if (Find(SlirpError(), out _) is { } slirp)
            return Said(RemoteError(slirp));
        if (Find(TerminatedBySignal(), out var ts) is not null)
            return Said(new LinkFailure($"pppd was stopped by signal {ts.Groups["sig"].Value} from outside this service", false, FailureClass.PppdExit));
        return Said(null);
    }

    /// <summary>The remote wrapper's error file (slirp's stderr of the unit's last attempt): its first error line, classified.</summary>
    public static LinkFailure? ExplainRemote(string text)
    {
        var lines = text.Split('\n').Select(Bound).Where(l => l.Length > 0).Take(MaxLines).ToList();
        // Only error lines: a healthy slirp's banner and "Connected:" say nothing about why its link ended.
        var error = lines.FirstOrDefault(l => SlirpError().IsMatch(l) || ShellError().IsMatch(l));
        return error is null ? null : RemoteError(error);
    }

    private static LinkFailure RemoteError(string line)
    {
        if (line.Contains("out of range", StringComparison.OrdinalIgnoreCase))
            return new LinkFailure($"the remote slirp has too few units: \"{line}\" (rebuild it with MAX_INTERFACES=4; eqlactors provision --build-slirp)", true, FailureClass.SlirpAttach);
        if (line.Contains("cannot connect to Slirp socket", StringComparison.OrdinalIgnoreCase))
            return new LinkFailure($"the unit could not attach: \"{line}\" (no main slirp was serving the socket; unit 0 starts it)", false, FailureClass.SlirpAttach);
        if (line.Contains("already attached", StringComparison.OrdinalIgnoreCase))
            return new LinkFailure($"the unit could not attach: \"{line}\" (an old session still holds it)", false, FailureClass.SlirpAttach);
        if (ShellError().IsMatch(line))
            return new LinkFailure($"the remote command could not run: \"{line}\"", false, FailureClass.RemoteCommand);
        return new LinkFailure($"the remote command failed: \"{line}\"", false, FailureClass.RemoteCommand);
    }

    private static LinkFailure Connect(string why, string hop)
    {
        if (why.Contains("refused", StringComparison.OrdinalIgnoreCase))
            return new LinkFailure($"connection refused by {hop}: its sshd is not listening", false, FailureClass.ConnectionRefused);
        if (why.Contains("timed out", StringComparison.OrdinalIgnoreCase))
            return new LinkFailure($"connection to {hop} timed out", false, FailureClass.TimedOut);
        return new LinkFailure($"cannot reach {hop}: {why}", false, FailureClass.Unreachable);
    }

    /// <summary>
    /// The ssh hop whose answering again would let a failed link retry before its backoff ends: the one a failure
    /// of reaching a hop names (host_B or a jump host), else the first hop; null for every other kind of failure
    /// (a hop that answers says nothing about a failing slirp or a refused key).
    /// </summary>
    public static SshEndpoint? HopToCheck(string cls, string reason, RemoteConfig remote)
    {
        if (cls is not (FailureClass.ConnectionRefused or FailureClass.Unreachable or FailureClass.TimedOut or FailureClass.ConnectionLost)) return null;
        var jumps = remote.JumpHosts.IsDefault ? [] : remote.JumpHosts;
        if (reason.Contains($"host_B ({remote.Account})", StringComparison.Ordinal)) return remote.Account;
        if (jumps.FirstOrDefault(j => reason.Contains($"jump host {j}", StringComparison.Ordinal)) is { } named) return named;
        return jumps.Length > 0 ? jumps[0] : remote.Account;
    }

    private static string FirstHop(RemoteConfig r) => r.JumpHosts.IsDefaultOrEmpty ? $"host_B ({r.Account})" : $"jump host {r.JumpHosts[0]}";

    /// <summary>Names the hop ssh spoke of by address: "jump host fireman@fw" or "host_B (hostb@host:2201)".</summary>
    private static string HopOfAddress(string host, RemoteConfig r, string? port = null)
    {
        host = host.Trim('[', ']');
        var bracket = host.LastIndexOf("]:", StringComparison.Ordinal);
        if (bracket >= 0) host = host[..bracket];
        bool Is(SshEndpoint e) => e.Host == host && (port is null || e.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) == port);
        var jumps = r.JumpHosts.IsDefault ? [] : r.JumpHosts;
        // Several hops can share an address (the system test's sshds all listen on 127.0.0.1): the port decides.
        if (jumps.FirstOrDefault(Is) is { } j && !(port is null && Is(r.Account))) return $"jump host {j}";
        if (Is(r.Account)) return $"host_B ({r.Account})";
        return port is null ? host : $"{host} port {port}";
    }

    private static string HopOfAccount(string? who, RemoteConfig r)
    {
        if (who is null) return "a hop (account not named by ssh)";
        var at = who.LastIndexOf('@');
        var (user, host) = at < 0 ? (who, "") : (who[..at], who[(at + 1)..]);
        var jumps = r.JumpHosts.IsDefault ? [] : r.JumpHosts;
        // The account is the one thing ssh names: when host_B and a jump host share an address, the user tells them apart.
        if (r.Account.User == user && r.Account.Host == host) return $"host_B for account {r.Account}";
        if (jumps.FirstOrDefault(j => j.User == user && j.Host == host) is { } jump) return $"jump host {jump}";
        return $"{who}";
    }

    [GeneratedRegex(@"[\x00-\x1f\x7f]")]
    private static partial Regex ControlChars();

    [GeneratedRegex(@"(?:(?<who>\S+@\S+?):\s+)?Permission denied \((?<methods>[^)]*)\)")]
    private static partial Regex PermissionDenied();

    [GeneratedRegex(@"Host key for (?<host>\S+) has changed")]
    private static partial Regex HostKeyChanged();

    [GeneratedRegex(@"No \S+ host key is known for (?<host>\S+) and you have requested strict checking")]
    private static partial Regex HostKeyUnknown();

    [GeneratedRegex(@"^Host key verification failed")]
    private static partial Regex HostKeyFailed();

    [GeneratedRegex(@"^(?:Load key ""[^""]*""|Warning: Identity file .* not accessible)")]
    private static partial Regex IdentityMissing();

    [GeneratedRegex(@"connect to host (?<host>\S+) port (?<port>\d+): (?<why>.+)$")]
    private static partial Regex ConnectFailed();

    [GeneratedRegex(@"Could not resolve hostname (?<host>[^:]+): (?<why>.+)$")]
    private static partial Regex ResolveFailed();

    [GeneratedRegex(@"open failed: (?:connect failed: )?(?<why>.+)$")]
    private static partial Regex ChannelOpenFailed();

    [GeneratedRegex(@"stdio forwarding failed")]
    private static partial Regex StdioForwardingFailed();

    [GeneratedRegex(@"Connection timed out during banner exchange")]
    private static partial Regex BannerTimeout();

    [GeneratedRegex(@"^Timeout, server (?<host>\S+) not responding")]
    private static partial Regex ServerAlive();

    [GeneratedRegex(@"kex_exchange_identification: |Connection closed by \S+ port \d+")]
    private static partial Regex ClosedByRemote();

    [GeneratedRegex(@"No response to \d+ echo-requests")]
    private static partial Regex EchoTimeout();

    [GeneratedRegex(@"LCP: timeout sending Config-Requests")]
    private static partial Regex LcpConfTimeout();

    [GeneratedRegex(@"^Terminating on signal (?<sig>\d+)")]
    private static partial Regex TerminatedBySignal();

    [GeneratedRegex(@"^Error:? ?:? ")]
    private static partial Regex SlirpError();

    [GeneratedRegex(@"(?:not found|Permission denied|cannot execute|No such file or directory|Exec format error)", RegexOptions.IgnoreCase)]
    private static partial Regex ShellError();
}
