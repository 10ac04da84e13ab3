using System.Collections.Immutable;
using System.Text;
using EqlActors.Configuration;
using EqlActors.Host.Linux;
using EqlActors.Ports;
using EqlActors.Tests.Fixtures;

namespace EqlActors.Tests.Linux;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PppCommandLineTests : IDisposable
{
    private readonly TempDir _dir = new("eqla-pty-");
    private readonly string _stub;
    private readonly string _argvFile;
    private readonly string _canary;

    // Every value a shell or ssh could misread. None may run anything, split or merge words.
    public static readonly string[] Hostile =
    [
        "a;touch CANARY", "$(touch CANARY)", "`touch CANARY`", "it's \"quoted\"", "new\nline", "two  words",
        "-oProxyCommand=touch CANARY", "%h%%p", "back\\slash", "*", "~root", "a&&b||c|d>e<f", "",
    ];

    public PppCommandLineTests()
    {
        // A directory whose own name is hostile: the stub ssh's path has to be quoted too.
        var hostileDir = Path.Combine(_dir.Path, "bin dir;$(x)'q'");
        Directory.CreateDirectory(hostileDir);
        _argvFile = _dir.File("argv");
        _canary = _dir.File("CANARY");
        _stub = Path.Combine(hostileDir, "ssh");
        File.WriteAllText(_stub, "#!/bin/sh\nprintf '%s\\0' \"$@\" > \"$ARGV_FILE\"\n");
        File.SetUnixFileMode(_stub, (UnixFileMode)0b111_101_101);
    }

    public void Dispose() => _dir.Dispose();

    private string Canary(string s) => s.Replace("CANARY", _canary);

    private BundleConfig Config(string v, SlirpAttach attach = SlirpAttach.Unix, int jumps = 1) => new()
    {
        Remote = new RemoteConfig
        {
            Account = new SshEndpoint(Canary(v) + "user", Canary(v) + "host", 2222),
            JumpHosts = Enumerable.Range(0, jumps).Select(i => new SshEndpoint(Canary(v) + "fw" + i, "jump" + i + Canary(v), 22 + i)).ToImmutableArray(),
            SlirpCommand = Canary(v) + "bin/slirp",
            IdentityFile = "/keys/" + Canary(v),
            // ssh reads -o values like config lines: a line break there is refused (see its own test).
            KnownHostsFile = "/kh/" + Canary(v).Replace("\n", ""),
            SshPath = _stub,
            Attach = attach,
            TcpPassword = Canary(v) + "pw",
            // Past the validator (which refuses all of these) the quoting alone must still hold.
            SshKexAlgorithms = "curve25519-sha256," + Canary(v).Replace("\n", ""),
            ReuseConnection = true,
        },
        // The link's ssh master socket goes beside the control socket: a hostile directory name reaches ssh too.
        Control = new ControlConfig { SocketPath = "/run/x" + Canary(v).Replace("\n", "") + "/control.sock" },
    };

    /// <summary>Runs a command string through /bin/sh -c as pppd does and returns the argv the stub ssh received.</summary>
    private string[] RunThroughShell(string command)
    {
        File.Delete(_argvFile);
        var (code, _, err) = Run.Argv(["/bin/sh", "-c", command], new Dictionary<string, string> { ["ARGV_FILE"] = _argvFile });
        Assert.True(code == 0, $"sh exited {code}: {err}");
        var raw = File.ReadAllText(_argvFile, Encoding.UTF8);
        return raw.Length == 0 ? [] : raw[..^1].Split('\0');
    }

    /// <summary>Parses a string the way host_B's shell does and returns its words.</summary>
    private static string[] ShellWords(string command)
    {
        var (code, stdout, err) = Run.Argv(["/bin/sh", "-c", "set -- " + command + "\nprintf '%s\\0' \"$@\""]);
        Assert.True(code == 0, $"sh exited {code}: {err}");
        return stdout.Length == 0 ? [] : stdout[..^1].Split('\0');
    }

