namespace EqlActors.Ports;

/// <summary>What one probe found. <see cref="RttSeconds"/>: the round trip of a passing probe.</summary>
public sealed record ProbeOutcome(bool Ok, double? RttSeconds, string Detail);

/// <summary>End-to-end probes: through one link, and through the bundle as the routing table sends it.</summary>
public interface IHealthProbe
{
    /// <summary>
    /// An ICMP echo request to <paramref name="host"/> sent out through <paramref name="device"/> only; the reply
    /// counts on any interface (slirp sends every reply over its first working unit). Never throws for an
    /// unreachable target: that is a failed <see cref="ProbeOutcome"/>.
    /// </summary>
    Task<ProbeOutcome> EchoAsync(string device, string host, TimeSpan timeout, CancellationToken ct = default);

    /// <summary>A TCP connect to <c>host:port</c> routed by the main table (through eql for a remote LAN). A refused connection passes: its RST came back.</summary>
    Task<ProbeOutcome> ConnectAsync(string host, int port, TimeSpan timeout, CancellationToken ct = default);
}
