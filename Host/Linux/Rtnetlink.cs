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

    /// <summary>One attribute of a message body: its type (the nested and byte-order flags masked off) and its payload.</summary>
    private delegate void AttributeVisitor(ushort type, ReadOnlySpan<byte> data);

    /// <summary>Walks a message body's attributes from <paramref name="start"/>, stopping at a malformed one.</summary>
    private static void ForEachAttribute(ReadOnlySpan<byte> body, int start, AttributeVisitor visit)
    {
        var off = start;
        while (off + 4 <= body.Length)
        {
            var len = BinaryPrimitives.ReadUInt16LittleEndian(body[off..]);
            var type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(body[(off + 2)..]) & 0x3fff);
            if (len < 4 || off + len > body.Length) break;
            visit(type, body.Slice(off + 4, len - 4));
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
        ForEachAttribute(p, IfInfoSize, (type, data) =>
        {
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
        });
        return new RtLink(m.Type == RTM_DELLINK, index, name, flags, mtu, rx, tx) { RxPackets = rxPackets, TxPackets = txPackets };
    }

    // Routes (linux/rtnetlink.h): struct rtmsg, then attributes.
    public const ushort RTM_NEWROUTE = 24, RTM_DELROUTE = 25, RTM_GETROUTE = 26;
    public const ushort NLM_F_ACK = 4, NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400, NLM_F_DUMP = 0x300;
    public const ushort RTA_DST = 1, RTA_OIF = 4, RTA_GATEWAY = 5, RTA_TABLE = 15;
    public const byte AF_INET = 2, RT_TABLE_MAIN = 254, RTN_UNSPEC = 0, RTN_UNICAST = 1, RTPROT_UNSPEC = 0, RTPROT_BOOT = 3;
    public const byte RT_SCOPE_UNIVERSE = 0, RT_SCOPE_LINK = 253, RT_SCOPE_NOWHERE = 255;
    public const uint RTNH_F_ONLINK = 4;
    public const int RtMsgSize = 12;

    /// <summary>One IPv4 route of a dump: <c>rtmsg</c>'s fields and the attributes this service reads.</summary>
    public sealed record RtRoute(byte Family, byte DstLength, uint Table, byte Type, uint Flags, byte[]? Destination, byte[]? Gateway, int? OutputInterface);

    /// <summary>A request: the header, a fixed body (ifinfomsg, rtmsg), then each attribute aligned.</summary>
    public static byte[] Request(ushort type, ushort flags, uint seq, byte[] body, params (ushort Type, byte[] Data)[] attributes)
    {
        var len = HeaderSize + Align(body.Length) + attributes.Sum(a => Align(4 + a.Data.Length));
        var b = new byte[len];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)len);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(6), (ushort)(NLM_F_REQUEST | flags));
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), seq);
        body.CopyTo(b, HeaderSize);
        var off = HeaderSize + Align(body.Length);
        foreach (var (t, data) in attributes)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(off), (ushort)(4 + data.Length));
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(off + 2), t);
            data.CopyTo(b, off + 4);
            off += Align(4 + data.Length);
        }
        return b;
    }

    /// <summary>Every interface (RTM_GETLINK dump): for their index and name.</summary>
    public static byte[] DumpLinksRequest(uint seq) => Request(RTM_GETLINK, NLM_F_DUMP, seq, new byte[IfInfoSize]);

    /// <summary>Every IPv4 route of every table (RTM_GETROUTE dump); the caller keeps the main table's.</summary>
    public static byte[] DumpRoutesRequest(uint seq) => Request(RTM_GETROUTE, NLM_F_DUMP, seq, RtMsg(0, 0, RTPROT_UNSPEC, RT_SCOPE_UNIVERSE, RTN_UNSPEC, 0));

    /// <summary>
    /// RTM_NEWROUTE (create, never replace) or RTM_DELROUTE of one route in the main table, acknowledged: what
    /// <c>ip route add|del DST [via GW] dev DEV [onlink]</c> sends. A delete leaves protocol, scope and type open, as ip does.
    /// </summary>
    public static byte[] RouteRequest(bool add, uint seq, byte dstLength, byte[] destination, byte[]? gateway, int outputInterface, bool onLink)
    {
        var body = add
            ? RtMsg(dstLength, RT_TABLE_MAIN, RTPROT_BOOT, gateway is null ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE, RTN_UNICAST, onLink ? RTNH_F_ONLINK : 0)
            : RtMsg(dstLength, RT_TABLE_MAIN, RTPROT_UNSPEC, RT_SCOPE_NOWHERE, RTN_UNSPEC, onLink ? RTNH_F_ONLINK : 0);
        var attributes = new List<(ushort, byte[])>();
        if (dstLength > 0) attributes.Add((RTA_DST, destination));
        if (gateway is not null) attributes.Add((RTA_GATEWAY, gateway));
        var oif = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(oif, outputInterface);
        attributes.Add((RTA_OIF, oif));
        return Request(add ? RTM_NEWROUTE : RTM_DELROUTE, (ushort)(NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0)), seq, body, [.. attributes]);
    }

    private static byte[] RtMsg(byte dstLength, byte table, byte protocol, byte scope, byte type, uint flags)
    {
        var b = new byte[RtMsgSize];
        b[0] = AF_INET;
        b[1] = dstLength;
        b[4] = table;
        b[5] = protocol;
        b[6] = scope;
        b[7] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), flags);
        return b;
    }

    public static RtRoute ParseRoute(byte[] buf, Message m)
    {
        var p = buf.AsSpan(m.Offset + HeaderSize, m.Length - HeaderSize);
        if (p.Length < RtMsgSize) throw new ArgumentException("a route message shorter than rtmsg");
        uint table = p[4];
        byte[]? dst = null, gw = null;
        int? oif = null;
        ForEachAttribute(p, RtMsgSize, (type, data) =>
        {
            switch (type)
            {
                case RTA_DST: dst = data.ToArray(); break;
                case RTA_GATEWAY: gw = data.ToArray(); break;
                case RTA_OIF when data.Length >= 4: oif = BinaryPrimitives.ReadInt32LittleEndian(data); break;
                case RTA_TABLE when data.Length >= 4: table = BinaryPrimitives.ReadUInt32LittleEndian(data); break;
            }
        });
        return new RtRoute(p[0], p[1], table, p[7], BinaryPrimitives.ReadUInt32LittleEndian(p[8..]), dst, gw, oif);
    }
}
