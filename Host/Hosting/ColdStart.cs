using System.Diagnostics;
using EqlActors.Actors;
using EqlActors.Configuration;
using EqlActors.Messages;
using EqlActors.Ports;

namespace EqlActors.Host.Hosting;

/// <summary>
/// The full state before the actor system exists: while the host and the actors are built (15-20 s in the qemu
/// guest), the prelaunched links come up; this enslaves each one to the master as its interface is up, brings the
/// master up, sets the routes and <c>net.ipv4.tcp_reordering</c>, through the same ports and the same passes as the
/// EQL and route actors (<see cref="EqlPass"/>, <see cref="RoutePass"/>). Not an actor: it runs before there is
/// an actor system, on its own task, and does nothing but those passes. It never releases a slave and never
/// removes a desired route. The actors take its state over as a restarted daemon's: their passes find it right and
/// change nothing (docs/architecture.md, "Start"). <see cref="HandOverAsync"/> ends it before the bundle starts;
/// a daemon stopped before that undoes it (<see cref="UndoAsync"/>).
/// </summary>
public sealed class ColdStart
{
    /// <summary>A missed interface event costs at most this much: the passes look again anyway.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>The bound of one pass, as an actor's effect on this host (a hung ioctl must not hold the hand-over).</summary>
    public static readonly TimeSpan PassTimeout = TimeSpan.FromSeconds(30);

    private readonly BundleConfig _config;
    private readonly PrelaunchedPpp _ppp;
    private readonly SystemPorts _ports;
    private readonly Serilog.ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Dictionary<int, string> _enslaved = [];
    private Task _run = Task.CompletedTask;
    private bool _touched;
    private string? _tcpReorderingBefore;

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly IReadOnlyList<int> _links;
    private readonly EqlMasterSpec _spec;
    private readonly IReadOnlyList<Route> _desiredRoutes;

    /// <summary>Made without its loop: the tests drive <see cref="PassAsync"/> themselves, in virtual time.</summary>
    internal ColdStart(BundleConfig config, PrelaunchedPpp ppp, SystemPorts ports, Serilog.ILogger log)
    {
        _config = config;
        _ppp = ppp;
        _ports = ports;
        _log = log;
        _links = ppp.PendingLinks();
        _spec = new EqlMasterSpec(config.Eql.Device, config.Eql.Address, config.Eql.Netmask, config.Eql.Mtu);
        _desiredRoutes = DesiredRoutes.For(config);
    }

    /// <summary>Starts watching the prelaunched links (none: it ends at once).</summary>
    public static ColdStart Begin(BundleConfig config, PrelaunchedPpp ppp, SystemPorts ports, Serilog.ILogger log)
    {
        var coldStart = new ColdStart(config, ppp, ports, log);
        if (coldStart._links.Count > 0) coldStart._run = Task.Run(coldStart.RunAsync);
        return coldStart;
    }

    /// <summary>Completes when it reached the full state of every prelaunched link, gave up, or was ended.</summary>
    public Task Completion => _run;

    /// <summary>The links it enslaved, by link.</summary>
    public IReadOnlyDictionary<int, string> Enslaved => _enslaved;

    /// <summary>Whether <see cref="HandOverAsync"/> was called: the actors own the state from then on.</summary>
    public bool HandedOver { get; private set; }

    /// <summary>
    /// Ends it before the bundle starts (a pass in flight finishes first, so the actors never run beside it) and
    /// returns the value <c>net.ipv4.tcp_reordering</c> had before it set it, for the route actor to put back at stop.
    /// </summary>
    public async Task<string?> HandOverAsync()
    {
        HandedOver = true;
        await EndAsync().ConfigureAwait(false);
        return _tcpReorderingBefore;
    }

