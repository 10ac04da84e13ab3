using Akka.Actor;
using EqlActors.Host.Linux;
using EqlActors.Messages;
using Microsoft.Extensions.Logging;

namespace EqlActors.Host.Hosting;

/// <summary>
/// Gives memory back to the system once the bundle is ready again after a start or a recovery. A recovery is a
/// burst (processes, an ssh diagnosis session, crypto, logging) between long idle stretches, and the runtime keeps
/// what the burst used: native memory owned by finalizable objects (SSH.NET's keys, hashes and ciphers over
/// OpenSSL) is released only when the GC finalizes them, which with a heap this small can take hundreds of faults,
/// and glibc keeps freed pages of its per-thread arenas. So, <see cref="SettleDelay"/> after <c>BundleReady</c> (at
/// most once per <see cref="MinInterval"/>): a full compacting collection that decommits what it can, the pending
/// finalizers, another collection for what they freed, then glibc's <c>malloc_trim(0)</c> (<see cref="ProcessMemory"/>,
/// the OS side). The trim runs on a thread-pool thread, never on the actor's. Measured in the soak: docs/benchmarks.md, "Memory over faults".
/// </summary>
internal sealed class MemoryTrimmer : ReceiveActor, IWithTimers
{
    public ITimerScheduler Timers { get; set; } = null!;

    // the scheduler's clock, as every actor here: virtual under a test scheduler
    private DateTimeOffset Now => Context.System.Scheduler.Now;

    public static readonly TimeSpan SettleDelay = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(30);

    private sealed record TrimNow;

    private readonly ILogger _log;
    private readonly Func<Trimmed> _trim;
    private DateTimeOffset _last = DateTimeOffset.MinValue;
    private bool _scheduled;

    /// <param name="trim">the trim itself, blocking (run off the actor's thread): <see cref="ProcessMemory.Trim"/></param>
    public MemoryTrimmer(ILogger log, Func<Trimmed> trim)
    {
        _log = log;
        _trim = trim;
        Receive<BundleReady>(_ =>
        {
            if (_scheduled) return;
            _scheduled = true;
            var wait = _last + MinInterval - Now;
            Timers.StartSingleTimer("trim", new TrimNow(), wait > SettleDelay ? wait : SettleDelay);
        });
        Receive<TrimNow>(_ =>
        {
            _last = Now;
            Task.Run(_trim).PipeTo(Self);
        });
        Receive<Trimmed>(t =>
        {
            _scheduled = false;
            _log.LogDebug("Memory trimmed after ready in {Milliseconds:0} ms: anonymous {AnonBefore} -> {AnonAfter} KiB, GC committed {GcCommitted} KiB",
                t.Milliseconds, t.AnonBeforeKiB, t.AnonAfterKiB, t.GcCommittedKiB);
        });
        Receive<Status.Failure>(f =>
        {
            _scheduled = false;
            _log.LogWarning("Memory trim failed: {Reason}", f.Cause.Message);
        });
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(BundleReady));
    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}
