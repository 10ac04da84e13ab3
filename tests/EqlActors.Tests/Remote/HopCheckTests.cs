using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using EqlActors.Configuration;
using EqlActors.Host.Remote;
using EqlActors.Tests.Fixtures;

namespace EqlActors.Tests.Remote;

/// <summary>
/// The cheap check a backing-off link makes of a hop: a real sshd answers, a refused, silent or foreign port does not;
/// a hop behind a jump host is asked through it, over one connection kept between checks.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed partial class HopCheckTests(SshdFixture sshd) : IClassFixture<SshdFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);
    private readonly SshRemoteHost _remote = new(new BundleConfig());

    private static SshEndpoint Local(int port) => new("nobody", "127.0.0.1", port);

    [Fact]
    public async Task A_listening_sshd_answers() =>
        Assert.True(await _remote.HopAnswersAsync(Local(sshd.Target.Port), TimeSpan.FromSeconds(10)));

    [Fact]
    public async Task A_closed_port_does_not_answer()
    {
        Assert.False(await _remote.HopAnswersAsync(Local(LoopbackPorts.Unused()), Timeout));
    }

    [Theory]
    [InlineData("")]
    [InlineData("HTTP/1.1 400 Bad Request\r\n")]
    public async Task A_port_that_is_silent_or_speaks_something_else_does_not_answer(string greeting)
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var serve = Task.Run(async () =>
        {
            using var c = await l.AcceptTcpClientAsync();
            if (greeting.Length > 0) await c.GetStream().WriteAsync(System.Text.Encoding.ASCII.GetBytes(greeting));
            await Task.Delay(Timeout * 2);
        });
        Assert.False(await _remote.HopAnswersAsync(Local(((IPEndPoint)l.LocalEndpoint).Port), Timeout));
        await serve.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task The_caller_cancelling_is_not_taken_for_a_silent_hop()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _remote.HopAnswersAsync(Local(((IPEndPoint)l.LocalEndpoint).Port), TimeSpan.FromSeconds(30), cts.Token));
    }

    [GeneratedRegex("Accepted publickey for ")]
    private static partial Regex Accepted();

    private static int Logins(Sshd s) => Accepted().Matches(s.Log).Count;

    /// <summary>
    /// Until the jump host's log holds at least <paramref name="logins"/>: its lines reach this process through sshd's
    /// stderr, read asynchronously, so a login's line may come after the call that made it returned. Counts are
    /// asserted after this, exact.
    /// </summary>
    private Task JumpLoginsLoggedAsync(int logins) =>
        Wait.UntilAsync(() => Logins(sshd.Jump) >= logins, TimeSpan.FromSeconds(30), $"{logins} logins in the jump host's log");

    [Fact]
    public async Task Host_B_behind_a_jump_host_is_asked_through_it_over_one_login_kept_between_checks()
    {
        var config = sshd.Config(sshd.KnownHosts(sshd.BothHostLines()), jumps: 1);
        // host_B's sshd is away: the way through the jump host is made, and it tells that nothing answers.
        var away = new SshRemoteHost(config with { Remote = config.Remote with { Account = config.Remote.Account with { Port = LoopbackPorts.Unused() } } });
        var (jump0, target0) = (Logins(sshd.Jump), Logins(sshd.Target));
        Assert.False(await away.HopAnswersAsync(away.Account, TimeSpan.FromSeconds(30)));
        Assert.False(await away.HopAnswersAsync(away.Account, TimeSpan.FromSeconds(30)));
        await JumpLoginsLoggedAsync(jump0 + 1);
        Assert.Equal(jump0 + 1, Logins(sshd.Jump)); // one login for both checks
        Assert.Equal(1, away.OpenHopPaths);
        away.ReleaseHopPaths();
        Assert.Equal(0, away.OpenHopPaths);

        var remote = new SshRemoteHost(config);
        Assert.True(await remote.HopAnswersAsync(config.Remote.Account, TimeSpan.FromSeconds(30)));
        await JumpLoginsLoggedAsync(jump0 + 2);
        Assert.Equal(jump0 + 2, Logins(sshd.Jump));
        Assert.Equal(target0, Logins(sshd.Target)); // greeted, never logged in to
        Assert.Equal(0, remote.OpenHopPaths); // it answered: the link retries, the way is not needed any more
        // The jump host itself is the first hop: asked from here, with no login anywhere.
        Assert.True(await remote.HopAnswersAsync(config.Remote.JumpHosts[0], TimeSpan.FromSeconds(30)));
        Assert.Equal(jump0 + 2, Logins(sshd.Jump));
    }

    [Fact]
    public async Task A_jump_host_that_cannot_be_reached_makes_host_B_not_answer_and_leaves_no_way_open()
    {
        var config = sshd.Config(sshd.KnownHosts(sshd.BothHostLines()), jumps: 1);
        var remote = new SshRemoteHost(config with { Remote = config.Remote with { JumpHosts = [config.Remote.JumpHosts[0] with { Port = LoopbackPorts.Unused() }] } });
        Assert.False(await remote.HopAnswersAsync(config.Remote.Account, TimeSpan.FromSeconds(30)));
        await Wait.UntilAsync(() => remote.OpenHopPaths == 0, TimeSpan.FromSeconds(30), "the failed way to be dropped");
    }

    [Fact]
    public void The_jump_hosts_before_a_hop_are_those_the_links_cross_to_reach_it()
    {
        var b = new SshEndpoint("hostb", "b", 2201);
        var (j1, j2) = (new SshEndpoint("fw", "j1"), new SshEndpoint("fw", "j2"));
        var remote = new RemoteConfig { Account = b, JumpHosts = [j1, j2] };
        Assert.Equal([j1, j2], HopPaths.JumpHostsBefore(remote, b).ToArray());
        Assert.Equal([j1], HopPaths.JumpHostsBefore(remote, j2).ToArray());
        Assert.Empty(HopPaths.JumpHostsBefore(remote, j1));
        Assert.Empty(HopPaths.JumpHostsBefore(remote with { JumpHosts = [] }, b));
    }
}
