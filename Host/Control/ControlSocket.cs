using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.Versioning;

namespace EqlActors.Host.Control;

/// <summary>Another daemon already answers on the control socket: a second one must not touch its links.</summary>
public sealed class ControlSocketInUseException(string path) : Exception($"another eqlactors daemon already serves {path}")
{
    public string SocketPath { get; } = path;
}

/// <summary>The socket's folder (or one above it) lets other users replace the socket: the daemon will not serve there.</summary>
public sealed class ControlSocketFolderUnsafeException(string message) : Exception(message);

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
        CheckFolders(Hosting.RuntimeDirectory.Ensure(path));
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

    /// <summary>
    /// Whoever may write the socket's folder can put their own server in its place, and clients would talk to it:
    /// the folder must be writable by its owner only, and owned by root or the daemon's user; every folder above it
    /// must not be writable by others either, unless sticky (/tmp).
    /// </summary>
    public static void CheckFolders(string folder)
    {
        var me = geteuid();
        for (var dir = folder; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (Linux.FileStat.OfPath(dir) is not { } st) continue;
            var othersWrite = (st.Mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0;
            var sticky = (st.Mode & UnixFileMode.StickyBit) != 0;
            if (dir == folder && (othersWrite || (st.Uid != 0 && st.Uid != me)))
                throw new ControlSocketFolderUnsafeException(
                    $"the control socket's folder {dir} is {(othersWrite ? "writable by other users" : $"owned by uid {st.Uid}")} (mode {Octal(st.Mode)}): " +
                    $"another user could replace the socket. Use a folder owned by root (or this user) with mode 0700 or 0755 (chmod go-w {dir}), or set control.socketPath elsewhere");
            if (dir != folder && othersWrite && !sticky)
                throw new ControlSocketFolderUnsafeException(
                    $"{dir}, above the control socket's folder, is writable by other users (mode {Octal(st.Mode)}): another user could move the folder and replace the socket; chmod go-w {dir} or set control.socketPath elsewhere");
        }
    }

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');

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
