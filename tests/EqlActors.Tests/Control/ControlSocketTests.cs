using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;
using EqlActors.Host.Control;
using EqlActors.Host.Linux;
using EqlActors.Tests.Fixtures;

namespace EqlActors.Tests.Control;

/// <summary>
/// The control socket end to end: the real <c>eqlactors</c> daemon on the simulated system (in real time) and the
/// real client verbs, as an operator runs them. One collection: each test runs a daemon, and the machine is shared.
/// </summary>
[SupportedOSPlatform("linux")]
[Collection("eqlactors daemon")]
public sealed class ControlSocketTests
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Start_shows_each_link_coming_up_then_status_stop_and_no_daemon()
    {
        using var h = new DaemonHarness();

        var none = h.Cli("status");
        Assert.True(none.Code == 3, none.ToString());
        Assert.Contains("EQL down", none.Stdout);
        Assert.Equal(3, h.Cli("stop").Code);

        var start = h.Cli("start", "--simulated", "--timeout", "90s");
        Assert.True(start.Code == 0, start.ToString());
        Assert.Contains("daemon started (pid ", start.Stdout);
        foreach (var link in new[] { 0, 1, 2 })
        {
            Assert.Matches($@"link {link} starting \(pppd \d+\)", start.Stdout);
            Assert.Matches($@"link {link} up on ppp\d", start.Stdout);
            Assert.Matches($@"link {link} enslaved \(ppp\d", start.Stdout);
        }
        Assert.EndsWith("... EQL ready\n", start.Stdout);

        // A second start finds the daemon and the bundle ready: no second daemon, exit 0 at once.
        var again = h.Cli("start", "--simulated");
        Assert.True(again.Code == 0, again.ToString());
        Assert.DoesNotContain("daemon started", again.Stdout);
        Assert.Contains("EQL ready", again.Stdout);

        var status = h.Cli("status");
        Assert.True(status.Code == 0, status.ToString());
        Assert.Contains("LINK  STATE", status.Stdout);
        Assert.Matches(@"(?m)^0\s+up\s+ppp\d\s+\d+\s+yes\s+0", status.Stdout);
        Assert.Contains("master: eql up", status.Stdout);
        Assert.Contains("192.168.1.0/24 dev eql  present", status.Stdout);
        Assert.EndsWith("EQL up (simulated)\n", status.Stdout);

        var json = h.Cli("status", "--json");
        Assert.True(json.Code == 0, json.ToString());
        using (var doc = JsonDocument.Parse(json.Stdout))
        {
            var root = doc.RootElement;
            Assert.True(root.GetProperty("up").GetBoolean());
            Assert.Equal(3, root.GetProperty("configured").GetInt32());
            Assert.Equal(3, root.GetProperty("enslaved").GetInt32());
            Assert.Equal("running", root.GetProperty("phase").GetString());
            Assert.True(root.GetProperty("daemon").GetProperty("simulated").GetBoolean());
            var links = root.GetProperty("links").EnumerateArray().ToList();
            Assert.Equal([0, 1, 2], links.Select(l => l.GetProperty("link").GetInt32()));
            Assert.All(links, l => Assert.Equal("up", l.GetProperty("phase").GetString()));
            Assert.All(links, l => Assert.True(l.GetProperty("enslaved").GetBoolean()));
            Assert.Equal(2, root.GetProperty("routes").GetArrayLength());
        }

        var daemonPid = (await h.RequestAsync(new ControlRequest(Requests.Hello)))!.Daemon!.Pid;
        // started with the runtime settings of the systemd unit (quick JIT once, no recompilation)
        var environ = File.ReadAllText($"/proc/{daemonPid}/environ").Split('\0');
        Assert.All(EqlActors.Host.Hosting.DaemonRuntime.Environment, kv => Assert.Contains($"{kv.Key}={kv.Value}", environ));
        var stop = h.Cli("stop");
        Assert.True(stop.Code == 0, stop.ToString());
        Assert.Contains("EQL stopped", stop.Stdout);
        Assert.False(DaemonHarness.Alive(daemonPid), "the daemon is still running after stop returned");
        Assert.False(File.Exists(h.SocketPath), "the socket file is left behind");
        Assert.Contains("Bundle bundle stopped", h.DaemonLog);

        Assert.Equal(3, h.Cli("status").Code);
        Assert.Equal(3, h.Cli("stop").Code);
    }

    [Fact]
    public async Task Status_exits_1_while_links_are_parked_and_0_after_restart_link_and_restart_parked()
    {
        using var h = new DaemonHarness();
        var start = h.Cli("start", "--simulated");
        Assert.True(start.Code == 0, start.ToString());

        // Only the names of FaultKind and SimulatedCondition: a number or a combination is not a fault's name.
        foreach (var name in new[] { "NoSuchFault", "3", "PppdKilled,SshDropped" })
        {
            var refused = await h.RequestAsync(new ControlRequest(Requests.SimulateFault, Link: 1, Fault: name));
            Assert.Equal("bad-request", refused!.Code);
            Assert.All(ControlServer.SimulatedFaultNames, n => Assert.Contains(n, refused.Message));
        }

        // host_B refuses our key and links 1 and 2 lose their chains: a permanent error, both are parked.
        Assert.Equal("ok", (await h.RequestAsync(new ControlRequest(Requests.SimulateFault, Link: 1, Fault: "AuthenticationRefused")))!.Type);
        Assert.Equal("ok", (await h.RequestAsync(new ControlRequest(Requests.SimulateFault, Link: 2, Fault: "AuthenticationRefused")))!.Type);
        await Wait.UntilAsync(() => Phase(h, 1) == "parked" && Phase(h, 2) == "parked", Ready, "links 1 and 2 parked", pollMs: 200);
        var down = h.Cli("status");
        Assert.True(down.Code == 1, down.ToString());
        Assert.Matches(@"(?m)^1\s+parked\s+.*Permission denied", down.Stdout);
        Assert.EndsWith("EQL down (simulated)\n", down.Stdout);

        // The operator fixes the key, restarts link 1, then every parked link (the verbs over the same requests).
        Assert.Equal("ok", (await h.RequestAsync(new ControlRequest(Requests.SimulateFault, Fault: nameof(EqlActors.Simulation.SimulatedCondition.AuthenticationAccepted))))!.Type);
        var one = h.Cli("restart-link", "1");
        Assert.True(one.Code == 0, one.ToString());
        Assert.Contains("link 1 restarting (it was parked)", one.Stdout);
        await Wait.UntilAsync(() => Phase(h, 1) == "up", Ready, "link 1 up after restart-link", pollMs: 200);
        Assert.Equal("parked", Phase(h, 2));
        Assert.Equal(1, h.Cli("status").Code);
        var parked = h.Cli("restart-parked");
        Assert.True(parked.Code == 0, parked.ToString());
        Assert.Contains("parked links 2 restarting", parked.Stdout);
        await h.WaitForStatusAsync(0, Ready, "every link enslaved again after restart-parked");

        var bad = await h.RequestAsync(new ControlRequest(Requests.RestartLink, Link: 7));
        Assert.Equal("error", bad!.Type);
        Assert.Equal("bad-request", bad.Code);
        Assert.Equal("unknown-request", (await h.RequestAsync(new ControlRequest("frobnicate")))!.Code);

        Assert.Equal(0, h.Cli("stop").Code);
    }

    private static string? Phase(DaemonHarness h, int link)
    {
        var r = h.Cli("status", "--json");
        return JsonDocument.Parse(r.Stdout).RootElement.GetProperty("links")[link].GetProperty("phase").GetString();
    }

    private static readonly string[] AsNobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

    [Fact]
    public async Task A_client_that_is_not_root_is_refused_by_file_mode_and_by_peer_credentials()
    {
        using var h = new DaemonHarness();
        Assert.Equal(0, h.Cli("start", "--simulated").Code);
        var runDir = Path.GetDirectoryName(h.SocketPath)!;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(runDir));
        Assert.Equal(ControlSocket.SocketMode, File.GetUnixFileMode(h.SocketPath));

        // The normal layout: the 0700 directory and 0600 socket refuse nobody at connect(2).
        var denied = h.CliAs(AsNobody, "status");
        Assert.True(denied.Code == 4, denied.ToString());
        Assert.Contains("run as root", denied.Stderr);

        // A socket whose file mode lets anyone connect: SO_PEERCRED still refuses uid 65534.
        var open = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        File.SetUnixFileMode(h.Dir, open);
        File.SetUnixFileMode(runDir, open);
        File.SetUnixFileMode(h.SocketPath, open | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite);
        var refused = h.CliAs(AsNobody, "status");
        Assert.True(refused.Code == 4, refused.ToString());
        Assert.Contains("root only", refused.Stderr);
        Assert.Contains("run as root", refused.Stderr);
        var stop = h.CliAs(AsNobody, "stop");
        Assert.Equal(4, stop.Code);
        await Wait.UntilAsync(() => h.DaemonLog.Contains("uid 65534 refused"), TimeSpan.FromSeconds(10), "the refusal in the daemon's log");

        // Nothing the refused client asked for happened.
        Assert.Equal(0, h.Cli("status").Code);
        Assert.Equal(0, h.Cli("stop").Code);
    }

    [Fact]
    public async Task Sigterm_tears_the_bundle_down_and_exits_0_and_a_second_daemon_is_refused()
    {
        using var h = new DaemonHarness();
        // A notify socket like systemd's: READY=1 once the control socket serves, STATUS= with the link count.
        using var notify = new NotifySocket(Path.Combine(h.Dir, "notify.sock"));

        var output = new StringBuilder();
        using var run = h.StartRun(output, new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notify.Path });
        await h.WaitForStatusAsync(0, Ready, "the bundle to be ready");
        await Wait.UntilAsync(() => notify.Saw("READY=1"), TimeSpan.FromSeconds(10), "READY=1");
        await Wait.UntilAsync(() => notify.Saw("STATUS=3/3 links enslaved, EQL up"), TimeSpan.FromSeconds(10), "STATUS=3/3 links enslaved");

        // A second daemon on the same socket must not touch the running bundle.
        var second = new StringBuilder();
        using (var dup = h.StartRun(second))
        {
            Assert.True(dup.WaitForExit(TimeSpan.FromSeconds(60)), "the second daemon did not give up");
            // The timed wait returns at the exit, before the redirected output is read to its end (it failed once
            // with the output still empty); only the untimed wait drains it.
            dup.WaitForExit();
            Assert.Equal(1, dup.ExitCode);
            Assert.Contains("already", second.ToString());
        }
        Assert.Equal(0, h.Cli("status").Code);

        Assert.Equal(0, Native.kill(run.Id, 15));
        Assert.True(run.WaitForExit(TimeSpan.FromSeconds(90)), "run did not exit after SIGTERM");
        run.WaitForExit(); // drain the output
        var log = output.ToString();
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{log}");
        Assert.Contains("Bundle bundle stopped", log);
        Assert.Contains("exited cleanly", log);
        Assert.Matches(@"<6>INF", log); // journald priorities when stderr is not a terminal
        Assert.False(File.Exists(h.SocketPath));
    }

    [Fact]
    public void Invalid_configuration_exits_2_without_starting_a_daemon()
    {
        using var h = new DaemonHarness();
        var r = h.Cli("start", "--simulated", "--set", "ppp.mtu=lots");
        Assert.True(r.Code == 2, r.ToString());
        Assert.Contains("ppp.mtu", r.Stderr);
        Assert.False(File.Exists(h.SocketPath));
        Assert.Equal(2, h.Cli("start", "--simulated", "--timeout", "soon").Code);
    }

    [Fact]
    public async Task Status_of_a_daemon_that_does_not_answer_says_so_and_exits_1_instead_of_hanging()
    {
        using var h = new DaemonHarness();
        Directory.CreateDirectory(Path.GetDirectoryName(h.SocketPath)!);
        // A "daemon" that accepts and never answers: as one stopped with SIGSTOP after its socket was made.
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(h.SocketPath));
        File.SetUnixFileMode(h.SocketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        listener.Listen();
        var accepted = listener.AcceptAsync();
        var status = await Task.Run(() => h.Cli("status"));
        Assert.True(status.Code == 1, status.ToString());
        Assert.Contains("did not answer within 5 s", status.Stderr);
        (await accepted).Dispose();
    }
}