    private async Task EndAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _run.ConfigureAwait(false);
    }

    /// <summary>
    /// The daemon stopped before the actors took over: ends it and takes back what it set, as the bundle's stop would
    /// (its routes and the sysctl, its slaves, the master).
    /// </summary>
    public async Task UndoAsync(CancellationToken ct)
    {
        await EndAsync().ConfigureAwait(false);
        if (!_touched) return;
        var before = _tcpReorderingBefore;
        var device = _config.Eql.Device;
        try
        {
            var removed = await RoutePass.RemoveAsync(_ports.Routes, _ports.Sysctl, _ports.SysctlOriginals, _desiredRoutes, before,
                _config.Routes.TcpReordering?.ToString(), ct).ConfigureAwait(false);
            foreach (var ifname in _enslaved.Values)
            {
                try
                {
                    await _ports.Eql.EmancipateAsync(device, ifname, ct).ConfigureAwait(false);
                }
                catch (PortException)
                {
                    // Gone with its link.
                }
            }
            await _ports.Eql.RemoveMasterAsync(device, ct).ConfigureAwait(false);
            _log.Information("Cold start undone: {Count} routes removed, links {Links} released, {Device} removed", removed,
                string.Join(",", _enslaved.Keys.Order()), device);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _log.Error("Undoing the cold start failed: {Reason}", ex.Message);
        }
    }

    private async Task RunAsync()
    {
        var ct = _stop.Token;
        using var subscription = _ports.Links.Subscribe(_ => _wake.Release());
        try
        {
            while (!ct.IsCancellationRequested)
            {
                // A pass is never cut short by the hand-over (it waits for it): only bounded, like an actor's effect.
                using (var bound = new CancellationTokenSource(PassTimeout))
                    if (await PassAsync(bound.Token).ConfigureAwait(false)) return;
                await _wake.WaitAsync(PollInterval, ct).ConfigureAwait(false);
                // One look answers every event that came meanwhile (each pppN brings several).
                while (_wake.Wait(0)) { }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Handed over: the actors go on from here.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Whatever failed is the actors' to retry and report, with their backoff; the cold start only gains time.
            _log.Warning("Cold start ended early, the actors take over: {Reason}", ex.Message);
        }
    }

    /// <summary>
    /// One look. The first pass comes before any link is up: the master up, the routes via it and the sysctl set
    /// while the chains still negotiate, so that this pass's first-time code and forks (<c>modprobe</c>, <c>ip</c>)
    /// are off the path from a link's IP up to its enslaving (in the guest the first pass took seconds). After that,
    /// a pass runs when a prelaunched link is up that is not enslaved yet: the EQL pass over the links that are up,
    /// then the route pass (which removes the new link's peer route). True once every prelaunched link is enslaved
    /// and every route is there, none shadowed.
    /// </summary>
    internal async Task<bool> PassAsync(CancellationToken ct = default)
    {
        var up = await UpLinksAsync(ct).ConfigureAwait(false);
        if (_touched && !up.Keys.Any(l => !_enslaved.ContainsKey(l))) return false;
        _touched = true;
        var started = _clock.ElapsedMilliseconds;
        var device = _spec.Device;
        // Believed: nothing. A slave it enslaved whose link went is the driver's to bury and the actors' to judge: the
        // cold start never releases.
        var eql = await EqlPass.RunAsync(_ports.Eql, _spec, up, new Dictionary<int, string>(), _config.Eql.PriorityOf, ct).ConfigureAwait(false);
        foreach (var (link, ifname) in eql.Enslaved) _enslaved[link] = ifname;
        var routes = await RoutePass.RunAsync(_ports.Routes, _ports.Sysctl, _ports.SysctlOriginals, _desiredRoutes, device, _config.Routes.TcpReordering?.ToString(), ct).ConfigureAwait(false);
        if (routes.SysctlWritten) _tcpReorderingBefore ??= routes.SysctlFound;
        _log.Information("Cold start: links {Links} enslaved to {Device}{Master}; routes {Added} added, {Unshadowed} removed as shadowing, {Missing} missing; {Key} {Value} (pass {From}-{To} ms after the prelaunch)",
            _enslaved.Count == 0 ? "none yet" : string.Join(",", _enslaved.Keys.Order()), device, eql.LostReason is null ? "" : " (brought up: " + eql.LostReason + ")",
            routes.Added.Count, routes.Unshadowed.Count, routes.Missing.Count, RoutePass.TcpReordering, routes.Sysctl, started, _clock.ElapsedMilliseconds);
        if (!_links.All(_enslaved.ContainsKey) || routes.Missing.Count > 0 || routes.Shadowing.Count > 0) return false;
        _log.Information("Cold start: full state before the actors, {Ms} ms after the prelaunch", _clock.ElapsedMilliseconds);
        return true;
    }

    /// <summary>The prelaunched links whose interface is up now, by link.</summary>
    private async Task<Dictionary<int, string>> UpLinksAsync(CancellationToken ct)
    {
        var up = new Dictionary<int, string>();
        foreach (var (link, ifname) in _ppp.PendingInterfaces())
        {
            try
            {
                var state = await _ports.Links.GetAsync(ifname, ct).ConfigureAwait(false);
                if (state.Exists && state.IsUp) up[link] = ifname;
            }
            catch (PortException)
            {
                // Not there (yet, or any more): the next wake looks again.
            }
        }
        return up;
    }
}
