using System.Globalization;
using EqlActors.Configuration;
using EqlActors.Ports;

namespace EqlActors.Host.Linux;

/// <summary>
/// Builds pppd's argv and its <c>pty</c> command for one link. pppd runs the <c>pty</c> value under
/// <c>/bin/sh -c</c>, and ssh hands the remote command to host_B's login shell: every word is quoted for
/// both levels, and the pty command starts with <c>exec</c> so that no shell sits between pppd and ssh
/// (a SIGTERM to the chain then reaches ssh itself; docs/facts.md, "Restarting one link").
/// </summary>
public static class PppCommandLine
{
    public const string PidFileDirectory = "/var/run";

    /// <summary>pppd's linkname: its pidfile is <c>/var/run/ppp-LINKNAME.pid</c>.</summary>
    public static string LinkName(PppConfig ppp, int link) => $"{ppp.LinkNamePrefix}-{Inv(link)}";

    public static string PidFile(string runDirectory, PppConfig ppp, int link) => Path.Combine(runDirectory, $"ppp-{LinkName(ppp, link)}.pid");

    /// <summary>pppd's full argv (argv[0] is the pppd path), the HOWTO's options without <c>updetach</c>.</summary>
    public static IReadOnlyList<string> PppdArgv(PppLaunch launch)
    {
        var c = launch.Config;
        var p = c.Ppp;
        var argv = new List<string>
        {
            p.PppdPath,
            "nodetach",
            "unit", Inv(launch.Link),
            "linkname", LinkName(p, launch.Link),
            "local", $"{p.LocalAddress}:{p.RemoteAddress}",
            "mtu", Inv(p.Mtu),
            "mru", Inv(p.Mtu),
            "passive", "noauth", "nodeflate", "novj", "novjccomp", "nodefaultroute",
            "idle", "0",
            // slirp speaks no IPv6CP: without this, Debian's pppd sent IPV6CP Config-Requests on every link for 30 s
            // after each bring-up and logged "IPV6CP: timeout sending Config-Requests" (guest runs).
            "noipv6",
        };
        if (p.LcpEchoInterval > 0)
        {
            argv.AddRange(["lcp-echo-interval", Inv(p.LcpEchoInterval), "lcp-echo-failure", Inv(p.LcpEchoFailure)]);
        }
        argv.AddRange(p.ExtraOptions);
        argv.AddRange(["pty", PtyCommand(launch)]);
        return argv;
    }

    /// <summary>
    /// The remote command's words: host_B's side of the chain (<see cref="Remote.RemoteScripts.LinkWrapper"/>) with
    /// its arguments. It writes the unit's rc files, on a clean start (<paramref name="generation"/>) prepares
    /// host_B for this start, keeps slirp's stderr in a file for the diagnosis (slirp's data runs on fd 0, its
    /// messages on stderr would vanish into the PPP stream) and execs slirp. The TCP attach password is never
    /// one of these words: the wrapper reads it from a 0600 file into SLIRP_PASSWORD and passes <c>-</c>.
    /// </summary>
    public static IReadOnlyList<string> RemoteWords(BundleConfig config, int link, string? generation = null)
    {
        var r = config.Remote;
        return ["sh", "-c", Remote.RemoteScripts.LinkWrapper, "sh",
            r.SlirpCommand, Inv(link), Inv(config.Ppp.Mtu), generation ?? "",
            Remote.RemoteScripts.AnchoredPattern(r.SlirpCommand), r.Attach == SlirpAttach.Tcp ? Inv(r.TcpPort) : ""];
    }

    /// <summary>The remote command as one string for host_B's shell (ssh joins its arguments with spaces).</summary>
    public static string RemoteCommand(BundleConfig config, int link, string? generation = null) => ShellQuote.Join(RemoteWords(config, link, generation));

    /// <summary>ssh's argv for the link (argv[0] is the ssh path).</summary>
    public static IReadOnlyList<string> SshArgv(BundleConfig config, int link, string? generation = null)
    {
        var r = config.Remote;
        var argv = new List<string> { r.SshPath, "-t" };
        argv.AddRange(CommonOptions(r));
        argv.AddRange(ConnectionSharing(config, link));
        if (!r.JumpHosts.IsDefaultOrEmpty)
        {
            var proxy = ProxyCommand(r, r.JumpHosts.Length - 1);
            argv.AddRange(["-o", "ProxyCommand=" + (r.ReuseConnection ? EscapePercent(KeepStderr) + " " + proxy : proxy)]);
        }
        argv.AddRange(["-l", r.Account.User, "-p", Inv(r.Account.Port), "--", r.Account.Host, RemoteCommand(config, link, generation)]);
        return argv;
    }

