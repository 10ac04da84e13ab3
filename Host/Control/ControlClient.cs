using System.Net.Sockets;
using System.Text;

namespace EqlActors.Host.Control;

public enum ConnectOutcome
{
    Connected,
    /// <summary>No socket file, or nobody listening on it.</summary>
    NoDaemon,
    /// <summary>The socket's directory or file mode refused us (EACCES), or the daemon refused our uid.</summary>
    PermissionDenied,
    /// <summary>Something answers, but it runs as neither root nor our own user: not our daemon, nothing it says is believed.</summary>
    Untrusted,
}

/// <summary>One connection to the daemon's control socket, speaking <see cref="ControlProtocol"/>.</summary>
public sealed class ControlClient : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;
    private readonly StreamWriter _writer;

    private ControlClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, new UTF8Encoding(false));
        _writer = new StreamWriter(_stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
    }

    public static ConnectOutcome TryConnect(string path, out ControlClient? client, out string detail)
    {
        client = null;
        detail = "";
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            // Whoever can write the socket's folder can put their own server there: believe only root or ourselves.
            if (OperatingSystem.IsLinux())
            {
                var (pid, uid, _) = ControlSocket.PeerCredentials(socket);
                if (!ControlSocket.IsAllowed(uid))
                {
                    socket.Dispose();
                    detail = $"{path} is served by pid {pid} of uid {uid}, neither root nor you: not an eqlactors daemon to trust";
                    return ConnectOutcome.Untrusted;
                }
            }
            client = new ControlClient(socket);
            return ConnectOutcome.Connected;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            detail = ex.SocketErrorCode switch
            {
                SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported when !File.Exists(path) => "no socket file",
                SocketError.ConnectionRefused => "nobody listening",
                _ => ex.Message,
            };
            return ex.SocketErrorCode == SocketError.AccessDenied ? ConnectOutcome.PermissionDenied : ConnectOutcome.NoDaemon;
        }
    }

    /// <summary>
    /// Sends one request line. A daemon that refuses the peer answers and closes at once, so a failed write is
    /// not an error here: the refusal is still waiting to be read.
    /// </summary>
    public async Task SendAsync(ControlRequest request)
    {
        try { await _writer.WriteLineAsync(ControlProtocol.Serialize(request)); }
        catch (IOException) { }
    }

    /// <summary>The next response line; null when the daemon closed the connection.</summary>
    public async Task<ControlResponse?> ReadAsync(CancellationToken ct)
    {
        while (true)
        {
            string? line;
            try { line = await _reader.ReadLineAsync(ct); }
            catch (IOException) { return null; }
            if (line is null) return null;
            if (line.Length == 0) continue;
            return ControlProtocol.Deserialize<ControlResponse>(line);
        }
    }

    /// <summary>Sends one request and returns its single response (null if the connection closed first).</summary>
    public async Task<ControlResponse?> RequestAsync(ControlRequest request, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await SendAsync(request);
        return await ReadAsync(cts.Token);
    }

    public void Dispose()
    {
        _writer.Dispose();
        _reader.Dispose();
        _stream.Dispose();
        _socket.Dispose();
    }
}
