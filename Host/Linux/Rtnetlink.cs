using System.Buffers.Binary;
using System.Text;

namespace EqlActors.Host.Linux;

/// <summary>One rtnetlink link message: <c>ifinfomsg</c> plus the attributes this service reads.</summary>
public sealed record RtLink(bool Deleted, int Index, string? Name, uint Flags, int? Mtu, long? RxBytes, long? TxBytes)
{
    public long? RxPackets { get; init; }
    public long? TxPackets { get; init; }
}

/// <summary>rtnetlink wire format (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h): headers, requests, parsing.</summary>
public static class Rtnetlink
{
    public const int RTMGRP_LINK = 1;
    public const ushort NLMSG_ERROR = 2, NLMSG_DONE = 3, RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18;
    public const ushort NLM_F_REQUEST = 1;
    public const ushort IFLA_IFNAME = 3, IFLA_MTU = 4, IFLA_STATS = 7, IFLA_STATS64 = 23;
    public const uint IFF_UP = 0x1, IFF_SLAVE = 0x800;
    public const int HeaderSize = 16, IfInfoSize = 16;

    /// <summary><c>struct sockaddr_nl</c>: family, pad, port id 0 (the kernel assigns one), multicast groups.</summary>
    public static byte[] SockaddrNl(uint groups)
    {
        var b = new byte[12];
        BinaryPrimitives.WriteUInt16LittleEndian(b, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), groups);
        return b;
    }

    /// <summary>RTM_GETLINK for one interface by name (IFLA_IFNAME).</summary>
    public static byte[] GetLinkRequest(string name, uint seq)
    {
        var nameBytes = Encoding.ASCII.GetBytes(name + "\0");
        var attrLen = 4 + nameBytes.Length;
        var len = HeaderSize + IfInfoSize + Align(attrLen);
        var b = new byte[len];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)len);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(4), RTM_GETLINK);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(6), NLM_F_REQUEST);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), seq);
        // ifinfomsg all zero: any family, index 0 (look up by name)
        var a = HeaderSize + IfInfoSize;
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(a), (ushort)attrLen);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(a + 2), IFLA_IFNAME);
        nameBytes.CopyTo(b, a + 4);
        return b;
    }

    public static int Align(int n) => (n + 3) & ~3;

    /// <summary>One netlink message in a datagram: its type, sequence number and payload.</summary>
    public readonly record struct Message(ushort Type, uint Seq, int Offset, int Length);

    public static IEnumerable<Message> Split(byte[] buf, int count)
    {
        var off = 0;
        while (off + HeaderSize <= count)
        {
            var len = (int)BinaryPrimitives.ReadUInt32LittleEndian(buf.AsSpan(off));
            if (len < HeaderSize || off + len > count) yield break;
            yield return new Message(BinaryPrimitives.ReadUInt16LittleEndian(buf.AsSpan(off + 4)),
                BinaryPrimitives.ReadUInt32LittleEndian(buf.AsSpan(off + 8)), off, len);
            off += Align(len);
        }
    }

    /// <summary>The negative errno of an NLMSG_ERROR message (0 is an ACK).</summary>
    public static int Error(byte[] buf, Message m) => BinaryPrimitives.ReadInt32LittleEndian(buf.AsSpan(m.Offset + HeaderSize));

    public static RtLink ParseLink(byte[] buf, Message m)
    {
        var p = buf.AsSpan(m.Offset + HeaderSize, m.Length - HeaderSize);
        var index = BinaryPrimitives.ReadInt32LittleEndian(p[4..]);
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(p[8..]);
        string? name = null;
        int? mtu = null;
        long? rx = null, tx = null, rxPackets = null, txPackets = null;
        var off = IfInfoSize;
        while (off + 4 <= p.Length)
        {
            var len = BinaryPrimitives.ReadUInt16LittleEndian(p[off..]);
            var type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(p[(off + 2)..]) & 0x3fff);
            if (len < 4 || off + len > p.Length) break;
            var data = p.Slice(off + 4, len - 4);
            switch (type)
            {
                case IFLA_IFNAME:
                    var z = data.IndexOf((byte)0);
                    name = Encoding.ASCII.GetString(z < 0 ? data : data[..z]);
                    break;
                case IFLA_MTU when data.Length >= 4:
                    mtu = (int)BinaryPrimitives.ReadUInt32LittleEndian(data);
                    break;
                case IFLA_STATS64 when data.Length >= 32:
                    rxPackets = (long)BinaryPrimitives.ReadUInt64LittleEndian(data);
                    txPackets = (long)BinaryPrimitives.ReadUInt64LittleEndian(data[8..]);
                    rx = (long)BinaryPrimitives.ReadUInt64LittleEndian(data[16..]);
                    tx = (long)BinaryPrimitives.ReadUInt64LittleEndian(data[24..]);
                    break;
                case IFLA_STATS when data.Length >= 16 && rx is null:
                    rxPackets = BinaryPrimitives.ReadUInt32LittleEndian(data);
                    txPackets = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
                    rx = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
                    tx = BinaryPrimitives.ReadUInt32LittleEndian(data[12..]);
                    break;
            }
            off += Align(len);
        }
        return new RtLink(m.Type == RTM_DELLINK, index, name, flags, mtu, rx, tx) { RxPackets = rxPackets, TxPackets = txPackets };
    }
}
