using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using EqlActors.Configuration;
using EqlActors.Host.Remote;
using EqlActors.Tests.Fixtures;

namespace EqlActors.Tests.Remote;

/// <summary>The cheap check a backing-off link makes of a hop: a real sshd answers, a refused, silent or foreign port does not.</summary>
[SupportedOSPlatform("linux")]
public sealed class HopCheckTests(SshdFixture sshd) : IClassFixture<SshdFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);
    private readonly SshRemoteHost _remote = new(new BundleConfig());

    [Fact]
    public async Task A_listening_sshd_answers() =>
        Assert.True(await _remote.HopAnswersAsync("127.0.0.1", sshd.Target.Port, TimeSpan.FromSeconds(10)));

    [Fact]
    public async Task A_closed_port_does_not_answer()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        Assert.False(await _remote.HopAnswersAsync("127.0.0.1", port, Timeout));
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
        Assert.False(await _remote.HopAnswersAsync("127.0.0.1", ((IPEndPoint)l.LocalEndpoint).Port, Timeout));
        await serve.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task The_caller_cancelling_is_not_taken_for_a_silent_hop()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _remote.HopAnswersAsync("127.0.0.1", ((IPEndPoint)l.LocalEndpoint).Port, TimeSpan.FromSeconds(30), cts.Token));
    }
}
