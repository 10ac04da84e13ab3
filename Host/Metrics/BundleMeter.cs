using System.Diagnostics.Metrics;
using System.Globalization;
using EqlActors.Host.Control;
using EqlActors.Messages;

namespace EqlActors.Host.Metrics;

/// <summary>
/// One <see cref="Meter"/> per bundle. Every instrument is observable and reads the same <see cref="StatusView"/>
/// that <c>status --json</c> prints, so the two cannot disagree. Exported by prometheus-net as
/// <c>eqlactors_&lt;instrument&gt;</c> with labels <c>bundle</c>, <c>link</c> and, for failures, <c>reason</c>.
/// Instruments named <c>*_total</c> only ever grow (from zero when the daemon starts). The time to recover is a
/// Prometheus histogram built from the bundle's own bucket counts (<c>_bucket{le}</c>, <c>_sum</c>, <c>_count</c>):
/// a pushed .NET histogram would be dropped by the adapter after a day without a recovery.
/// </summary>
public sealed class BundleMeter : IDisposable
{
    public const string MeterName = "eqlactors";

    private readonly Meter _meter;
    private readonly Func<StatusView?> _snapshot;
    private readonly Func<bool> _statusAnswered;
    private readonly KeyValuePair<string, object?> _bundle;

    public BundleMeter(string bundle, Func<StatusView?> snapshot, Func<bool> statusAnswered)
    {
        _meter = new Meter(MeterName, Cli.EqlActorsCli.Version);
        _snapshot = snapshot;
        _statusAnswered = statusAnswered;
        _bundle = new("bundle", bundle);

        Gauge("link_up", "1 while the link's phase is up", l => l.Phase == LinkPhase.Up ? 1 : 0);
        Gauge("link_enslaved", "1 while the link is enslaved to the eql master", l => l.Enslaved ? 1 : 0);
        Counter("link_restarts_total", "Restarts of the link's pppd chain", l => l.Restarts);
        Gauge("link_seconds_since_change", "Seconds since the link last changed phase", l => l.SecondsSinceChange);
        Counter("link_tx_bytes_total", "Bytes sent on the link's interface (kernel counter; restarts with the interface)", l => l.Counters?.TxBytes);
        Counter("link_rx_bytes_total", "Bytes received on the link's interface (kernel counter; restarts with the interface)", l => l.Counters?.RxBytes);
        Counter("link_tx_packets_total", "Packets sent on the link's interface (kernel counter; restarts with the interface)", l => l.Counters?.TxPackets);
        Counter("link_rx_packets_total", "Packets received on the link's interface (kernel counter; restarts with the interface)", l => l.Counters?.RxPackets);
        Gauge("link_upload_share", "The link's share of the bundle's upload bytes over the last imbalance window (0-1)", l => l.UploadShare);
        Gauge("link_probe_ok", "1 if the last end-to-end probe through the link passed (health.enabled)", l => l.Probe is { } p ? (p.Ok ? 1 : 0) : null);
        Gauge("link_probe_rtt_seconds", "Connect time of the last passing end-to-end probe through the link", l => l.Probe is { Ok: true, RttSeconds: { } rtt } ? rtt : null);
        _meter.CreateObservableCounter("link_failures_total", Failures, description: "Times the link went down, by reason class");

        BundleGauge("bundle_ready", "1 while every link is enslaved and every route present and none shadowed", s => s.Ready ? 1 : 0);
        BundleGauge("bundle_links_enslaved", "Links enslaved to the eql master", s => s.Enslaved);
        BundleGauge("bundle_links_configured", "Links the configuration runs", s => s.Configured);
        BundleCounter("bundle_reconcile_passes_total", "Reconcile passes reported by the eql and route actors", s => s.Stats?.ReconcilePasses);
        BundleCounter("bundle_imbalances_healed_total", "Times every slave was re-enslaved to heal an upload imbalance", s => s.Stats?.ImbalancesHealed);
        BundleGauge("bundle_remote_lan_ok", "1 if the last remote LAN probe through the bundle passed (health.remoteLanTarget)", s => s.Stats?.RemoteLan is { } p ? (p.Ok ? 1 : 0) : null);
        _meter.CreateObservableGauge("bundle_status_answered", () => new Measurement<double>(_statusAnswered() ? 1 : 0, _bundle),
            description: "1 if the bundle answered the status request of this scrape (else every other value is from an earlier one)");
        _meter.CreateObservableCounter("bundle_recovery_seconds_bucket", RecoveryBuckets,
            description: "Recoveries (the bundle ready again after it was degraded) that took at most le seconds");
        BundleCounter("bundle_recovery_seconds_sum", "Seconds the bundle spent degraded before each recovery, summed", s => s.Stats?.RecoverySecondsTotal);
        BundleCounter("bundle_recovery_seconds_count", "Recoveries: the bundle ready again after it was degraded", s => s.Stats?.Recoveries);
    }

    public Meter Meter => _meter;

    private IEnumerable<Measurement<long>> RecoveryBuckets()
    {
        if (_snapshot()?.Stats is not { } stats) yield break;
        for (var i = 0; i < BundleStats.RecoveryBucketBounds.Count && i < stats.RecoveryBuckets.Count; i++)
            yield return new Measurement<long>(stats.RecoveryBuckets[i], _bundle, new("le", BundleStats.RecoveryBucketBounds[i].ToString(CultureInfo.InvariantCulture)));
        yield return new Measurement<long>(stats.Recoveries, _bundle, new("le", "+Inf"));
    }

    private KeyValuePair<string, object?> LinkTag(LinkStatus l) => new("link", l.Link.ToString(CultureInfo.InvariantCulture));

    private IEnumerable<Measurement<double>> PerLink(Func<LinkStatus, double?> value)
    {
        if (_snapshot() is not { } s) yield break;
        foreach (var l in s.Links)
            if (value(l) is { } v) yield return new Measurement<double>(v, _bundle, LinkTag(l));
    }

    private void Gauge(string name, string description, Func<LinkStatus, double?> value) =>
        _meter.CreateObservableGauge(name, () => PerLink(value), description: description);

    private void Counter(string name, string description, Func<LinkStatus, double?> value) =>
        _meter.CreateObservableCounter(name, () => PerLink(value), description: description);

    private void BundleGauge(string name, string description, Func<StatusView, double?> value) =>
        _meter.CreateObservableGauge(name, () => Bundle(value), description: description);

    private void BundleCounter(string name, string description, Func<StatusView, double?> value) =>
        _meter.CreateObservableCounter(name, () => Bundle(value), description: description);

    private IEnumerable<Measurement<double>> Bundle(Func<StatusView, double?> value)
    {
        if (_snapshot() is { } s && value(s) is { } v) yield return new Measurement<double>(v, _bundle);
    }

    /// <summary>Every class for every link, zeros included: a rate needs the series before the first failure.</summary>
    private IEnumerable<Measurement<long>> Failures()
    {
        if (_snapshot() is not { } s) yield break;
        foreach (var l in s.Links)
            foreach (var reason in FailureClass.All.Union(l.Failures.Keys))
                yield return new Measurement<long>(l.Failures.GetValueOrDefault(reason), _bundle, LinkTag(l), new("reason", reason));
    }

    public void Dispose() => _meter.Dispose();
}
