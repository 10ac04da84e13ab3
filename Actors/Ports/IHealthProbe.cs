namespace EqlActors.Ports;

/// <summary>
/// What one probe found. <see cref="Ok"/>: packets went out and came back (a refused connection counts: its RST
/// came back over the same path). <see cref="RttSeconds"/>: how long the connect (or refusal) took.
/// </summary>
public sealed record ProbeOutcome(bool Ok, double? RttSeconds, string Detail);

/// <summary>End-to-end probes: a TCP connect to <c>host:port</c> whose packets leave through one given interface.</summary>
public interface IHealthProbe
{
    /// <summary>Never throws for an unreachable target: that is a failed <see cref="ProbeOutcome"/>.</summary>
    Task<ProbeOutcome> ConnectAsync(string device, string host, int port, TimeSpan timeout, CancellationToken ct = default);
}
