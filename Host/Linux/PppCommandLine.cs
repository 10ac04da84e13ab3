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
        };
        if (p.LcpEchoInterval > 0)
        {
            argv.AddRange(["lcp-echo-interval", Inv(p.LcpEchoInterval), "lcp-echo-failure", Inv(p.LcpEchoFailure)]);
        }
        argv.AddRange(p.ExtraOptions);
        argv.AddRange(["pty", PtyCommand(launch)]);
        return argv;
    }

    /// <summary>The remote command's words: <c>SLIRP -l N</c>, or the TCP attach form <c>SLIRP -l N,127.0.0.1:PORT,PASSWORD</c>.</summary>
    public static IReadOnlyList<string> RemoteWords(RemoteConfig r, int link)
    {
        var unit = r.Attach == SlirpAttach.Tcp && link != 0
            ? $"{Inv(link)},127.0.0.1:{Inv(r.TcpPort)},{r.TcpPassword}"
            : Inv(link);
        return [r.SlirpCommand, "-l", unit];
    }

    /// <summary>The remote command as one string for host_B's shell (ssh joins its arguments with spaces).</summary>
    public static string RemoteCommand(RemoteConfig r, int link) => ShellQuote.Join(RemoteWords(r, link));

    /// <summary>ssh's argv for the link (argv[0] is the ssh path).</summary>
    public static IReadOnlyList<string> SshArgv(RemoteConfig r, int link)
    {
        var argv = new List<string> { r.SshPath, "-q", "-t" };
        argv.AddRange(CommonOptions(r));
        if (!r.JumpHosts.IsDefaultOrEmpty)
        {
            argv.AddRange(["-o", "ProxyCommand=" + ProxyCommand(r, r.JumpHosts.Length - 1)]);
        }
        argv.AddRange(["-l", r.Account.User, "-p", Inv(r.Account.Port), "--", r.Account.Host, RemoteCommand(r, link)]);
        return argv;
    }

    /// <summary>pppd's <c>pty</c> value: <c>exec ssh ...</c>, every word quoted for <c>/bin/sh -c</c>.</summary>
    public static string PtyCommand(PppLaunch launch) => "exec " + ShellQuote.Join(SshArgv(launch.Config.Remote, launch.Link));

    /// <summary>
    /// The options every hop gets: the same identity, known_hosts and strict checking for jump hosts as for
    /// host_B (ssh's own <c>-J</c> would not pass <c>-i</c> or <c>-o</c> to the hops).
    /// </summary>
    private static IEnumerable<string> CommonOptions(RemoteConfig r) =>
    [
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
        var words = new List<string> { r.SshPath, "-q", "-T" };
        words.AddRange(CommonOptions(r));
        if (hop > 0)
        {
            words.AddRange(["-o", "ProxyCommand=" + ProxyCommand(r, hop - 1)]);
        }
        words.AddRange(["-W", $"[{next.Host}]:{Inv(next.Port)}", "-l", jump.User, "-p", Inv(jump.Port), "--", jump.Host]);
        return ShellQuote.Join(words.Select(EscapePercent));
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
