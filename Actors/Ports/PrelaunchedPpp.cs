using EqlActors.Configuration;

namespace EqlActors.Ports;

/// <summary>
/// The links' chains launched by the host before the actor system exists (in a slow guest that is 15-18 s of .NET
/// start-up, during which the chains' ssh key exchanges can already run), handed over to the link actors as their
/// own clean start. Until a link actor's first <see cref="StartAsync"/> for its link, the prelaunched chain's events
/// are buffered in order; that call returns the running process at once and replays them, later ones go straight
/// through. To the actors a prelaunched chain is a chain they started: <see cref="AdoptAsync"/> does not report it
/// (it is this daemon's start, not an earlier daemon's chain), and the clean start's
/// <see cref="EndConnectionAsync"/> spares its ssh master (the stale one was ended before the prelaunch). A link
/// whose prelaunch threw starts normally, with the prelaunch's generation on a clean start, so that every unit
/// waits for the same main slirp. Chains never taken over (a stop before the take-over) are ended by
/// <see cref="EndUnclaimedAsync"/>. A chain's buffer keeps at most <see cref="MaxBufferedLines"/> output lines
/// (the newest), its interface and its exit: what the link actor decides on.
/// </summary>
/// <param name="dropped">Told, at a take-over, how many of the link's lines were dropped (link, count); for the log.</param>
public sealed class PrelaunchedPpp(IPppProcesses inner, Action<int, int>? dropped = null) : IPppProcesses, IDisposable
{
    /// <summary>
    /// The output lines a chain's buffer keeps: as many as the link actor keeps to explain a failure
    /// (<see cref="Actors.FailureReasons.MaxLines"/>). Older lines are dropped and counted: a pppd that chatters (or
    /// retries) for the seconds before the take-over must not grow the daemon without bound.
    /// </summary>
    public const int MaxBufferedLines = Actors.FailureReasons.MaxLines;

    private readonly Lock _gate = new();
    private readonly Dictionary<int, Prelaunch> _pending = [];

    /// <summary>The generation every prelaunched chain was started with; null before <see cref="LaunchAsync"/>.</summary>
    public string? Generation { get; private set; }

    private sealed record Prelaunch(PppLaunch Launch, PppProcess? Process, BufferedEvents? Events, Exception? Error);

    /// <summary>What the prelaunch did for each link: started (with its process) or failed (with why).</summary>
    public sealed record Outcome(int Link, PppProcess? Process, Exception? Error);