    /// <summary>pppd's <c>pty</c> value: <c>exec ssh ...</c>, every word quoted for <c>/bin/sh -c</c>.</summary>
    public static string PtyCommand(PppLaunch launch) => "exec " + ShellQuote.Join(SshArgv(launch.Config, launch.Link, launch.Generation));

    /// <summary>
    /// The options every hop gets: the same identity, known_hosts and strict checking for jump hosts as for
    /// host_B (ssh's own <c>-J</c> would not pass <c>-i</c> or <c>-o</c> to the hops).
    /// </summary>
    /// <remarks>
    /// <c>KexAlgorithms</c> (<see cref="RemoteConfig.SshKexAlgorithms"/>): every hop makes its own key exchange on
    /// every attempt, so its CPU cost is paid twice per link, on each restart.
    /// <c>LogLevel=ERROR</c> instead of the HOWTO's <c>-q</c>: <c>-q</c> also silences "Permission denied",
    /// "Connection refused" and "Host key verification failed", which pppd (running the pty command with its
    /// stderr on pppd's own output) would otherwise pass on as the only words saying why a link failed.
    /// </remarks>
    private static IEnumerable<string> CommonOptions(RemoteConfig r) =>
    [
        "-o", "LogLevel=ERROR",
        .. r.SshKexAlgorithms.Length > 0 ? ["-o", "KexAlgorithms=" + ConfigWord(r.SshKexAlgorithms)] : Array.Empty<string>(),
        "-i", EscapePercent(r.IdentityFile),
        "-o", "IdentitiesOnly=yes",
        "-o", "UserKnownHostsFile=" + ConfigWord(EscapePercent(r.KnownHostsFile)),
        "-o", "StrictHostKeyChecking=yes",
        "-o", "BatchMode=yes",
        "-o", "ServerAliveInterval=" + Inv(Math.Max(1, (int)r.KeepAliveInterval.TotalSeconds)),
        "-o", "ServerAliveCountMax=3",
        "-o", "ConnectTimeout=" + Inv(Math.Max(1, (int)r.ConnectTimeout.TotalSeconds)),
    ];

    /// <summary>
    /// The ProxyCommand that reaches jump host <paramref name="hop"/> and forwards to the next hop (host_B after
    /// the last jump). ssh expands <c>%</c> tokens in it and runs it with <c>/bin/sh -c "exec ..."</c>: each word
    /// is written as the hop's ssh must receive it, its <c>%</c> doubled for that expansion, then sh-quoted.
    /// The forward target is written literally, not as ssh's <c>[%h]:%p</c>, because ssh 9.2 inserts <c>%h</c>
    /// unquoted into the shell command. An inner hop's ProxyCommand is one such word, escaped once more per level.
    /// </summary>
    public static string ProxyCommand(RemoteConfig r, int hop)
    {
        var jump = r.JumpHosts[hop];
        var next = hop + 1 < r.JumpHosts.Length ? r.JumpHosts[hop + 1] : r.Account;
        var words = new List<string> { r.SshPath, "-T" };
        words.AddRange(CommonOptions(r));
        if (hop > 0)
        {
            words.AddRange(["-o", "ProxyCommand=" + ProxyCommand(r, hop - 1)]);
        }
        words.AddRange(["-W", $"[{next.Host}]:{Inv(next.Port)}", "-l", jump.User, "-p", Inv(jump.Port), "--", jump.Host]);
        return ShellQuote.Join(words.Select(EscapePercent));
    }

    /// <summary>
    /// The link's own OpenSSH master connection (docs/facts.md, "One ssh connection per link"), for the outermost ssh
    /// only (the hops' ssh run inside the master's ProxyCommand). <c>ControlMaster=auto</c>: the first attempt
    /// authenticates in the foreground, its errors on pppd's log as before, then forks the master; a later attempt
    /// finds the master's socket and only opens a session over it. One path per link, never shared: each link keeps
    /// its own TCP connection. <c>ControlPersist</c> bounds how long an unused master outlives its last session, in
    /// case the daemon is gone for good (the daemon ends the masters itself; see <see cref="SshMasters"/>).
    /// </summary>
    public static IEnumerable<string> ConnectionSharing(BundleConfig config, int link)
    {
        if (!config.Remote.ReuseConnection) return [];
        var path = ControlPath(config, link);
        if (ControlPathError(path) is { } error) throw new PortException($"link {link}: {error}", FailureKind.Permanent);
        return
        [
            "-o", "ControlMaster=auto",
            "-o", "ControlPath=" + ConfigWord(EscapePercent(path)),
            "-o", "ControlPersist=" + Inv(ControlPersistSeconds(config)),
        ];
    }

