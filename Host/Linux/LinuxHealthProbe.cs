using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EqlActors.Ports;

namespace EqlActors.Host.Linux;

/// <summary>
/// A TCP connect bound to one interface with SO_BINDTODEVICE, so the probe leaves through that pppN (or the eql
/// master) whatever the routing table prefers. Needs CAP_NET_RAW, which the daemon has as root.
/// </summary>
public sealed class LinuxHealthProbe : IHealthProbe
{
    private const int SOL_SOCKET = 1;
    private const int SO_BINDTODEVICE = 25;

    public async Task<ProbeOutcome> ConnectAsync(string device, string host, int port, TimeSpan timeout, CancellationToken ct = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        IPAddress address;
        try
        {
            address = IPAddress.TryParse(host, out var literal) ? literal
                : (await Dns.GetHostAddressesAsync(host, AddressFamily.InterNetwork, deadline.Token)).FirstOrDefault()
                  ?? throw new SocketException((int)SocketError.HostNotFound);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return new ProbeOutcome(false, null, $"{host} does not resolve");
        }
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetRawSocketOption(SOL_SOCKET, SO_BINDTODEVICE, Encoding.ASCII.GetBytes(device + "\0"));
        }
        catch (SocketException ex)
        {
            return new ProbeOutcome(false, null, $"cannot bind a probe to {device}: {ex.Message}");
        }
        var clock = Stopwatch.StartNew();
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, port), deadline.Token);
            return new ProbeOutcome(true, clock.Elapsed.TotalSeconds, $"{address}:{port} connected via {device}");
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return new ProbeOutcome(true, clock.Elapsed.TotalSeconds, $"{address}:{port} refused via {device} (the path works)");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new ProbeOutcome(false, null, $"{address}:{port} did not answer via {device} within {timeout.TotalSeconds:0.#} s");
        }
        catch (SocketException ex)
        {
            return new ProbeOutcome(false, null, $"{address}:{port} via {device}: {ex.Message}");
        }
    }
}