    /// <summary>
    /// Starts every link's chain with one clean-start <paramref name="generation"/>, as the link actors would on a
    /// clean start: the link's stale ssh master first (a leftover of an earlier daemon belongs to no chain of this
    /// one), then its pppd; unit 0 first, whose chain starts the main slirp the others wait for. A link whose start
    /// throws is recorded and left to its link actor.
    /// </summary>
    public async Task<IReadOnlyList<Outcome>> LaunchAsync(BundleConfig config, IReadOnlyList<int> links, string generation, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (Generation is not null) throw new InvalidOperationException("the links were prelaunched already");
            Generation = generation;
        }
        var ended = links.ToDictionary(l => l, l => EndQuietly(new PppLaunch(l, config), ct));
        var outcomes = new List<Outcome>();
        foreach (var link in links.Order())
        {
            var launch = new PppLaunch(link, config, generation);
            var buffer = new BufferedEvents();
            Prelaunch entry;
            try
            {
                if (await ended[link].ConfigureAwait(false) is { } endFailed) throw endFailed;
                var process = await inner.StartAsync(launch, buffer, ct).ConfigureAwait(false);
                entry = new Prelaunch(launch, process, buffer, null);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                entry = new Prelaunch(launch, null, null, ex);
            }
            lock (_gate) _pending[link] = entry;
            outcomes.Add(new Outcome(link, entry.Process, entry.Error));
        }
        return outcomes;
    }

    private async Task<Exception?> EndQuietly(PppLaunch launch, CancellationToken ct)
    {
        try
        {
            await inner.EndConnectionAsync(launch, ct).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return ex;
        }
    }

    /// <summary>
    /// The interface each prelaunched chain that no link actor took over yet reported (pppd's "Using interface"), by
    /// link: what the host's cold start watches to enslave them before the actors exist.
    /// </summary>
    public IReadOnlyDictionary<int, string> PendingInterfaces()
    {
        lock (_gate)
            return _pending.Where(p => p.Value.Events?.Interface is not null).ToDictionary(p => p.Key, p => p.Value.Events!.Interface!);
    }

    /// <summary>The links with a prelaunched chain that no link actor took over yet.</summary>
    public IReadOnlyList<int> PendingLinks()
    {
        lock (_gate) return [.. _pending.Where(p => p.Value.Process is not null).Select(p => p.Key).Order()];
    }

    /// <summary>Whether the link has a prelaunched chain that no link actor took over yet.</summary>
    public bool IsPending(int link)
    {
        lock (_gate) return _pending.TryGetValue(link, out var p) && p.Process is not null;
    }

    public Task<PppProcess> StartAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default)
    {
        Prelaunch? entry;
        lock (_gate) _pending.Remove(launch.Link, out entry);
        if (entry is { Process: { } process, Events: { } buffer })
        {
            // Replayed before the call completes: the actor has them (stashed) before it learns the process.
            var ifname = buffer.Attach(events);
            if (buffer.Dropped > 0) dropped?.Invoke(launch.Link, buffer.Dropped);
            return Task.FromResult(process with { Interface = ifname ?? process.Interface });
        }
        // The prelaunch of this link threw: the first clean start joins the prelaunched units' generation.
        if (entry is not null && launch.Generation is not null) launch = launch with { Generation = entry.Launch.Generation };
        return inner.StartAsync(launch, events, ct);
    }

    public Task<PppProcess?> AdoptAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default) =>
        // Its pidfile would make the inner adapter adopt it and take its events away from the buffer.
        IsPending(launch.Link) ? Task.FromResult<PppProcess?>(null) : inner.AdoptAsync(launch, events, ct);

    public Task StopAsync(PppProcess process, TimeSpan grace, CancellationToken ct = default) => inner.StopAsync(process, grace, ct);

    public Task EndConnectionAsync(PppLaunch launch, CancellationToken ct = default) =>
        // The clean start's end of a stale master: done before the prelaunch, and the master now is the prelaunched chain's.
        IsPending(launch.Link) ? Task.CompletedTask : inner.EndConnectionAsync(launch, ct);

    public Task<bool> ConnectionAnswersAsync(PppLaunch launch, TimeSpan timeout, CancellationToken ct = default) =>
        inner.ConnectionAnswersAsync(launch, timeout, ct);

    /// <summary>
    /// Ends every prelaunched chain that no link actor took over (the daemon stopped first), with its ssh master;
    /// returns their links. Their buffered events go nowhere.
    /// </summary>
    public async Task<IReadOnlyList<int>> EndUnclaimedAsync(TimeSpan grace, CancellationToken ct = default)
    {
        List<Prelaunch> unclaimed;
        lock (_gate)
        {
            unclaimed = [.. _pending.Values.Where(p => p.Process is not null)];
            _pending.Clear();
        }
        await Task.WhenAll(unclaimed.Select(async p =>
        {
            await inner.StopAsync(p.Process!, grace, ct).ConfigureAwait(false);
            await inner.EndConnectionAsync(p.Launch, ct).ConfigureAwait(false);
        })).ConfigureAwait(false);
        return [.. unclaimed.Select(p => p.Launch.Link).Order()];
    }

    public void Dispose() => (inner as IDisposable)?.Dispose();

    /// <summary>
    /// A chain's events until its link actor takes it over, in the order they came (from any thread), then
    /// forwarded. Replay and forwarding happen under the lock, so a live event never overtakes a buffered one. Of the
    /// output lines only the newest <paramref name="maxLines"/> wait (the oldest go, counted in <see cref="Dropped"/>);
    /// the interface and the exit always do.
    /// </summary>
    public sealed class BufferedEvents(int maxLines = MaxBufferedLines) : IPppEvents
    {
        private readonly Lock _lock = new();
        private readonly List<(bool Line, Action<IPppEvents> Event)> _buffer = [];
        private IPppEvents? _target;
        private string? _interface;
        private int _lines;
        private int _dropped;

        /// <summary>How many output lines were dropped before the take-over.</summary>
        public int Dropped
        {
            get { lock (_lock) return _dropped; }
        }

        /// <summary>The interface pppd reported so far; null before its "Using interface" line.</summary>
        public string? Interface
        {
            get { lock (_lock) return _interface; }
        }

        /// <summary>How many events wait for a taker.</summary>
        public int Buffered
        {
            get { lock (_lock) return _buffer.Count; }
        }

        /// <summary>Replays what was buffered into <paramref name="target"/> and forwards what follows; returns the interface reported so far.</summary>
        public string? Attach(IPppEvents target)
        {
            lock (_lock)
            {
                if (_target is not null) throw new InvalidOperationException("the prelaunched chain was taken over already");
                foreach (var (_, e) in _buffer) e(target);
                _buffer.Clear();
                _lines = 0;
                _target = target;
                return _interface;
            }
        }

        public void Exited(PppExit exit) => Deliver(false, e => e.Exited(exit));

        public void InterfaceAssigned(int link, int pid, string ifname)
        {
            lock (_lock) _interface = ifname;
            Deliver(false, e => e.InterfaceAssigned(link, pid, ifname));
        }

        public void Output(int link, int pid, string line) => Deliver(true, e => e.Output(link, pid, line));

        private void Deliver(bool line, Action<IPppEvents> e)
        {
            lock (_lock)
            {
                if (_target is not null)
                {
                    e(_target);
                    return;
                }
                _buffer.Add((line, e));
                if (!line || ++_lines <= maxLines) return;
                // The oldest line goes; the events around it keep their order.
                _buffer.RemoveAt(_buffer.FindIndex(b => b.Line));
                _lines--;
                _dropped++;
            }
        }
    }
}
