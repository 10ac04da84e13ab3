using System.Net.Sockets;
using Akka.Actor;
using Akka.Hosting;
using EqlActors.Actors;
using EqlActors.Host.Configuration;
using EqlActors.Host.Control;
using EqlActors.Host.Hosting;
using EqlActors.Messages;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace EqlActors.Host.Metrics;

/// <summary>
/// Serves <c>/metrics</c> on <c>metrics.listen</c> (off when it is null). Every scrape first asks the bundle for
/// its status (bounded): the meter's observable instruments read that one snapshot. A listener that cannot bind
/// is logged as an error and metrics stay off; the bundle runs regardless.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class MetricsService(
    IRequiredActor<BundleActor> bundleRef,
    DaemonState state,
    ILogger<MetricsService> log) : IHostedService
{
    /// <summary>How long a scrape waits for the bundle's status before it serves the previous one.</summary>
    public static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The .NET runtime's built-in meter (<c>dotnet.gc.*</c>, <c>dotnet.jit.*</c>, <c>dotnet.process.*</c>, ...).</summary>
    public const string RuntimeMeterName = "System.Runtime";

    private BundleMeter? _meter;
    private IDisposable? _adapter;
    private PrometheusEndpoint? _endpoint;
    /// <summary>Within one scrape every instrument reads the same status; a scrape takes far less than this.</summary>
    private static readonly TimeSpan SnapshotReuse = TimeSpan.FromMilliseconds(500);

    private readonly object _gate = new();
    private readonly System.Diagnostics.Stopwatch _fetched = new();
    private StatusView? _latest;
    private bool _answered;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (state.Config.Metrics.Listen is not { } listen) return;
        var error = ConfigValidator.MetricsListenError(listen, out var endpoint);
        if (error is not null || endpoint is null)
        {
            log.LogError("metrics.listen {Listen} is invalid: {Reason}; metrics are off", listen, error);
            return;
        }
        try
        {
            await Serve(listen, endpoint, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Metrics are for the operator; they must never take the bundle down with them.
            log.LogError(ex, "Metrics could not be started: {Reason}; metrics are off", ex.Message);
        }
    }

    private async Task Serve(string listen, System.Net.IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        var bundle = await bundleRef.GetAsync(cancellationToken);
        var configured = state.Config.EffectiveLinks.Length;
        var registry = Prometheus.Metrics.NewCustomRegistry();
        // The first instrument read of a scrape fetches the status; the others of the same scrape reuse it. (Not a
        // before-collect callback: prometheus-net keeps those in a ConcurrentBag, so their order is not defined.)
        StatusView? Snapshot()
        {
            lock (_gate)
            {
                if (_fetched.IsRunning && _fetched.Elapsed < SnapshotReuse) return _latest;
                try
                {
                    _latest = StatusView.From(bundle.Ask<BundleStatus>(new GetBundleStatus(), StatusTimeout).GetAwaiter().GetResult(), configured);
                    _answered = true;
                }
                catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
                {
                    _answered = false;
                }
                _fetched.Restart();
                return _latest;
            }
        }
        _meter = new BundleMeter("bundle", Snapshot, () => { Snapshot(); return _answered; });
        var meter = _meter.Meter;
        _adapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            // The runtime's own meter too (GC heap and committed bytes, allocations, JIT, threads): what an operator
            // needs to tell a leak from a heap still settling over months of faults.
            InstrumentFilterPredicate = i => ReferenceEquals(i.Meter, meter) || i.Meter.Name == RuntimeMeterName,
            Registry = registry,
            MetricFactory = Prometheus.Metrics.WithCustomRegistry(registry),
            // Every instrument is observable, so every series is refreshed by each scrape: none expires while scraped.
            MetricsExpireAfter = TimeSpan.FromDays(1),
        });
        _endpoint = new PrometheusEndpoint(endpoint, registry, log);
        try
        {
            _endpoint.Start();
            log.LogInformation("Metrics served at http://{Listen}/metrics", listen);
        }
        catch (SocketException ex)
        {
            log.LogError("Metrics listener on {Listen} failed: {Reason}; metrics are off", listen, ex.Message);
            _endpoint.Dispose();
            _endpoint = null;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _endpoint?.Dispose();
        _adapter?.Dispose();
        _meter?.Dispose();
        return Task.CompletedTask;
    }
}
