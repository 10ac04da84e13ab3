using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;
using EqlActors.Host.Control;
using EqlActors.Tests.Fixtures;

namespace EqlActors.Tests.Control;

/// <summary>
/// The operator surface as a hostile local user or a confused operator meets it (issue 12): secrets off argv,
/// a socket served by someone else, a simulated daemon passing for a real one, forged log lines, connection floods.
/// </summary>
[SupportedOSPlatform("linux")]
[Collection("eqlactors daemon")]
public sealed class OperatorSurfaceTests
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);
    private const string Password = "Sekr1tPw4711";

    [Fact]
    public async Task Start_keeps_its_overrides_off_every_command_line_another_user_can_read()
    {
        using var h = new DaemonHarness();
        using var neighbour = new ThrowawayUser();
        var start = h.Cli("start", "--simulated", "--set", "links=0,1", "--set", "remote.attach=tcp", "--set", $"remote.tcpPassword={Password}");
        Assert.True(start.Code == 0, start.ToString());
        var pid = (await h.RequestAsync(new ControlRequest(Requests.Hello)))!.Daemon!.Pid;

        // The overrides reached the daemon: two links configured, not the default three.
        using (var doc = JsonDocument.Parse(h.Cli("status", "--json").Stdout))
            Assert.Equal(2, doc.RootElement.GetProperty("configured").GetInt32());

        var ps = neighbour.Run("ps", "-eww", "-o", "pid=,args=");
        Assert.True(ps.Code == 0, ps.Stderr);
        Assert.Matches($@"(?m)^\s*{pid}\s.*eqlactors\.dll run --simulated", ps.Stdout); // ps does show the daemon
        Assert.DoesNotContain(Password, ps.Stdout);
        // ... and its environment, where the overrides travel, is not readable by another user.
        Assert.NotEqual(0, neighbour.Run("cat", $"/proc/{pid}/environ").Code);
        Assert.Equal(0, h.Cli("stop").Code);
    }

    [Fact]
    public async Task A_socket_served_by_another_user_is_not_believed_and_the_daemon_refuses_a_lax_folder()
    {
        using var h = new DaemonHarness();
        using var neighbour = new ThrowawayUser();
        var run = Path.GetDirectoryName(h.SocketPath)!;
        Directory.CreateDirectory(run);
        File.SetUnixFileMode(h.Dir, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(run, (UnixFileMode)0b111_111_111); // the mistake: a socket folder anyone can write

        // The daemon will not serve from there.
        var output = new StringBuilder();
        using (var daemon = h.StartRun(output))
        {
            Assert.True(daemon.WaitForExit(TimeSpan.FromSeconds(60)), "the daemon did not give up on the lax folder");
            daemon.WaitForExit();
            Assert.True(daemon.ExitCode == 2, $"exit {daemon.ExitCode}\n{output}");
            Assert.Contains("writable by other users", output.ToString());
            Assert.False(File.Exists(h.SocketPath));
        }

        // Another user puts its own server there; root's client must not believe a word of it.
        using var fake = StartFakeServer(neighbour, h.SocketPath);
        await Wait.UntilAsync(() => File.Exists(h.SocketPath), TimeSpan.FromSeconds(30), "the fake server's socket");
        foreach (var verb in new[] { "status", "stop", "start" })
        {
            var r = h.Cli(verb);
            Assert.True(r.Code == 5, $"{verb}: {r}");
            Assert.DoesNotContain("FAKE", r.Stdout + r.Stderr);
            Assert.Contains($"uid {neighbour.Uid}", r.Stderr);
            Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        }
    }

    /// <summary>A server as <paramref name="user"/> that answers every line with its own words (perl-base: always installed).</summary>
    private static Process StartFakeServer(ThrowawayUser user, string path)
    {
        const string script = """
            use IO::Socket::UNIX; $| = 1;
            my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $ARGV[0], Listen => 5) or die "listen: $!";
            chmod 0777, $ARGV[0];
            while (my $c = $s->accept) { while (<$c>) { print $c qq({"type":"error","code":"failed","message":"FAKE says all is well"}\n); } close $c; }
            """;
        var psi = new ProcessStartInfo(user.As[0]) { UseShellExecute = false, RedirectStandardInput = true };
        foreach (var a in user.As.Skip(1).Concat(["perl", "-e", script, path])) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    [Fact]
    public async Task A_simulated_daemon_does_not_pass_for_a_real_one()
    {
        using var h = new DaemonHarness();
        Assert.Equal(0, h.Cli("start", "--simulated").Code);

        var real = h.Cli("start");
        Assert.True(real.Code == 5, real.ToString());
        Assert.Contains("simulated", real.Stderr);
        Assert.DoesNotContain("EQL ready", real.Stdout);

        var table = h.Cli("status");
        Assert.Contains("SIMULATED", table.Stdout);
        Assert.EndsWith("EQL up (simulated)\n", table.Stdout);
        using (var doc = JsonDocument.Parse(h.Cli("status", "--json").Stdout))
            Assert.True(doc.RootElement.GetProperty("simulated").GetBoolean());
        _ = await h.RequestAsync(new ControlRequest(Requests.Hello));
        Assert.Equal(0, h.Cli("stop").Code);
    }

    [Theory]
    [InlineData("hello\nINF EqlActors.Host: forged line")]
    [InlineData("hello\u001b[2K\rINF EqlActors.Host: forged line")]
    [InlineData("hello\u2028INF EqlActors.Host: forged line")]
    public async Task A_request_name_with_control_characters_is_escaped_in_the_log(string name)
    {
        using var h = new DaemonHarness();
        var output = new StringBuilder();
        using var daemon = h.StartRun(output, new Dictionary<string, string> { ["EQLACTORS__CONTROL__LOGLEVEL"] = "Debug" });
        await Wait.UntilAsync(() => ControlClient.TryConnect(h.SocketPath, out var c, out _) == ConnectOutcome.Connected && Dispose(c), Ready, "the daemon serving");

        var response = await h.RequestAsync(new ControlRequest(name));
        Assert.Equal("unknown-request", response!.Code);
        await Wait.UntilAsync(() => Text(output).Contains("forged line"), TimeSpan.FromSeconds(30), "the request in the log");
        var log = Text(output);
        Assert.DoesNotContain('\u001b', log);
        Assert.DoesNotContain('\u2028', log);
        Assert.DoesNotMatch(@"(?m)^(<\d>)?INF EqlActors.Host: forged line", log);
        Assert.Matches(@"(\\n|\\r|\\u2028)INF EqlActors.Host: forged line", log);
        Assert.Equal(0, h.Cli("stop").Code);
    }

    [Fact]
    public async Task Idle_half_and_oversized_requests_are_cut_off_and_a_flood_of_clients_is_capped()
    {
        using var h = new DaemonHarness();
        Assert.Equal(0, h.Cli("start", "--simulated").Code);

        var sockets = new List<Socket>();
        try
        {
            for (var i = 0; i < ControlServer.MaxClients + 8; i++)
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                s.Connect(new UnixDomainSocketEndPoint(h.SocketPath));
                sockets.Add(s);
            }
            sockets[0].Send(Encoding.UTF8.GetBytes("{\"request\":")); // half a request line, never finished

            // The clients beyond the cap are told so and disconnected at once.
            var answers = await Task.WhenAll(sockets.Select(s => ReadToEnd(s, TimeSpan.FromSeconds(60))));
            Assert.Equal(8, answers.Count(a => a.Contains("\"busy\"")));
            // The others, silent or half-way, are disconnected by the idle timeout (EOF, not our 60 s limit).
            Assert.All(answers, a => Assert.DoesNotContain("timed out", a));
        }
        finally
        {
            foreach (var s in sockets) s.Dispose();
        }

        using (var big = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            big.Connect(new UnixDomainSocketEndPoint(h.SocketPath));
            big.Send(Encoding.UTF8.GetBytes("{\"request\":\"" + new string('x', 100_000)));
            Assert.Contains("at most 4096", await ReadToEnd(big, TimeSpan.FromSeconds(60)));
        }

        // Still serving everyone else.
        Assert.Equal(0, h.Cli("status").Code);
        Assert.Equal(0, h.Cli("stop").Code);
    }

    /// <summary>Everything the daemon sends until it closes; "timed out" if it keeps the connection open longer.</summary>
    private static async Task<string> ReadToEnd(Socket socket, TimeSpan limit)
    {
        using var cts = new CancellationTokenSource(limit);
        var text = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (n == 0) return text.ToString();
                text.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }
        }
        catch (OperationCanceledException) { return text + "timed out"; }
        catch (SocketException) { return text.ToString(); }
    }

    private static string Text(StringBuilder sb) { lock (sb) return sb.ToString(); }

    private static bool Dispose(ControlClient? c) { c?.Dispose(); return true; }
}
