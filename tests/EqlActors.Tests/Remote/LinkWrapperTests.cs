using System.Diagnostics;
using System.Net.Sockets;
using EqlActors.Actors;
using EqlActors.Host.Remote;
using EqlActors.Ports;
using EqlActors.Tests.Fixtures;

using EqlActors.Messages;

namespace EqlActors.Tests.Remote;

/// <summary>
/// host_B's side of a link (<see cref="RemoteScripts.LinkWrapper"/>) run by /bin/sh with a private HOME and a fake
/// slirp that records how it was started: what the links' own ssh commands do to host_B instead of a preparation.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LinkWrapperTests : IDisposable
{
    private readonly TempDir _home = new("eqla-wrap-");
    private readonly string _slirp;
    private readonly List<Process> _started = [];

    public LinkWrapperTests()
    {
        // Records argv and the password it got, then fails as slirp does when no main slirp serves the socket.
        _slirp = _home.WriteScript("fake-slirp",
            "#!/bin/sh\nn=${2%%,*}; printf '%s\\n' \"$@\" >\"$HOME/argv-$n\"; printf '%s' \"${SLIRP_PASSWORD-unset}\" >\"$HOME/pw-$n\"\n" +
            "echo 'Slirp v1.0.17 (BETA) FULL_BOLT' >&2; echo 'Error: cannot connect to Slirp socket' >&2; exit 1\n");
    }

    public void Dispose()
    {
        foreach (var p in _started)
        {
            try { if (!p.HasExited) p.Kill(true); p.WaitForExit(); } catch (InvalidOperationException) { }
            p.Dispose();
        }
        _home.Dispose();
    }

    private Process Start(string link, string generation, string stalePattern, string tcpPort = "", string? home = null)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-c", RemoteScripts.LinkWrapper, "sh", _slirp, link, "1500", generation, stalePattern, tcpPort }) psi.ArgumentList.Add(a);
        psi.Environment["HOME"] = home ?? _home.Path;
        var p = Process.Start(psi)!;
        _started.Add(p);
        return p;
    }

    private static async Task ExitedAsync(Process p) => await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

    [Fact]
    public async Task Unit_0_on_a_clean_start_writes_rc_files_ends_stale_slirp_and_keeps_slirp_stderr_for_the_diagnosis()
    {
        // A stale slirp: a process whose command line starts with the configured slirp path.
        var staleBin = _home.File("stale-slirp");
        File.Copy("/bin/sleep", staleBin);
        var stale = Process.Start(staleBin, "300");
        _started.Add(stale);

        var p = Start("0", "638000000000000001", RemoteScripts.AnchoredPattern(staleBin));
        await ExitedAsync(p);

        Assert.True(stale.WaitForExit(10_000), "the stale slirp was not ended");
        Assert.Equal("socket\nmtu 1500\nmru 1500\n", File.ReadAllText(_home.File(".slirprc")));
        Assert.Equal("ppp\n", File.ReadAllText(_home.File(".slirprc-0")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_home.File(".slirprc")));
        Assert.Equal("638000000000000001\n", File.ReadAllText(_home.File(".eqlactors/generation")));
        Assert.Equal(["-l", "0"], File.ReadAllLines(_home.File("argv-0")));
        Assert.Equal("", await p.StandardOutput.ReadToEndAsync()); // stdout is the PPP link: nothing else on it
        var err = File.ReadAllText(_home.File(".eqlactors/link-0.err"));
        var f = FailureReasons.ExplainRemote(err);
        Assert.NotNull(f);
        Assert.Equal(FailureClass.SlirpAttach, f.Class);
        Assert.Contains("cannot connect to Slirp socket", f.Reason);
    }

    [Fact]
    public async Task Another_unit_on_a_clean_start_waits_for_the_main_slirp_socket_of_its_generation()
    {
        const string generation = "638000000000000002";
        Directory.CreateDirectory(_home.File(".eqlactors"));
        // A socket and generation of an earlier start: the unit must not attach to those.
        File.WriteAllText(_home.File(".eqlactors/generation"), "older\n");
        using var oldSocket = Bind(_home.File(".slirp_socket"));

        var p = Start("1", generation, "^nothing( |$)");
        // The wrapper has written its rc file, so it is past its start and waiting.
        await Wait.UntilAsync(() => File.Exists(_home.File(".slirprc-1")), TimeSpan.FromSeconds(20), "unit 1's rc file");
        Assert.False(p.HasExited);
        Assert.False(File.Exists(_home.File("argv-1")), "unit 1 attached before the main slirp of its start was there");

        // Unit 0's side: the generation first, then the main slirp binds its socket anew.
        File.WriteAllText(_home.File(".eqlactors/generation"), generation + "\n");
        File.SetLastWriteTimeUtc(_home.File(".eqlactors/generation"), DateTime.UtcNow.AddSeconds(-2));
        File.Delete(_home.File(".slirp_socket"));
        using var socket = Bind(_home.File(".slirp_socket"));

        await ExitedAsync(p);
        Assert.Equal(["-l", "1"], File.ReadAllLines(_home.File("argv-1")));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("a b'$(touch pwned)`id`;x")]
    public async Task Another_unit_on_a_restart_waits_until_a_main_slirp_listens_on_the_socket(string homeName)
    {
        // The main slirp died: its socket file stays behind with nobody listening. Whatever the login directory's
        // name holds, it is only data to the wait.
        var home = Path.Combine(_home.Path, homeName);
        Directory.CreateDirectory(home);
        var socketPath = Path.Combine(home, ".slirp_socket");
        var stale = Bind(socketPath, listen: false);

        var p = Start("1", "", "^nothing( |$)", home: home);
        var unit0 = Start("0", "", "^nothing( |$)", home: home);
        // Unit 0 starts the new main slirp: it never waits.
        await ExitedAsync(unit0);
        Assert.Equal(["-l", "0"], File.ReadAllLines(Path.Combine(home, "argv-0")));
        await Wait.UntilAsync(() => File.Exists(Path.Combine(home, ".slirprc-1")), TimeSpan.FromSeconds(20), "unit 1's rc file");
        Assert.False(p.HasExited);
        Assert.False(File.Exists(Path.Combine(home, "argv-1")), "unit 1 attached while no main slirp listened");

        stale.Dispose();
        using var socket = Bind(socketPath);
        await ExitedAsync(p);
        Assert.Equal(["-l", "1"], File.ReadAllLines(Path.Combine(home, "argv-1")));
        Assert.False(File.Exists(Path.Combine(_home.Path, "pwned")) || File.Exists("pwned"), "the login directory's name ran as code");
    }

    [Fact]
    public async Task Tcp_attach_reads_the_password_from_a_private_file_into_the_environment()
    {
        Directory.CreateDirectory(_home.File(".eqlactors"));
        File.WriteAllText(_home.File(".eqlactors/attach-password"), "pa ss'$(word)");
        var p = Start("2", "", "^nothing( |$)", tcpPort: "9999");
        await ExitedAsync(p);
        Assert.Equal(["-l", "2,127.0.0.1:9999,-"], File.ReadAllLines(_home.File("argv-2")));
        Assert.Equal("pa ss'$(word)", File.ReadAllText(_home.File("pw-2")));
        Assert.False(File.Exists(_home.File(".slirprc")), "in the TCP form .slirprc (with the password) is written by the preparation");
    }

    /// <summary>A unix socket at <paramref name="path"/>; without <paramref name="listen"/> a file nobody serves, as a dead slirp leaves.</summary>
    private static Socket Bind(string path, bool listen = true)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Bind(new UnixDomainSocketEndPoint(path));
        if (listen) s.Listen();
        return s;
    }
}

