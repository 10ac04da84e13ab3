using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace EqlActors.Host.Metrics;

/// <summary>
/// A deliberately small HTTP/1.x server for one resource: <c>GET /metrics</c> answered with the registry in
/// Prometheus text format, anything else 404 or 405, every connection closed after one answer. Bound to exactly
/// the configured address (prometheus-net's HttpListener server matches the Host header against its prefix, so a
/// scrape of <c>localhost</c> for a <c>127.0.0.1</c> listener would get 404, and <c>+</c> binds every address).
/// Bounded: at most <see cref="MaxConnections"/> at once (more are closed at once), a request head of at most
/// <see cref="MaxHeadBytes"/> read within <see cref="ReadTimeout"/>.
/// </summary>
public sealed class PrometheusEndpoint : IDisposable
{
    public const int MaxConnections = 4;
    public const int MaxHeadBytes = 8192;
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);

    private readonly TcpListener _listener;
    private readonly CollectorRegistry _registry;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _slots = new(MaxConnections);
    private Task? _loop;

    public PrometheusEndpoint(IPEndPoint endpoint, CollectorRegistry registry, ILogger log)
    {
        _registry = registry;
        _log = log;
        _listener = new TcpListener(endpoint);
    }

    /// <summary>The bound address (with the real port when 0 was asked for).</summary>
    public IPEndPoint LocalEndpoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Binds (throws <see cref="SocketException"/> when the address is taken or not local) and starts serving.</summary>
    public void Start()
    {
        _listener.Start(backlog: 16);
        _loop = Task.Run(AcceptLoop);
    }

    private async Task AcceptLoop()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await _listener.AcceptSocketAsync(_stopping.Token); }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested) return;
                continue;
            }
            if (!_slots.Wait(0))
            {
                socket.Dispose(); // too many at once: a scraper retries, a flood gets nothing
                continue;
            }
            _ = Task.Run(async () =>
            {
                try { await Serve(socket); }
                finally
                {
                    socket.Dispose();
                    _slots.Release();
                }
            });
        }
    }

    private async Task Serve(Socket socket)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(ReadTimeout);
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            var head = await ReadHead(stream, timeout.Token);
            if (head is null) return;
            var requestLine = head.Split("\r\n", 2)[0].Split(' ');
            if (requestLine.Length != 3 || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            {
                await Answer(stream, "400 Bad Request", "bad request\n", timeout.Token);
                return;
            }
            var path = requestLine[1].Split('?', 2)[0];
            if (path is not ("/metrics" or "/metrics/"))
            {
                await Answer(stream, "404 Not Found", "only /metrics is served here\n", timeout.Token);
                return;
            }
            if (requestLine[0] is not ("GET" or "HEAD"))
            {
                await Answer(stream, "405 Method Not Allowed", "GET /metrics\n", timeout.Token);
                return;
            }
            using var body = new MemoryStream();
            await _registry.CollectAndExportAsTextAsync(body, _stopping.Token);
            await Answer(stream, "200 OK", body.ToArray(), requestLine[0] == "HEAD", "text/plain; version=0.0.4; charset=utf-8", timeout.Token);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            _log.LogDebug("Metrics connection dropped: {Reason}", ex.Message);
        }
    }

    /// <summary>Reads up to the blank line that ends the request head; null if the client gave up or sent too much.</summary>
    private static async Task<string?> ReadHead(NetworkStream stream, CancellationToken ct)
    {
        var buffer = new byte[MaxHeadBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(length), ct);
            if (n == 0) return null;
            length += n;
            var text = Encoding.ASCII.GetString(buffer, 0, length);
            if (text.Contains("\r\n\r\n", StringComparison.Ordinal) || text.Contains("\n\n", StringComparison.Ordinal)) return text.Replace("\n\n", "\r\n\r\n");
        }
        return null;
    }

    private static Task Answer(NetworkStream stream, string status, string text, CancellationToken ct) =>
        Answer(stream, status, Encoding.UTF8.GetBytes(text), false, "text/plain; charset=utf-8", ct);

    private static async Task Answer(NetworkStream stream, string status, byte[] body, bool headOnly, string contentType, CancellationToken ct)
    {
        var head = $"HTTP/1.1 {status}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), ct);
        if (!headOnly) await stream.WriteAsync(body, ct);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _listener.Stop();
        try { _loop?.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        _stopping.Dispose();
    }
}
