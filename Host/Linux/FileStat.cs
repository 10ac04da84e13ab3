using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace EqlActors.Host.Linux;

public enum FileKind { Regular, Directory, Symlink, CharacterDevice, BlockDevice, Fifo, Socket, Unknown }

/// <summary>What .NET does not say about a file: its type (a FIFO or a device is not a config file) and its owner.</summary>
public sealed record FileStat(FileKind Kind, uint Uid, uint Gid, UnixFileMode Mode, long Size)
{
    private const int AtFdCwd = -100;
    private const int AtEmptyPath = 0x1000;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasic = 0x7ff;

    /// <summary>lstat(2) of a path (a symlink is reported as one); null when it does not exist or cannot be examined.</summary>
    public static FileStat? OfPath(string path, bool followSymlinks = true) =>
        Statx(AtFdCwd, path, followSymlinks ? 0 : AtSymlinkNoFollow);

    /// <summary>fstat(2) of an open descriptor.</summary>
    public static FileStat? OfDescriptor(int fd) => Statx(fd, "", AtEmptyPath);

    // struct statx has the same layout on every Linux architecture, unlike struct stat.
    private static FileStat? Statx(int dirfd, string path, int flags)
    {
        var buffer = new byte[256];
        if (statx(dirfd, path, flags, StatxBasic, buffer) != 0) return null;
        var uid = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(20));
        var gid = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(24));
        var mode = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(28));
        var size = BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(40));
        var kind = (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xA000 => FileKind.Symlink,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0x1000 => FileKind.Fifo,
            0xC000 => FileKind.Socket,
            _ => FileKind.Unknown,
        };
        return new FileStat(kind, uid, gid, (UnixFileMode)(mode & 0xFFF), size);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, string path, int flags, uint mask, byte[] buffer);
}

/// <summary>Thrown by <see cref="BoundedFile.ReadAllBytes"/>: the message is one plain sentence for the operator.</summary>
public sealed class BoundedFileException(string message) : IOException(message);

/// <summary>
/// Reads a configuration-like file an operator names: a regular file of bounded size, nothing else. A device
/// (/dev/zero) or a FIFO is refused before any read, and it is opened non-blocking, so a FIFO swapped in after the
/// check cannot hang the reader.
/// </summary>
public static class BoundedFile
{
    public const int MaxBytes = 1 << 20;
    private const int ONonBlock = 0x800;

    public static byte[] ReadAllBytes(string path, int maxBytes = MaxBytes)
    {
        var fd = Native.open(path, Native.O_RDONLY | Native.O_CLOEXEC | ONonBlock);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new BoundedFileException(errno switch
            {
                Native.ENOENT => "no such file",
                Native.EACCES => "permission denied",
                _ => $"cannot be opened ({Marshal.GetPInvokeErrorMessage(errno)})",
            });
        }
        using var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
        var stat = FileStat.OfDescriptor(fd) ?? throw new BoundedFileException("cannot be examined");
        if (stat.Kind != FileKind.Regular)
            throw new BoundedFileException($"is not a regular file (it is a {Describe(stat.Kind)})");
        if (stat.Size > maxBytes)
            throw new BoundedFileException($"is too large ({stat.Size} bytes; at most {maxBytes} are read)");
        // The size may change under us: read at most one byte more than allowed, and refuse if it is there.
        var buffer = new byte[Math.Min(maxBytes, (int)Math.Max(stat.Size, 0)) + 1];
        var total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (total > maxBytes) throw new BoundedFileException($"is too large (more than {maxBytes} bytes)");
                Array.Resize(ref buffer, Math.Min(maxBytes + 1, buffer.Length * 2));
            }
            var n = RandomAccess.Read(handle, buffer.AsSpan(total), total);
            if (n == 0) break;
            total += n;
        }
        return buffer[..total];
    }

    private static string Describe(FileKind kind) => kind switch
    {
        FileKind.Directory => "directory",
        FileKind.CharacterDevice or FileKind.BlockDevice => "device",
        FileKind.Fifo => "FIFO",
        FileKind.Socket => "socket",
        _ => "special file",
    };
}
