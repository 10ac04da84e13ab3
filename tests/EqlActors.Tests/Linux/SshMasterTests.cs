using System.Text.RegularExpressions;
using EqlActors.Configuration;
using EqlActors.Host.Linux;
using EqlActors.Ports;
using EqlActors.Tests.Fixtures;

namespace EqlActors.Tests.Linux;

/// <summary>
/// One ssh master per link (remote.reuseConnection) against two real sshd's on loopback (host_B behind a jump host):
/// the first attempt authenticates at both hops and leaves a master; a stop of the pppd chain ends host_B's session
/// but spares the master and its ProxyCommand; the next attempt runs over the master with no new authentication
/// anywhere (the sshd logs); ending the connection leaves nothing behind.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class SshMasterTests(SshdFixture sshd) : IClassFixture<SshdFixture>
{
    [GeneratedRegex("Accepted publickey for ")]
    private static partial Regex Accepted();

    private static int Auths(Sshd s) => Accepted().Matches(s.Log).Count;

    /// <summary>
    /// Until both sshd logs hold at least these many logins: a log reaches this process through sshd's stderr, read
    /// asynchronously, so a login's line may come after its session is visible (a clean-clone run read 1 login on
    /// host_B where there had been 2). The counts are asserted after this, exact.
    /// </summary>
    private Task LoginsLoggedAsync(int jump, int target) =>
        Wait.UntilAsync(() => Auths(sshd.Jump) >= jump && Auths(sshd.Target) >= target, TimeSpan.FromSeconds(30), $"{jump} logins in the jump host's log and {target} in host_B's");

    /// <param name="client">remote.sshPath: the stock client, or a link to it under another name (longer than the
    /// kernel's 15-byte command name), as which the master and its ProxyCommand then run.</param>
    [Theory]
    [InlineData("/usr/bin/ssh")]
    [InlineData("openssh-client-of-the-links")]
    public async Task A_restart_opens_a_session_over_the_link_s_master_and_ending_it_leaves_nothing(string client)
    {
        var ssh = client;
        if (!Path.IsPathRooted(client))
        {
            ssh = Path.Combine(sshd.Dir.Path, client);
            if (!Path.Exists(ssh)) File.CreateSymbolicLink(ssh, "/usr/bin/ssh");
        }
        var (launch, path, pids) = KeptConnection("mux", ssh);
        var (jump0, target0) = (Auths(sshd.Jump), Auths(sshd.Target));
        using var ppp = new LinuxPppProcesses(sshd.Dir.Path);
        try
        {
            var first = await ppp.StartAsync(launch, new RecordingPppEvents());
            await Wait.UntilAsync(() => Sessions(pids).Count == 1 && SshMasters.Find(path, sshPath: ssh).Count == 1, TimeSpan.FromSeconds(60), "the first session and the master");
            await LoginsLoggedAsync(jump0 + 1, target0 + 1);
            Assert.Equal((jump0 + 1, target0 + 1), (Auths(sshd.Jump), Auths(sshd.Target)));
            var master = Assert.Single(SshMasters.Find(path, sshPath: ssh));
            Assert.Equal([$"{Path.GetFileName(ssh)}: {path} [mux]"], ProcessTree.CommandLine(master.Pid));
            // daemon(): a session of its own, reparented to this process (a child subreaper), outside pppd's chain.
            Assert.Equal(master.Pid, master.Session);
            Assert.Equal(SshMasters.CommandName(ssh), master.Comm);
            Assert.DoesNotContain(ProcessTree.Chain(first.Pid), m => m.Pid == master.Pid);
            var all = ProcessTree.All();
            var family = SshMasters.Family(master, all, all, ssh).Where(m => m.Pid != master.Pid).ToList();
            var described = string.Join("; ", family.Select(m => $"{m.Pid}<{m.ParentPid}: {string.Join(' ', ProcessTree.CommandLine(m.Pid) ?? [])}"));
            var proxy = Assert.Single(family, m => ProcessTree.CommandLine(m.Pid)?.Contains("-W") == true);
            Assert.True(family.All(m => m.Pid == proxy.Pid || m.ParentPid == proxy.Pid), described);
            Assert.Contains(ProcessTree.Chain(first.Pid), m => m.Pid == proxy.Pid); // by parent link: why it is spared

            await ppp.StopAsync(first, TimeSpan.FromSeconds(3));
            // The killed mux client's session ends on host_B (slirp's stdin closes), the connection stays.
            var firstSlirp = Sessions(pids)[0];
            await Wait.UntilAsync(() => !Alive(firstSlirp), TimeSpan.FromSeconds(30), "host_B's session to end");
            Assert.True(Alive(master.Pid) && Alive(proxy.Pid), "the stop spared the master and its ProxyCommand");
            Assert.True(await ppp.ConnectionAnswersAsync(launch, TimeSpan.FromSeconds(20)), "the kept master answers the mux alive check");
            Assert.Equal(master.Pid, await SshMasters.AliveAsync(path, TimeSpan.FromSeconds(20))); // MUX_S_ALIVE names it
            // Stopped, the master still accepts on its socket but never answers: the check's timeout says so.
            Native.kill(master.Pid, Native.SIGSTOP);
            try
            {
                Assert.False(await ppp.ConnectionAnswersAsync(launch, TimeSpan.FromSeconds(1)), "a stopped master does not answer");
            }
            finally
            {
                Native.kill(master.Pid, Native.SIGCONT);
            }
            Assert.True(await ppp.ConnectionAnswersAsync(launch, TimeSpan.FromSeconds(20)), "the master answers again once continued");

            var second = await ppp.StartAsync(launch, new RecordingPppEvents());
            await Wait.UntilAsync(() => Sessions(pids).Count == 2, TimeSpan.FromSeconds(60), "the second session");
            Assert.True(Alive(Sessions(pids)[1]));
            // No key exchange, no authentication: neither sshd saw a new login.
            Assert.Equal((jump0 + 1, target0 + 1), (Auths(sshd.Jump), Auths(sshd.Target)));
            Assert.Equal(master.Pid, Assert.Single(SshMasters.Find(path, sshPath: ssh)).Pid);

            await ppp.StopAsync(second, TimeSpan.FromSeconds(3));
            await ppp.EndConnectionAsync(launch);
            Assert.Empty(SshMasters.Find(path, sshPath: ssh));
            Assert.False(Alive(master.Pid) || Alive(proxy.Pid), "the master and its ProxyCommand ended");
            Assert.False(Path.Exists(path), "the master's socket is gone");
            Assert.False(await ppp.ConnectionAnswersAsync(launch, TimeSpan.FromSeconds(20)), "no master, no answer");
            await Wait.UntilAsync(() => !Alive(Sessions(pids)[1]), TimeSpan.FromSeconds(30), "host_B's last session to end");
        }
        finally
        {
            await ppp.EndConnectionAsync(launch);
        }
    }

    /// <summary>
    /// pppd killed (SIGKILL: no output, no hangup) on the link's first chain, whose ssh started the master and its
    /// ProxyCommand: the exit is reported after pppd is gone, and the link's stop that follows still spares the kept
    /// connection, which then carries the next attempt without a login. In a guest soak such a stop no longer knew the
    /// link's control path and ended the ProxyCommand with the dead pppd's session: a fresh login at both hops.
    /// </summary>
    [Fact]
    public async Task A_pppd_that_died_leaves_the_kept_connection_to_its_stop_and_the_next_attempt_reuses_it()
    {
        var (launch, path, pids) = KeptConnection("died", "/usr/bin/ssh");
        var (jump0, target0) = (Auths(sshd.Jump), Auths(sshd.Target));
        using var ppp = new LinuxPppProcesses(sshd.Dir.Path);
        try
        {
            var events = new RecordingPppEvents();
            var first = await ppp.StartAsync(launch, events);
            await Wait.UntilAsync(() => Sessions(pids).Count == 1 && SshMasters.Find(path).Count == 1, TimeSpan.FromSeconds(60), "the first session and the master");
            await LoginsLoggedAsync(jump0 + 1, target0 + 1);
            var master = Assert.Single(SshMasters.Find(path));
            var all = ProcessTree.All();
            var proxy = Assert.Single(SshMasters.Family(master, all, all), m => ProcessTree.CommandLine(m.Pid)?.Contains("-W") == true);
            Assert.Equal(first.Pid, proxy.Session); // in the first pppd's session: what a stop by session would end

            Native.kill(first.Pid, Native.SIGKILL);
            await Wait.UntilAsync(() => !events.Exits.IsEmpty, TimeSpan.FromSeconds(30), "pppd's exit reported");
            await ppp.StopAsync(first, TimeSpan.FromSeconds(3)); // what the link does after the exit

            Assert.True(Alive(master.Pid) && Alive(proxy.Pid), "the stop after pppd's death spared the master and its ProxyCommand");
            Assert.True(await ppp.ConnectionAnswersAsync(launch, TimeSpan.FromSeconds(20)), "the kept master answers");
            var second = await ppp.StartAsync(launch, new RecordingPppEvents());
            await Wait.UntilAsync(() => Sessions(pids).Count == 2, TimeSpan.FromSeconds(60), "the second session");
            Assert.Equal((jump0 + 1, target0 + 1), (Auths(sshd.Jump), Auths(sshd.Target)));
            Assert.Equal(master.Pid, Assert.Single(SshMasters.Find(path)).Pid);
            await ppp.StopAsync(second, TimeSpan.FromSeconds(3));
        }
        finally
        {
            await ppp.EndConnectionAsync(launch);
        }
        Assert.Empty(SshMasters.Find(path));
    }

    [Fact]
    public async Task Ending_a_connection_that_is_not_there_is_a_no_op_and_removes_a_stale_socket()
    {
        var run = Path.Combine(sshd.Dir.Path, "stale");
        Directory.CreateDirectory(run);
        var config = new BundleConfig { Control = new ControlConfig { SocketPath = Path.Combine(run, "control.sock") } };
        var path = PppCommandLine.ControlPath(config, 0);
        // Bound, never listening: what a SIGKILLed master leaves (a connect is refused). Not disposed before the check:
        // .NET would unlink the file itself.
        using var stale = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        stale.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        Assert.True(Path.Exists(path));

        using var ppp = new LinuxPppProcesses(sshd.Dir.Path, becomeSubreaper: false);
        await ppp.EndConnectionAsync(new PppLaunch(0, config));

        Assert.False(Path.Exists(path));
    }

    [Theory]
    [InlineData("/usr/bin/ssh", "ssh")]
    [InlineData("/opt/openssh-client-of-the-links", "openssh-client-")]
    [InlineData("ssh-9.2", "ssh-9.2")]
    public void The_command_name_is_the_file_name_cut_to_the_kernel_s_15_bytes(string path, string name) =>
        Assert.Equal(name, SshMasters.CommandName(path));

    /// <summary>
    /// One link with a kept connection through the jump host: host_B's slirp records its pid (one line per session in
    /// the returned file) and holds the session until its stdin ends; pppd runs its pty option like pppd (/bin/sh -c),
    /// with a stdin that stays open as pppd's pty does. Unit 0: the wrapper waits for no main slirp.
    /// </summary>
    private (PppLaunch Launch, string ControlPath, string Pids) KeptConnection(string tag, string ssh)
    {
        var slirp = $"bin/slirp-{tag}-{Guid.NewGuid():N}"[..24];
        var pids = Path.Combine(sshd.Home, slirp.Replace("bin/", "") + ".pids");
        sshd.Install(slirp, $"#!/bin/sh\necho $$ >> \"{pids}\"\nexec cat >/dev/null\n");
        var pppd = sshd.Dir.WriteScript($"pppd-{tag}", "#!/bin/sh\nwhile [ $# -gt 1 ]; do [ \"$1\" = pty ] && pty=$2; shift; done\ntail -f /dev/null | /bin/sh -c \"$pty\"\n");
        var run = Path.Combine(sshd.Dir.Path, $"run-{tag}");
        Directory.CreateDirectory(run, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var config = sshd.Config(sshd.KnownHosts(sshd.BothHostLines()), jumps: 1, slirp: slirp);
        config = config with
        {
            Remote = config.Remote with { SshPath = ssh, ReuseConnection = true },
            Ppp = config.Ppp with { PppdPath = pppd, LinkNamePrefix = $"eqla{tag}" },
            Control = config.Control with { SocketPath = Path.Combine(run, "control.sock") },
        };
        return (new PppLaunch(0, config), PppCommandLine.ControlPath(config, 0), pids);
    }

    private static List<int> Sessions(string file) =>
        File.Exists(file) ? File.ReadAllLines(file).Where(l => l.Length > 0).Select(int.Parse).ToList() : [];

    private static bool Alive(int pid) => ProcessTree.Stat(pid) is { IsZombie: false };
}
