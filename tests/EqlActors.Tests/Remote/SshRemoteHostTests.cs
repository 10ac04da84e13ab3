using System.Runtime.Versioning;
using EqlActors.Configuration;
using EqlActors.Host.Remote;
using EqlActors.Ports;
using EqlActors.Tests.Fixtures;

namespace EqlActors.Tests.Remote;

/// <summary>SSH.NET against real OpenSSH servers on 127.0.0.1 (see <see cref="SshdFixture"/>).</summary>
[SupportedOSPlatform("linux")]
public sealed class SshRemoteHostTests(SshdFixture sshd) : IClassFixture<SshdFixture>
{
    private async Task<string> WhoAmI(BundleConfig config)
    {
        using var session = await SshSession.ConnectAsync(config.Remote);
        var (status, stdout, _) = await session.RunAsync("id -un", TimeSpan.FromSeconds(10));
        Assert.Equal(0, status);
        return stdout.Trim();
    }

    private static int Count(string text, string what) => text.Split(what).Length - 1;

    [Fact]
    public async Task Connects_with_ed25519_and_rsa_keys()
    {
        var kh = sshd.KnownHosts(sshd.BothHostLines());
        Assert.Equal(sshd.User, await WhoAmI(sshd.Config(kh)));
        Assert.Equal(sshd.User, await WhoAmI(sshd.Config(kh, identity: sshd.KeyRsa)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Connects_through_jump_hosts(int jumps)
    {
        var kh = sshd.KnownHosts(sshd.BothHostLines());
        var before = Count(sshd.Jump.Log, "Accepted publickey");
        Assert.Equal(sshd.User, await WhoAmI(sshd.Config(kh, jumps: jumps)));
        await Wait.UntilAsync(() => Count(sshd.Jump.Log, "Accepted publickey") >= before + jumps, TimeSpan.FromSeconds(5), "the jump host's log");
    }

    [Fact]
    public async Task A_changed_host_key_is_refused_naming_host_and_fingerprint()
    {
        // known_hosts claims the jump host's key for host_B's address: host_B's real key no longer matches.
        var wrong = sshd.Jump.KnownHostsLine.Replace($"[127.0.0.1]:{sshd.Jump.Port}", $"[127.0.0.1]:{sshd.Target.Port}");
        var kh = sshd.KnownHosts(wrong);
        var e = await Assert.ThrowsAsync<PortException>(() => WhoAmI(sshd.Config(kh)));
        Assert.Equal(FailureKind.Permanent, e.Kind);
        Assert.Contains($"host key of [127.0.0.1]:{sshd.Target.Port} has CHANGED", e.Message);
        Assert.Contains(sshd.Target.Fingerprint, e.Message);
    }

    [Fact]
    public async Task An_unknown_host_is_refused_unless_new_keys_are_accepted()
    {
        var kh = sshd.KnownHosts(sshd.Jump.KnownHostsLine); // the jump host is known, host_B is not
        var e = await Assert.ThrowsAsync<PortException>(() => WhoAmI(sshd.Config(kh, jumps: 1)));
        Assert.Equal(FailureKind.Permanent, e.Kind);
        Assert.Contains($"host key of [127.0.0.1]:{sshd.Target.Port} (ssh-ed25519 {sshd.Target.Fingerprint}) is not in {kh}", e.Message);
        Assert.DoesNotContain(sshd.Target.KnownHostsLine.Split(' ')[2], File.ReadAllText(kh));

        Assert.Equal(sshd.User, await WhoAmI(sshd.Config(kh, jumps: 1, acceptNew: true)));
        Assert.Contains(sshd.Target.KnownHostsLine, File.ReadAllText(kh));
        Assert.Equal(sshd.User, await WhoAmI(sshd.Config(kh, jumps: 1))); // now known, no opt-in needed
    }

    [Fact]
    public async Task Hashed_known_hosts_written_by_ssh_keygen_are_understood()
    {
        var kh = sshd.KnownHosts(sshd.BothHostLines());
        Run.Checked("ssh-keygen", "-q", "-H", "-f", kh);
        Assert.StartsWith("|1|", File.ReadAllText(kh));
        Assert.Equal(sshd.User, await WhoAmI(sshd.Config(kh, jumps: 1)));
    }

    [Fact]
    public async Task A_key_the_server_does_not_accept_is_a_permanent_authentication_failure()
    {
        var kh = sshd.KnownHosts(sshd.BothHostLines());
        var e = await Assert.ThrowsAsync<PortException>(() => WhoAmI(sshd.Config(kh, identity: sshd.KeyWrong)));
        Assert.Equal(FailureKind.Permanent, e.Kind);
        Assert.Contains($"authentication as {sshd.User} on [127.0.0.1]:{sshd.Target.Port} refused", e.Message);
        Assert.DoesNotContain("PRIVATE KEY", e.Message);
    }

    [Fact]
    public async Task A_closed_port_is_a_transient_network_failure()
    {
        var kh = sshd.KnownHosts(sshd.BothHostLines());
        var config = sshd.Config(kh);
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var closed = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        config = config with { Remote = config.Remote with { Account = new SshEndpoint(sshd.User, "127.0.0.1", closed) } };
        var e = await Assert.ThrowsAsync<PortException>(() => WhoAmI(config));
        Assert.Equal(FailureKind.Transient, e.Kind);
        Assert.Contains($"cannot reach [127.0.0.1]:{closed}", e.Message);
    }

    [Fact]
    public async Task Rc_files_are_written_atomically_with_the_right_content()
    {
        var kh = sshd.KnownHosts(sshd.BothHostLines());
        var config = sshd.Config(kh, jumps: 1);
        config = config with { Ppp = config.Ppp with { Mtu = 1400 } };
        var sftpBefore = Count(sshd.Target.Log, "subsystem request for sftp");
        await new SshRemoteHost(config).WriteRcFilesAsync([0, 1, 2]);
        // A plain shell command, not SFTP: host_B's sshd need not offer the subsystem (the qemu guest's does not).
        await Wait.UntilAsync(() => Count(sshd.Target.Log, "Starting session: command") > 0, TimeSpan.FromSeconds(5), "host_B's sshd log");
        Assert.Equal(sftpBefore, Count(sshd.Target.Log, "subsystem request for sftp"));

        Assert.Equal("socket\nmtu 1400\nmru 1400\n", File.ReadAllText(Path.Combine(sshd.Home, ".slirprc")));
        foreach (var n in new[] { 0, 1, 2 }) Assert.Equal("ppp\n", File.ReadAllText(Path.Combine(sshd.Home, $".slirprc-{n}")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(sshd.Home, ".slirprc")));

        var tcp = config with { Remote = config.Remote with { Attach = SlirpAttach.Tcp, TcpPort = 9999, TcpPassword = "s3cret" } };
        await new SshRemoteHost(tcp).WriteRcFilesAsync([0]);
        Assert.Equal("socket 9999,s3cret\nmtu 1400\nmru 1400\n", File.ReadAllText(Path.Combine(sshd.Home, ".slirprc")));
        // The links' remote side reads the password from here (RemoteScripts.LinkWrapper); it came over stdin.
        Assert.Equal("s3cret", File.ReadAllText(Path.Combine(sshd.Home, ".eqlactors/attach-password")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(sshd.Home, ".eqlactors/attach-password")));
        Assert.DoesNotContain("s3cret", sshd.Target.Log);
        Assert.Empty(Directory.GetFiles(sshd.Home, "*eqlactors-*"));
        var owner = new FileInfo(Path.Combine(sshd.Home, ".slirprc")).UnixFileMode;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, owner);
    }

    [Fact]
    public async Task Only_the_users_own_exact_slirp_processes_are_killed()
    {
        // Stand-ins: copies of sleep, so their command line starts with the path they were run as.
        File.Copy("/bin/sleep", Path.Combine(sshd.Home, "bin/slirp"), overwrite: true);
        File.Copy("/bin/sleep", Path.Combine(sshd.Home, "bin/slirpx"), overwrite: true);
        sshd.Chown(Path.Combine(sshd.Home, "bin/slirp"), Path.Combine(sshd.Home, "bin/slirpx"));
        using var stale = StartAs(sshd.User, "bin/slirp", "301");
        using var similar = StartAs(sshd.User, "bin/slirpx", "302");
        using var other = StartAs(sshd.User, "sleep", "303");
        using var foreign = StartAs("root", "bin/slirp", "304"); // same command line, another user
        try
        {
            await Wait.UntilAsync(() => Pgrep(sshd.User, "^bin/slirp 301$").Count == 1 && Pgrep("root", "^bin/slirp 304$").Count == 1,
                TimeSpan.FromSeconds(10), "the stand-ins to run");
            var killed = await new SshRemoteHost(sshd.Config(sshd.KnownHosts(sshd.BothHostLines()))).KillStaleSlirpAsync();

            Assert.Equal(1, killed);
            Assert.Empty(Pgrep(sshd.User, "^bin/slirp 301$"));
            Assert.Single(Pgrep(sshd.User, "^bin/slirpx 302$"));
            Assert.Single(Pgrep(sshd.User, "^sleep 303$"));
            Assert.Single(Pgrep("root", "^bin/slirp 304$"));
            Assert.Equal(0, await new SshRemoteHost(sshd.Config(sshd.KnownHosts(sshd.BothHostLines()))).KillStaleSlirpAsync());
        }
        finally
        {
            foreach (var p in new[] { stale, similar, other, foreign }) { try { p.Kill(); } catch (InvalidOperationException) { } p.WaitForExit(); }
        }
    }

    /// <summary>Runs argv as <paramref name="user"/> in host_B's home; setpriv execs (no fork), so the process is our child and reaped here.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void The_pty_command_reaches_slirp_through_real_ssh_and_the_remote_shell(int jumps)
    {
        // A slirp path and a known_hosts path that need quoting at every level; a stand-in slirp records its argv.
        const string slirp = "bin/sl irp;$(touch pwned)'q'";
        sshd.Install(slirp, "#!/bin/sh\nprintf '%s\\0' \"$0\" \"$@\" > \"$HOME/slirp-argv\"\n");
        var khDir = Path.Combine(sshd.Dir.Path, $"known hosts {jumps}");
        Directory.CreateDirectory(khDir);
        var kh = Path.Combine(khDir, "known_hosts");
        File.WriteAllLines(kh, sshd.BothHostLines());
        var config = sshd.Config(kh, jumps: jumps, slirp: slirp);
        // One connection per attempt, the stock way (the kept master is SshMasterTests').
        config = config with { Remote = config.Remote with { SshPath = "/usr/bin/ssh", ReuseConnection = false } };
        var argvFile = Path.Combine(sshd.Home, "slirp-argv");
        File.Delete(argvFile);

        var pty = EqlActors.Host.Linux.PppCommandLine.PtyCommand(new PppLaunch(2, config));
        var (code, stdout, stderr) = Run.Argv(["/bin/sh", "-c", pty]);

        Assert.True(code == 0, $"ssh exited {code}: {stderr}{stdout}");
        var argv = File.ReadAllText(argvFile).TrimEnd('\0').Split('\0');
        Assert.Equal([slirp, "-l", "2"], argv);
        Assert.False(File.Exists(Path.Combine(sshd.Home, "pwned")));
    }

    private System.Diagnostics.Process StartAs(string user, params string[] argv)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("setpriv") { UseShellExecute = false, WorkingDirectory = sshd.Home };
        var (uid, gid) = user == "root" ? (0, 0) : (sshd.Uid, sshd.Gid);
        foreach (var a in new[] { $"--reuid={uid}", $"--regid={gid}", "--clear-groups", "--" }.Concat(argv)) psi.ArgumentList.Add(a);
        return System.Diagnostics.Process.Start(psi)!;
    }

    private static List<string> Pgrep(string user, string pattern)
    {
        var (_, stdout, _) = Run.Argv(["pgrep", "-u", user, "-f", pattern]);
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    public static TheoryData<string, string, bool, bool, int, bool> ProbeCases() => new()
    {
        // name, script (null-ish: none), present, executable, units, select bug
        { "missing", "", false, false, 0, false },
        { "stock-1-unit",
          "#!/bin/sh\nif [ \"$1\" = -l ]; then echo 'Unit out of range'; exit 1; fi\necho 'select: Invalid argument' >&2\nexit 1\n",
          true, true, 1, true },
        { "fullbolt-1-unit",
          "#!/bin/sh\nif [ \"$1\" = -l ]; then echo 'Unit out of range'; exit 1; fi\nexec sleep 30\n",
          true, true, 1, false },
        { "rebuilt-4-units",
          "#!/bin/sh\nif [ \"$1\" = -l ]; then if [ \"$2\" -ge 4 ]; then echo 'Unit out of range'; else echo 'Error: no slirp to attach to'; fi; exit 1; fi\nexec sleep 30\n",
          true, true, 4, false },
    };

    [Theory]
    [MemberData(nameof(ProbeCases))]
    public async Task Slirp_probe_reports_presence_units_and_the_select_bug(string name, string script, bool present, bool executable, int units, bool selectBug)
    {
        var slirp = $"bin/slirp-{name}";
        if (script.Length > 0) sshd.Install(slirp, script);
        var probe = await new SshRemoteHost(sshd.Config(sshd.KnownHosts(sshd.BothHostLines()), jumps: 1, slirp: slirp)).ProbeSlirpAsync();
        Assert.Equal((present, executable, units, selectBug), (probe.Present, probe.Executable, probe.Units, probe.SelectBug));
        Assert.Contains(slirp, probe.Detail);
    }

    [Fact]
    public async Task Preparing_host_B_probes_kills_and_writes_rc_files_over_one_connection()
    {
        // In the qemu guest every ssh connect through the jump host costs seconds of key exchange: the three
        // preparation steps share one connection to each host.
        var slirp = "bin/slirp-prepare";
        sshd.Install(slirp, (string)ProbeCases().Single(c => (string)c[0] == "rebuilt-4-units")[1]);
        var config = sshd.Config(sshd.KnownHosts(sshd.BothHostLines()), jumps: 1, slirp: slirp);
        var jumpBefore = Count(sshd.Jump.Log, "Accepted publickey");
        var targetBefore = Count(sshd.Target.Log, "Accepted publickey");

        var (probe, killed) = await new SshRemoteHost(config).PrepareAsync([0, 1, 2], killStale: true);

        Assert.Equal(4, probe.Units);
        Assert.True(probe.CanServe([0, 1, 2]), probe.Detail);
        Assert.Equal(0, killed);
        foreach (var n in new[] { 0, 1, 2 }) Assert.Equal("ppp\n", File.ReadAllText(Path.Combine(sshd.Home, $".slirprc-{n}")));
        // sshd logs asynchronously: wait for the lines, then check there is exactly one of each.
        await Wait.UntilAsync(() => Count(sshd.Jump.Log, "Accepted publickey") > jumpBefore && Count(sshd.Target.Log, "Accepted publickey") > targetBefore, TimeSpan.FromSeconds(30), "sshd's log lines");
        Assert.Equal(1, Count(sshd.Jump.Log, "Accepted publickey") - jumpBefore);
        Assert.Equal(1, Count(sshd.Target.Log, "Accepted publickey") - targetBefore);
    }

    [Fact]
    public async Task A_slirp_that_is_not_executable_is_reported()
    {
        sshd.Install("bin/slirp-noexec", "#!/bin/sh\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var probe = await new SshRemoteHost(sshd.Config(sshd.KnownHosts(sshd.BothHostLines()), slirp: "bin/slirp-noexec")).ProbeSlirpAsync();
        Assert.Equal((true, false), (probe.Present, probe.Executable));
    }
}
