using Akka.Actor;
using EqlActors.Host.Linux;
using EqlActors.Messages;
using Microsoft.Extensions.Logging;

namespace EqlActors.Host.Hosting;

/// <summary>
/// Keeps the daemon at rest as it was before any fault: once the bundle is first ready it loads what a recovery
/// needs (<see cref="RecoveryWarmUp"/>), and after every recovery it gives memory back to the system. A recovery is
/// a burst (processes, an ssh diagnosis session, crypto, logging) between long idle stretches, and the runtime
/// keeps what the burst used: native memory owned by finalizable objects (SSH.NET's keys, hashes and ciphers over
/// OpenSSL) is released only when the GC finalizes them, which with a heap this small can take hundreds of faults,
/// and glibc keeps freed pages of its per-thread arenas. So, <see cref="SettleDelay"/> after a recovery (at most
/// once per <see cref="MinInterval"/>; a recovery that comes sooner is owed a trim, deferred, never dropped): a full
/// compacting collection that decommits what it can, the pending finalizers, another collection for what they
/// freed, then glibc's <c>malloc_trim(0)</c> (<see cref="ProcessMemory"/>, the OS side). The warm-up and the trims
/// run on a thread-pool thread, never on the actor's. Measured in the soak: docs/benchmarks.md, "Memory over faults".
/// </summary>
internal sealed class MemoryTrimmer : ReceiveActor, IWithTimers
{
    public ITimerScheduler Timers { get; set; } = null!;

    // the scheduler's clock, as every actor here: virtual under a test scheduler
    private DateTimeOffset Now => Context.System.Scheduler.Now;

    public static readonly TimeSpan SettleDelay = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(30);

    /// <summary>The line the first trim logs, after the warm-up: the daemon at rest (the soak samples from here).</summary>
    public const string AtRestLine = "At rest after the first ready";

    private sealed record TrimNow;
    private sealed record Done(Trimmed Trimmed, double? WarmUpMilliseconds, int WarmedTypes);

    private readonly ILogger _log;
    private readonly Func<Trimmed> _trim;
    private Func<int>? _warmUp; // once: cleared when the first trim starts
    private readonly TrimSchedule _schedule = new(SettleDelay, MinInterval);

    /// <param name="trim">the trim itself, blocking (run off the actor's thread): <see cref="ProcessMemory.Trim"/></param>
    /// <param name="warmUp">run once before the first trim, blocking, off the actor's thread; returns how many types it loaded</param>
    public MemoryTrimmer(ILogger log, Func<Trimmed> trim, Func<int>? warmUp = null)
    {
        _log = log;
        _trim = trim;
        _warmUp = warmUp;
        Receive<IBundleEvent>(e =>
        {
            if (IsRecovery(e)) Plan(_schedule.Recovered(Now));
        });
        Receive<TrimNow>(_ =>
        {
            _schedule.Started(Now);
            var warmUp = _warmUp;
            Task.Run(() =>
            {
                double? ms = null;
                var types = 0;
                if (warmUp is not null)
                {
                    var started = System.Diagnostics.Stopwatch.StartNew();
                    types = warmUp();
                    ms = started.Elapsed.TotalMilliseconds;
                }
                return new Done(_trim(), ms, types);
            }).PipeTo(Self);
            _warmUp = null;
        });
        Receive<Done>(d =>
        {
            var t = d.Trimmed;
            if (d.WarmUpMilliseconds is { } warmMs)
                _log.LogInformation(AtRestLine + ": recovery code loaded ({Types} types) in {WarmUpMilliseconds:0} ms, memory trimmed in {Milliseconds:0} ms: anonymous {AnonBefore} -> {AnonAfter} KiB, GC committed {GcCommitted} KiB",
                    d.WarmedTypes, warmMs, t.Milliseconds, t.AnonBeforeKiB, t.AnonAfterKiB, t.GcCommittedKiB);
            else
                _log.LogDebug("Memory trimmed after a recovery in {Milliseconds:0} ms: anonymous {AnonBefore} -> {AnonAfter} KiB, GC committed {GcCommitted} KiB",
                    t.Milliseconds, t.AnonBeforeKiB, t.AnonAfterKiB, t.GcCommittedKiB);
            Plan(_schedule.Finished());
        });
        Receive<Status.Failure>(f =>
        {
            _log.LogWarning("Memory trim failed: {Reason}", f.Cause.Message);
            Plan(_schedule.Finished());
        });
    }

    /// <summary>
    /// The events after which the daemon has made a recovery (or its first start), from the one event table: the
    /// bundle ready (again), a link back up, and what the reconcile put back while the bundle stayed ready (a route
    /// or the master restored, a slave enslaved again); a route repaired within one reconcile pass never makes the
    /// bundle degraded, so <see cref="BundleReady"/> alone misses it. Also the end of the ssh sessions a start or a
    /// recovery runs off its critical path (host_B probed, a link's failure diagnosed): in a slow guest they ended
    /// after the trim that followed the ready, and their memory stayed until the next fault.
    /// </summary>
    public static bool IsRecovery(IBundleEvent e) => e switch
    {
        BundleReady or LinkUp or SlaveEnslaved or RemotePrepared or LinkDiagnosed => true,
        RouteAdded r => r.Restored,
        EqlMasterUp m => m.Restored,
        _ => false,
    };

    private void Plan(DateTimeOffset? at)
    {
        if (at is not { } when) return;
        var wait = when - Now;
        Timers.StartSingleTimer("trim", new TrimNow(), wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(IBundleEvent));
    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}

/// <summary>
/// When <see cref="MemoryTrimmer"/> trims: <c>settle</c> after the latest recovery, no sooner than
/// <c>minInterval</c> after the previous trim began. Recoveries in a row (a link up, enslaved, the bundle ready)
/// move the planned trim to <c>settle</c> after the last of them, but never more than <c>minInterval</c> past the
/// first (a flapping link must not starve it); a recovery during a trim, or one the planned trim could no longer
/// wait for, is owed another trim afterwards: deferred, never dropped.
/// </summary>
internal sealed class TrimSchedule(TimeSpan settle, TimeSpan minInterval)
{
    private DateTimeOffset? _lastStart;
    private DateTimeOffset? _latestRecovery;
    private DateTimeOffset? _plannedAt;
    private DateTimeOffset _firstWaiting;
    private bool _running;

    /// <summary>A recovery at <paramref name="now"/>: when to trim, if the trim timer is to be (re)started.</summary>
    public DateTimeOffset? Recovered(DateTimeOffset now)
    {
        if (_latestRecovery is not { } seen || now > seen) _latestRecovery = now;
        if (_plannedAt is not { } planned) return Plan();
        var settled = now + settle;
        if (settled <= planned || settled > _firstWaiting + minInterval) return null;
        _plannedAt = settled;
        return settled;
    }

    /// <summary>The planned trim begins.</summary>
    public void Started(DateTimeOffset now)
    {
        _plannedAt = null;
        _running = true;
        _lastStart = now;
    }

    /// <summary>The trim ended (or failed): when the next one is owed, if any.</summary>
    public DateTimeOffset? Finished()
    {
        _running = false;
        return Plan();
    }

    private DateTimeOffset? Plan()
    {
        if (_plannedAt is not null || _running || _latestRecovery is not { } latest) return null;
        var settled = latest + settle;
        if (_lastStart is { } last && settled <= last) return null; // the last trim began after this recovery had settled
        _firstWaiting = latest;
        _plannedAt = _lastStart is { } previous && previous + minInterval > settled ? previous + minInterval : settled;
        return _plannedAt;
    }
}
