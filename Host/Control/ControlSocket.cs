using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.Versioning;

namespace EqlActors.Host.Control;

/// <summary>Another daemon already answers on the control socket: a second one must not touch its links.</summary>
public sealed class ControlSocketInUseException(string path) : Exception($"another eqlactors daemon already serves {path}")
{
    public string SocketPath { get; } = path;
}

/// <summary>The Unix domain socket under <c>/run/eqlactors/</c>: root-only by file mode and by SO_PEERCRED.</summary>
[SupportedOSPlatform("linux")]
public static class ControlSocket
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    public const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Binds and listens. A socket file nobody answers on is a dead daemon's and is replaced; one that answers
    /// belongs to a live daemon: <see cref="ControlSocketInUseException"/>.
    /// </summary>
    public static Socket Listen(string path)
    {
        Hosting.RuntimeDirectory.Ensure(path);
        if (File.Exists(path) || Directory.Exists(path))
        {
            if (Answers(path)) throw new ControlSocketInUseException(path);
            File.Delete(path);
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, SocketMode);
            socket.Listen(16);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static bool Answers(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The connecting process's pid, uid and gid as the kernel recorded them at connect(2).</summary>
    public static (int Pid, uint Uid, uint Gid) PeerCredentials(Socket connection)
    {
        Span<byte> cred = stackalloc byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        var n = connection.GetRawSocketOption(SolSocket, SoPeerCred, cred);
        if (n < 12) throw new SocketException((int)SocketError.ProtocolNotSupported);
        return (BinaryPrimitives.ReadInt32LittleEndian(cred), BinaryPrimitives.ReadUInt32LittleEndian(cred[4..]), BinaryPrimitives.ReadUInt32LittleEndian(cred[8..]));
    }

    /// <summary>Root, or the user the daemon itself runs as.</summary>
    public static bool IsAllowed(uint uid) => uid == 0 || uid == geteuid();

    [System.Runtime.InteropServices.DllImport("libc")] private static extern uint geteuid();
}
