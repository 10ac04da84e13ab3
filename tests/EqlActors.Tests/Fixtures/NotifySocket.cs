using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace EqlActors.Tests.Fixtures;

/// <summary>
/// A notify socket like systemd's (the daemon's <c>NOTIFY_SOCKET</c>): keeps every datagram the daemon sends
/// (READY=1, STATUS=..., WATCHDOG=1) with the time it arrived, counted from the socket's creation.
/// </summary>
public sealed class NotifySocket : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(TimeSpan At, string Text)> _messages = [];
    private readonly Task _receiving;

    public NotifySocket(string path)
    {
        Path = path;
        _socket.Bind(new UnixDomainSocketEndPoint(path));
        _receiving = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            while (true)
            {
                int n;
                try { n = await _socket.ReceiveAsync(buffer, SocketFlags.None); }
                catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
                lock (_messages) _messages.Add((_clock.Elapsed, Encoding.UTF8.GetString(buffer, 0, n)));
            }
        });
    }

    /// <summary>The value for the daemon's <c>NOTIFY_SOCKET</c>.</summary>
    public string Path { get; }

    /// <summary>Time since the socket was made: the clock of <see cref="Messages"/>.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    public List<(TimeSpan At, string Text)> Messages
    {
        get { lock (_messages) return [.. _messages]; }
    }

    /// <summary>Whether any datagram so far contains <paramref name="text"/>.</summary>
    public bool Saw(string text) => Messages.Any(m => m.Text.Contains(text, StringComparison.Ordinal));

    public void Dispose()
    {
        _socket.Dispose();
        // The receive loop ends with the socket; waiting for it keeps it from outliving the test.
        _receiving.Wait(TimeSpan.FromSeconds(10));
        File.Delete(Path);
    }
}