/// <summary>The probe tells the project's patched slirp from a stock one by the marker in its binary, without running it for that.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SlirpFeatureProbeTests : IDisposable
{
    private readonly TempDir _dir = new("eqla-feat-");

    public void Dispose() => _dir.Dispose();

    private SlirpProbe Probe(string body)
    {
        // A stand-in that stays up like a healthy main slirp; the marker sits among other bytes as in a binary.
        var slirp = _dir.WriteScript("slirp", "#!/bin/sh\n" + body + "\nexec sleep 30\n");
        var (code, stdout, err) = Run.Argv(["/bin/sh", "-c", RemoteScripts.Probe, "sh", slirp, "nounits"], new Dictionary<string, string> { ["HOME"] = _dir.Path });
        Assert.True(code == 0, err);
        return SshRemoteHost.ParseProbe("bin/slirp", stdout);
    }

    [Fact]
    public void A_patched_build_is_recognised_by_its_feature_marker()
    {
        var p = Probe(": '\u0001\u0002 eqlactors-slirp-features: link-down-fix,fair-download,attach-takeover,bogus-word\u0003'");
        Assert.Equal(["link-down-fix", "fair-download", "attach-takeover"], p.Features);
        Assert.Equal(["loopback-attach", "kill-handler-fix", "big-buffers"], p.MissingFeatures);
        Assert.Contains("patched build", p.Detail);
        Assert.Contains("units not counted", p.Detail);
    }

    [Fact]
    public void A_stock_build_has_no_features_and_says_so()
    {
        var p = Probe(": 'Slirp v1.0.17'");
        Assert.Empty(p.Features);
        Assert.Equal(SlirpProbe.AllFeatures, p.MissingFeatures);
        Assert.Contains("stock build", p.Detail);
    }
}