    /// <summary>ssh's %-expansion of a ProxyCommand for the host and port it connects to.</summary>
    private static string ExpandLikeSsh(string s, string host, int port)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] != '%') { sb.Append(s[i]); continue; }
            var t = s[++i];
            sb.Append(t switch { '%' => "%", 'h' => host, 'p' => port.ToString(), _ => throw new InvalidOperationException($"unexpected %{t}") });
        }
        return sb.ToString();
    }

    public static TheoryData<string> HostileValues() => new(Hostile);

    [Theory]
    [MemberData(nameof(HostileValues))]
    public void Pty_command_delivers_exactly_the_intended_ssh_argv(string value)
    {
        var config = Config(value);
        var launch = new PppLaunch(2, config);
        var pty = PppCommandLine.PtyCommand(launch);
        Assert.StartsWith("exec ", pty);

        var received = RunThroughShell(pty);

        Assert.Equal(PppCommandLine.SshArgv(config, 2).Skip(1), received);
        Assert.False(File.Exists(_canary), "a hostile value ran a command");
        // The last word is host_B's command line: its shell must see exactly the wrapper and its arguments.
        Assert.Equal(["sh", "-c", Host.Remote.RemoteScripts.LinkWrapper, "sh", Canary(value) + "bin/slirp", "2", "1500", "",
            Host.Remote.RemoteScripts.AnchoredPattern(Canary(value) + "bin/slirp"), ""], ShellWords(received[^1]));
        Assert.False(File.Exists(_canary), "a hostile value ran a command on host_B's shell");
        // Destination after "--", user via -l: a leading '-' cannot become an option.
        Assert.Equal(["-l", Canary(value) + "user", "-p", "2222", "--", Canary(value) + "host"], received[^7..^1]);
    }

    [Theory]
    [MemberData(nameof(HostileValues))]
    public void Tcp_attach_form_keeps_the_password_off_every_command_line(string value)
    {
        var config = Config(value, SlirpAttach.Tcp, jumps: 0) is var c ? c with { Remote = c.Remote with { TcpPassword = "s3cret-" + value } } : null!;
        var pty = PppCommandLine.PtyCommand(new PppLaunch(3, config));
        Assert.DoesNotContain("s3cret-", pty);
        Assert.DoesNotContain("s3cret-", string.Join(" ", PppCommandLine.PppdArgv(new PppLaunch(3, config))));
        var received = RunThroughShell(pty);
        Assert.Equal([Canary(value) + "bin/slirp", "3", "1500", "", Host.Remote.RemoteScripts.AnchoredPattern(Canary(value) + "bin/slirp"), "9999"],
            ShellWords(received[^1])[4..]);
        Assert.DoesNotContain(received, w => w.StartsWith("ProxyCommand=", StringComparison.Ordinal));
        Assert.False(File.Exists(_canary));
    }

    [Theory]
    [MemberData(nameof(HostileValues))]
    public void Proxy_commands_reach_every_jump_host_with_the_same_identity_and_known_hosts(string value)
    {
        var config = Config(value, jumps: 2);
        var r = config.Remote;
        var received = RunThroughShell(PppCommandLine.PtyCommand(new PppLaunch(0, config)));

        // ssh expands the outer ProxyCommand (for host_B) and runs it with sh -c "exec ...".
        var proxy = received.Single(w => w.StartsWith("ProxyCommand=", StringComparison.Ordinal))["ProxyCommand=".Length..];
        var hop1 = RunThroughShell("exec " + ExpandLikeSsh(proxy, r.Account.Host, r.Account.Port));
        var expectedCommon = new[]
        {
            "-o", "LogLevel=ERROR", "-o", "KexAlgorithms=" + PppCommandLine.ConfigWord(r.SshKexAlgorithms),
            "-i", PppCommandLine.EscapePercent(r.IdentityFile), "-o", "IdentitiesOnly=yes",
            "-o", "UserKnownHostsFile=" + PppCommandLine.ConfigWord(PppCommandLine.EscapePercent(r.KnownHostsFile)),
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
        };
        Assert.Equal(["-T", .. expectedCommon], hop1[..15]);
        Assert.Equal(["-W", $"[{r.Account.Host}]:2222", "-l", r.JumpHosts[1].User, "-p", "23", "--", r.JumpHosts[1].Host], hop1[^8..]);

        // The last jump's ssh expands its own ProxyCommand for itself: that one reaches the first jump.
        var inner = hop1.Single(w => w.StartsWith("ProxyCommand=", StringComparison.Ordinal))["ProxyCommand=".Length..];
        var hop0 = RunThroughShell("exec " + ExpandLikeSsh(inner, r.JumpHosts[1].Host, 23));
        Assert.Equal(["-T", .. expectedCommon], hop0[..15]);
        Assert.Equal(["-W", $"[{r.JumpHosts[1].Host}]:23", "-l", r.JumpHosts[0].User, "-p", "22", "--", r.JumpHosts[0].Host], hop0[^8..]);
        Assert.DoesNotContain(hop0, w => w.StartsWith("ProxyCommand=", StringComparison.Ordinal));
        Assert.False(File.Exists(_canary));
    }

    [Fact]
    public void Every_hop_gets_the_configured_key_exchange_and_the_default_leaves_ssh_its_own()
    {
        var jumps = ImmutableArray.Create(new SshEndpoint("fw", "jump", 22));
        var config = new BundleConfig { Remote = new RemoteConfig { SshPath = _stub, JumpHosts = jumps, SshKexAlgorithms = RemoteConfig.ClassicSshKexAlgorithms } };
        var received = RunThroughShell(PppCommandLine.PtyCommand(new PppLaunch(0, config)));
        var kex = "KexAlgorithms=" + RemoteConfig.ClassicSshKexAlgorithms;
        Assert.Single(received, kex);
        var proxy = received.Single(w => w.StartsWith("ProxyCommand=", StringComparison.Ordinal))["ProxyCommand=".Length..];
        Assert.Single(ShellWords(ExpandLikeSsh(proxy, "h", 22)), kex);

        Assert.Equal("", new RemoteConfig().SshKexAlgorithms);
        var stock = config with { Remote = config.Remote with { SshKexAlgorithms = new RemoteConfig().SshKexAlgorithms } };
        var plain = RunThroughShell(PppCommandLine.PtyCommand(new PppLaunch(0, stock)));
        Assert.DoesNotContain(plain, w => w.Contains("KexAlgorithms", StringComparison.Ordinal));
        Assert.DoesNotContain(plain.Single(w => w.StartsWith("ProxyCommand=", StringComparison.Ordinal)), "KexAlgorithms", StringComparison.Ordinal);
    }

    [Fact]
    public void A_line_break_in_an_ssh_option_value_is_refused_not_passed()
    {
        var config = new BundleConfig { Remote = new RemoteConfig { KnownHostsFile = "/kh\nProxyCommand touch x" } };
        var e = Assert.Throws<PortException>(() => PppCommandLine.PtyCommand(new PppLaunch(0, config)));
        Assert.Equal(FailureKind.Permanent, e.Kind);
    }

    [Fact]
    public void Pppd_argv_has_the_howto_options_without_updetach_and_a_linkname()
    {
        var config = new BundleConfig { Ppp = new PppConfig { Mtu = 1400, ExtraOptions = ["debug"] } };
        var argv = PppCommandLine.PppdArgv(new PppLaunch(1, config));
        Assert.Equal("/usr/sbin/pppd", argv[0]);
        Assert.Equal(
            ["nodetach", "unit", "1", "linkname", "eqlactors-1", "local", "10.0.2.15:10.0.2.2", "mtu", "1400", "mru", "1400",
             "passive", "noauth", "nodeflate", "novj", "novjccomp", "nodefaultroute", "idle", "0", "noipv6",
             "lcp-echo-interval", "1", "lcp-echo-failure", "3", "debug", "pty"],
            argv.Skip(1).SkipLast(1));
        Assert.DoesNotContain("updetach", argv);
        Assert.Equal("/var/run/ppp-eqlactors-1.pid", PppCommandLine.PidFile("/var/run", config.Ppp, 1));
    }

    [Fact]
    public void Quoting_round_trips_every_byte_but_nul()
    {
        var all = new string(Enumerable.Range(1, 127).Select(i => (char)i).ToArray()) + "é€";
        Assert.Equal([all, "", "'"], ShellWords(ShellQuote.Join([all, "", "'"])));
        Assert.Throws<ArgumentException>(() => ShellQuote.Quote("a\0b"));
    }

    [Theory]
    [InlineData(0, FailureKind.Transient)]
    [InlineData(2, FailureKind.Permanent)]
    [InlineData(5, FailureKind.Transient)]
    [InlineData(8, FailureKind.Transient)]
    [InlineData(9, FailureKind.Transient)]
    [InlineData(10, FailureKind.Transient)]
    [InlineData(15, FailureKind.Transient)]
    [InlineData(16, FailureKind.Transient)]
    [InlineData(19, FailureKind.Permanent)]
    [InlineData(143, FailureKind.Transient)]
    public void Exit_codes_map_to_reasons(int code, FailureKind kind)
    {
        var (reason, permanent) = EqlActors.Messages.PppExitCodes.Explain(code);
        Assert.Equal(kind == FailureKind.Permanent, permanent);
        Assert.False(string.IsNullOrWhiteSpace(reason));
    }

    [Theory]
    [MemberData(nameof(HostileValues))]
    public void The_link_s_control_path_reaches_ssh_exactly_for_the_outer_ssh_only(string value)
    {
        var config = Config(value);
        var path = PppCommandLine.ControlPath(config, 2);
        Assert.Equal(Path.GetDirectoryName(Path.GetFullPath(config.Control.SocketPath)), Path.GetDirectoryName(path));
        Assert.Equal("ssh-eqlactors-2", Path.GetFileName(path));

        var received = RunThroughShell(PppCommandLine.PtyCommand(new PppLaunch(2, config)));
        var sharing = received.Where(w => w.StartsWith("Control", StringComparison.Ordinal)).ToList();
        Assert.Equal(["ControlMaster=auto", "ControlPath=" + PppCommandLine.ConfigWord(PppCommandLine.EscapePercent(path)), "ControlPersist=90"], sharing);
        // ssh itself reads the options back as intended (-G prints the configuration after %-expansion).
        var options = sharing.SelectMany(w => new[] { "-o", w }).ToList();
        var (code, stdout, err) = Run.Argv(["/usr/bin/ssh", "-G", .. options, "-p", "22", "somehost"]);
        Assert.True(code == 0, $"ssh -G exited {code}: {err}");
        Assert.Contains("controlpath " + path, stdout.Split('\n'));
        Assert.Contains("controlmaster auto", stdout.Split('\n'));
        // The hops run inside the master's ProxyCommand: they share nothing.
        var proxy = received.Single(w => w.StartsWith("ProxyCommand=", StringComparison.Ordinal));
        Assert.DoesNotContain("Control", proxy, StringComparison.Ordinal);
        Assert.False(File.Exists(_canary), "a hostile value ran a command");
    }

    [Theory]
    [InlineData("/run/${HOME}/control.sock", "'${'")]
    [InlineData("/run/a-directory-name-long-enough-to-push-the-control-path-over-the-limit-of-ssh/x/control.sock", "longer than 90 bytes")]
    public void A_control_path_ssh_cannot_take_is_refused_with_the_reason(string socketPath, string reason)
    {
        var config = new BundleConfig { Control = new ControlConfig { SocketPath = socketPath } };
        Assert.Contains(reason, PppCommandLine.ControlPathError(PppCommandLine.ControlPath(config, 0)));
        var e = Assert.Throws<PortException>(() => PppCommandLine.PtyCommand(new PppLaunch(0, config)));
        Assert.Equal(FailureKind.Permanent, e.Kind);
        Assert.Contains("remote.reuseConnection=false", e.Message);
        // Without reuse the stock command line is there, whatever the control path.
        var stock = config with { Remote = config.Remote with { ReuseConnection = false } };
        Assert.DoesNotContain("Control", PppCommandLine.PtyCommand(new PppLaunch(0, stock)), StringComparison.Ordinal);
    }

    [Fact]
    public void Reuse_is_on_by_default_with_one_socket_per_link()
    {
        var config = new BundleConfig();
        Assert.True(config.Remote.ReuseConnection);
        Assert.Equal("/run/eqlactors/ssh-eqlactors-0", PppCommandLine.ControlPath(config, 0));
        Assert.Equal(3, config.Links.Select(l => PppCommandLine.ControlPath(config, l)).Distinct().Count());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_jump_host_s_own_words_reach_pppd_s_log_with_or_without_a_kept_connection(bool reuse)
    {
        // A jump host whose port is closed: the hop's ssh (inside the ProxyCommand) says "Connection refused". With
        // ControlPersist ssh sends the ProxyCommand's stderr to /dev/null: only the outer ssh's "Connection closed"
        // reached the log, and the link's reason could not name the hop.
        int closed;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            closed = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
        }
        var config = new BundleConfig
        {
            Control = new ControlConfig { SocketPath = _dir.File("control.sock") },
            Remote = new RemoteConfig
            {
                SshPath = "/usr/bin/ssh",
                JumpHosts = [new SshEndpoint("fw", "127.0.0.1", closed)],
                IdentityFile = _dir.File("no-key"),
                KnownHostsFile = _dir.File("known_hosts"),
                ReuseConnection = reuse,
            },
        };

        var (code, _, stderr) = Run.Argv(["/bin/sh", "-c", PppCommandLine.PtyCommand(new PppLaunch(0, config))]);

        Assert.NotEqual(0, code);
        Assert.Contains($"connect to host 127.0.0.1 port {closed}: Connection refused", stderr);
        Assert.False(File.Exists(PppCommandLine.ControlPath(config, 0)), "a failed first connection left a master socket");
    }
}
