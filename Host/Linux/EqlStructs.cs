using System.Buffers.Binary;
using System.Net;
using System.Text;
using EqlActors.Ports;

namespace EqlActors.Host.Linux;

/// <summary>
/// The EQL driver's ioctl numbers and structures (include/uapi/linux/if_eql.h) and the interface ioctls'
/// <c>struct ifreq</c>, laid out byte by byte for x86-64/aarch64 Linux (LP64): tests check every offset.
/// </summary>
public static class EqlStructs
{
    public const int IfNameSize = 16;              // IFNAMSIZ, including the terminating NUL
    public const int IfReqSize = 40;               // struct ifreq
    public const int IfReqDataOffset = 16;         // ifr_ifru: ifr_data, ifr_addr, ifr_mtu, ifr_flags
    public const int SlaveConfigSize = 24;         // slaving_request_t / slave_config_t: char[16] + long
    public const int MasterConfigSize = 24;        // master_config_t: char[16] + int + int

    public const uint SIOCDEVPRIVATE = 0x89F0;
    public const uint EQL_ENSLAVE = SIOCDEVPRIVATE;
    public const uint EQL_EMANCIPATE = SIOCDEVPRIVATE + 1;
    public const uint EQL_GETSLAVECFG = SIOCDEVPRIVATE + 2;
    public const uint EQL_SETSLAVECFG = SIOCDEVPRIVATE + 3;
    public const uint EQL_GETMASTRCFG = SIOCDEVPRIVATE + 4;
    public const uint EQL_SETMASTRCFG = SIOCDEVPRIVATE + 5;

    public const uint SIOCGIFFLAGS = 0x8913, SIOCSIFFLAGS = 0x8914, SIOCGIFADDR = 0x8915, SIOCSIFADDR = 0x8916,
        SIOCGIFNETMASK = 0x891B, SIOCSIFNETMASK = 0x891C, SIOCGIFMTU = 0x8921, SIOCSIFMTU = 0x8922, SIOCGIFINDEX = 0x8933;

    public const short IFF_UP = 0x1;
    public const short IFF_SLAVE = 0x800;
    public const short IFF_MASTER = 0x400;

    /// <summary>Writes an interface name NUL-terminated into 16 bytes; longer names cannot exist.</summary>
    public static void WriteName(Span<byte> dest, string name)
    {
        var bytes = Encoding.ASCII.GetBytes(name);
        if (bytes.Length == 0 || bytes.Length >= IfNameSize || name.IndexOfAny(['/', ' ', '\0', ':']) >= 0 || bytes.Any(b => b < 0x21 || b > 0x7e))
            throw new PortException($"'{name}' is not a valid interface name", FailureKind.Permanent);
        dest[..IfNameSize].Clear();
        bytes.CopyTo(dest);
    }

    public static string ReadName(ReadOnlySpan<byte> src)
    {
        var n = src[..IfNameSize].IndexOf((byte)0);
        return Encoding.ASCII.GetString(src[..(n < 0 ? IfNameSize : n)]);
    }

    /// <summary><c>slaving_request_t</c> / <c>slave_config_t</c>: <c>{ char slave_name[16]; long priority; }</c>.</summary>
    public static byte[] SlaveConfig(string slave, long priority)
    {
        var b = new byte[SlaveConfigSize];
        WriteName(b, slave);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(16), priority);
        return b;
    }

    public static (string Slave, long Priority) ReadSlaveConfig(ReadOnlySpan<byte> b) => (ReadName(b), BinaryPrimitives.ReadInt64LittleEndian(b[16..]));

    /// <summary><c>master_config_t</c>: <c>{ char master_name[16]; int max_slaves; int min_slaves; }</c>.</summary>
    public static byte[] MasterConfig(string master, int maxSlaves, int minSlaves)
    {
        var b = new byte[MasterConfigSize];
        WriteName(b, master);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(16), maxSlaves);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(20), minSlaves);
        return b;
    }

    public static (string Master, int MaxSlaves, int MinSlaves) ReadMasterConfig(ReadOnlySpan<byte> b) =>
        (ReadName(b), BinaryPrimitives.ReadInt32LittleEndian(b[16..]), BinaryPrimitives.ReadInt32LittleEndian(b[20..]));

    /// <summary><c>struct ifreq</c> with the name set and the union zeroed.</summary>
    public static byte[] IfReq(string name)
    {
        var b = new byte[IfReqSize];
        WriteName(b, name);
        return b;
    }

    /// <summary><c>ifr_data</c>: a pointer at offset 16.</summary>
    public static void SetData(byte[] ifreq, IntPtr data) => BinaryPrimitives.WriteInt64LittleEndian(ifreq.AsSpan(IfReqDataOffset), data.ToInt64());

    /// <summary><c>ifr_addr</c> as <c>struct sockaddr_in</c>: family 2, port 0, the address in network order.</summary>
    public static void SetAddress(byte[] ifreq, IPAddress address)
    {
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) throw new PortException($"{address} is not IPv4", FailureKind.Permanent);
        var s = ifreq.AsSpan(IfReqDataOffset, 16);
        s.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(s, 2);
        address.GetAddressBytes().CopyTo(s[4..]);
    }

    public static IPAddress GetAddress(byte[] ifreq) => new(ifreq.AsSpan(IfReqDataOffset + 4, 4));

    public static void SetInt(byte[] ifreq, int value) => BinaryPrimitives.WriteInt32LittleEndian(ifreq.AsSpan(IfReqDataOffset), value);
    public static int GetInt(byte[] ifreq) => BinaryPrimitives.ReadInt32LittleEndian(ifreq.AsSpan(IfReqDataOffset));
    public static void SetFlags(byte[] ifreq, short flags) => BinaryPrimitives.WriteInt16LittleEndian(ifreq.AsSpan(IfReqDataOffset), flags);
    public static short GetFlags(byte[] ifreq) => BinaryPrimitives.ReadInt16LittleEndian(ifreq.AsSpan(IfReqDataOffset));
}
