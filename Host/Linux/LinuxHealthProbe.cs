using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EqlActors.Ports;

namespace EqlActors.Host.Linux;

/// <summary>
/// The probes on Linux (root: raw sockets and SO_BINDTODEVICE need CAP_NET_RAW).
/// Through one link: an ICMP echo from a raw socket bound to that pppN (SO_BINDTODEVICE), so it leaves through
/// that link whatever the routing table prefers, and a second, unbound raw socket that sees the reply on any
/// interface: a multi-unit slirp answers everything over its first working unit, so a reply bound to the same
/// pppN would never arrive for the others (a TCP probe bound to the device fails the same way). slirp answers
/// an echo to its own 10.0.2.2 itself.
/// Through the bundle: a TCP connect routed by the main table (the remote LAN route goes via eql).
/// </summary>
public sealed class LinuxHealthProbe : IHealthProbe
{
    private const int SOL_SOCKET = 1;
    private const int SO_BINDTODEVICE = 25;
    private static int _nextId = Random.Shared.Next(0, 0x10000);

    public async Task<ProbeOutcome> EchoAsync(string device, string host, TimeSpan timeout, CancellationToken ct = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var address = await Resolve(host, deadline.Token);
        if (address is null) return new ProbeOutcome(false, null, $"{host} does not resolve");
        var id = (ushort)Interlocked.Increment(ref _nextId);
        const ushort seq = 1;
        try
        {
            using var receive = new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Icmp);
            receive.Bind(new IPEndPoint(IPAddress.Any, 0));
            using var send = new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Icmp);
            send.SetRawSocketOption(SOL_SOCKET, SO_BINDTODEVICE, Encoding.ASCII.GetBytes(device + "\0"));
            var clock = Stopwatch.StartNew();
            await send.SendToAsync(EchoRequest(id, seq), SocketFlags.None, new IPEndPoint(address, 0), deadline.Token);
            var buffer = new byte[1500];
            while (true)
            {
                var got = await receive.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), deadline.Token);
                if (IsReply(buffer.AsSpan(0, got.ReceivedBytes), address, id, seq))
                    return new ProbeOutcome(true, clock.Elapsed.TotalSeconds, $"echo from {address} sent via {device}");
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new ProbeOutcome(false, null, $"no echo reply from {address} via {device} within {timeout.TotalSeconds:0.#} s");
        }
        catch (SocketException ex)
        {
            return new ProbeOutcome(false, null, $"echo to {address} via {device}: {ex.Message}");
        }
    }

    public async Task<ProbeOutcome> ConnectAsync(string host, int port, TimeSpan timeout, CancellationToken ct = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var address = await Resolve(host, deadline.Token);
        if (address is null) return new ProbeOutcome(false, null, $"{host} does not resolve");
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var clock = Stopwatch.StartNew();
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, port), deadline.Token);
            return new ProbeOutcome(true, clock.Elapsed.TotalSeconds, $"{address}:{port} connected");
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return new ProbeOutcome(true, clock.Elapsed.TotalSeconds, $"{address}:{port} refused (the path works)");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new ProbeOutcome(false, null, $"{address}:{port} did not answer within {timeout.TotalSeconds:0.#} s");
        }
        catch (SocketException ex)
        {
            return new ProbeOutcome(false, null, $"{address}:{port}: {ex.Message}");
        }
    }

    private static async Task<IPAddress?> Resolve(string host, CancellationToken ct)
    {
        if (IPAddress.TryParse(host, out var literal)) return literal;
        try { return (await Dns.GetHostAddressesAsync(host, AddressFamily.InterNetwork, ct)).FirstOrDefault(); }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException) { return null; }
    }

    /// <summary>ICMP echo request (type 8): the kernel adds the IP header.</summary>
    internal static byte[] EchoRequest(ushort id, ushort seq)
    {
        var packet = new byte[8 + 16];
        packet[0] = 8;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), seq);
        Encoding.ASCII.GetBytes("eqlactors-probe!").CopyTo(packet, 8);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), Checksum(packet));
        return packet;
    }

    /// <summary>A raw ICMP socket receives the IP header too: an echo reply (type 0) from the target with our id and sequence.</summary>
    internal static bool IsReply(ReadOnlySpan<byte> ip, IPAddress from, ushort id, ushort seq)
    {
        if (ip.Length < 20) return false;
        var ihl = (ip[0] & 0x0f) * 4;
        if (ip.Length < ihl + 8 || !ip.Slice(12, 4).SequenceEqual(from.GetAddressBytes())) return false;
        var icmp = ip[ihl..];
        return icmp[0] == 0 && BinaryPrimitives.ReadUInt16BigEndian(icmp[4..]) == id && BinaryPrimitives.ReadUInt16BigEndian(icmp[6..]) == seq;
    }

    internal static ushort Checksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (var i = 0; i + 1 < data.Length; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (data.Length % 2 == 1) sum += (uint)(data[^1] << 8);
        while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }
}