    /// <summary>
    /// With <c>ControlPersist</c> ssh sends its ProxyCommand's stderr to /dev/null, and with it the jump host's own words
    /// ("connect failed: Connection refused", "stdio forwarding failed") that name which hop failed: the link's reason
    /// became "a hop's sshd refused or dropped it" and the hop check could not tell which hop to wait for. This prefix
    /// passes the hop's stderr on, line by line, to the stderr of the ssh that ran it (its parent: pppd's log). Each
    /// line reopens that descriptor and closes it again: a ProxyCommand that holds pppd's output pipe for the master's
    /// whole life would keep the daemon waiting for that pipe's end after every pppd exit. The hop's stdout (the data)
    /// goes through fd 3 untouched; its arguments follow as words, so nothing of the configuration is quoted again.
    /// </summary>
    public const string KeepStderr =
        "sh -c '{ \"$@\" 2>&1 >&3 3>&- | while IFS= read -r l; do printf \"%s\\n\" \"$l\" >>/proc/$PPID/fd/2; done >/dev/null; } 3>&1' sh";

    /// <summary>How long an idle master waits for the next session: longer than any backoff between two attempts.</summary>
    public static int ControlPersistSeconds(BundleConfig config) => (int)Math.Ceiling(config.Supervision.MaxBackoff.TotalSeconds) + 60;

    /// <summary>
    /// The link's master socket: <c>ssh-LINKNAME</c> in the daemon's private runtime directory (the control socket's,
    /// created 0700), so no other user can reach or replace it.
    /// </summary>
    public static string ControlPath(BundleConfig config, int link) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(config.Control.SocketPath)) ?? "/", $"ssh-{LinkName(config.Ppp, link)}");

    /// <summary>
    /// ssh binds the master at <c>PATH.</c> plus 16 random characters, then renames it: that name must fit a unix
    /// socket address (107 bytes and a NUL).
    /// </summary>
    public const int MaxControlPathLength = 107 - 17;

    /// <summary>Why ssh could not take <paramref name="path"/> as a ControlPath, or null.</summary>
    public static string? ControlPathError(string path)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(path) > MaxControlPathLength)
            return $"the ssh control path {path} is longer than {MaxControlPathLength} bytes (ssh adds 17 to it for a unix socket address); choose a shorter control.socketPath or ppp.linkNamePrefix, or set remote.reuseConnection=false";
        // ssh expands ${VAR} in a ControlPath and has no escape for it; a leading ~ is the home directory.
        if (path.Contains("${", StringComparison.Ordinal) || path.StartsWith('~'))
            return $"the ssh control path {path} contains '${{' or starts with '~', which ssh would expand; choose another control.socketPath, or set remote.reuseConnection=false";
        if (path.IndexOfAny(['\n', '\r', '\0']) >= 0) return "the ssh control path contains a line break or NUL";
        return null;
    }

    /// <summary>ssh expands %-tokens in IdentityFile, UserKnownHostsFile and ProxyCommand: a literal % is %%.</summary>
    public static string EscapePercent(string s) => s.Replace("%", "%%");

    /// <summary>
    /// A value for <c>ssh -o KEY=VALUE</c>: ssh splits such a line into words like its config file, honouring
    /// double quotes. A value with a space or quote is double-quoted with <c>\</c> and <c>"</c> escaped.
    /// </summary>
    public static string ConfigWord(string s)
    {
        if (s.IndexOfAny(['\n', '\r', '\0']) >= 0)
            throw new PortException($"ssh option value {s.ReplaceLineEndings(" ")} contains a line break: ssh cannot take it", FailureKind.Permanent);
        if (s.Length > 0 && s.IndexOfAny([' ', '\t', '"', '\'', '\\', '=', '#']) < 0) return s;
        return "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
    }

    private static string Inv(int i) => i.ToString(CultureInfo.InvariantCulture);
}
