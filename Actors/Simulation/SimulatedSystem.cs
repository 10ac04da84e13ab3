using Akka.Actor;
using EqlActors.Configuration;
using EqlActors.Ports;

namespace EqlActors.Simulation;

/// <summary>
/// An in-memory host_A kernel (interfaces, eql, routes, sysctl, pppd chains) and host_B (one multi-unit slirp),
/// implementing every port. Time is the actor system's scheduler, so under <c>TestScheduler</c> everything runs
/// in virtual time; every random choice comes from one <see cref="Random"/> seeded by the options.
/// Callbacks to subscribers are delivered on the next scheduler tick, never from inside a port call, the way a
/// kernel's notifications arrive after the syscall returned.
/// </summary>
public sealed partial class SimulatedSystem
{
    private readonly object _gate = new();
    private readonly IScheduler _scheduler;
    private readonly BundleConfig _config;
    private readonly SimulationOptions _options;
    private readonly Random _random;
    private readonly List<Action> _outbox = [];
    private bool _flushScheduled;
    private int _nextPid = 1000;
    private int _hangingReads;

    public SimulatedSystem(IScheduler scheduler, BundleConfig config, SimulationOptions? options = null)
    {
        _scheduler = scheduler;
        _config = config;
        _options = options ?? new SimulationOptions();
        _random = new Random(_options.Seed);
        InitKernel();
        InitRemote();
        _scheduler.Advanced.ScheduleRepeatedly(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), () => Locked(EqlTimerTick));
        _scheduler.Advanced.ScheduleRepeatedly(_options.TrafficTick, _options.TrafficTick, () => Locked(TrafficTick));
    }

    public BundleConfig Config => _config;
    public SimulationOptions Options => _options;
    public DateTimeOffset Now => _scheduler.Now;

    /// <summary>The ports, all backed by this one world.</summary>
    public SystemPorts Ports => new(new PppPort(this), new LinksPort(this), new EqlPort(this), new RoutesPort(this), new SysctlPort(this), new RemotePort(this)) { Probe = new ProbePort(this), SysctlOriginals = new SysctlOriginalsPort(this) };

    private int NextPid() => _nextPid++;

    private TimeSpan Between(TimeSpan min, TimeSpan max) => min + TimeSpan.FromTicks((long)((max - min).Ticks * _random.NextDouble()));

    private void Locked(Action action)
    {
        lock (_gate) action();
        Flush();
    }

    private void After(TimeSpan delay, Action action) => _scheduler.Advanced.ScheduleOnce(delay, () => Locked(action));

    /// <summary>Queues a callback to the outside world; delivered on the next tick, outside the lock.</summary>
    private void Deliver(Action callback)
    {
        _outbox.Add(callback);
        if (_flushScheduled) return;
        _flushScheduled = true;
        _scheduler.Advanced.ScheduleOnce(TimeSpan.Zero, Flush);
    }

    private void Flush()
    {
        List<Action> pending;
        lock (_gate)
        {
            if (_outbox.Count == 0) { _flushScheduled = false; return; }
            pending = [.. _outbox];
            _outbox.Clear();
            _flushScheduled = false;
        }
        // Without the caller's SynchronizationContext (a test runner's): .NET runs a completed port task's
        // continuations inline only where there is none, and they must run here, in virtual time, not on the pool.
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            foreach (var callback in pending) callback();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }

    private static Task Done(Action action, object gate)
    {
        try
        {
            lock (gate) action();
            return Task.CompletedTask;
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }

    private static Task<T> Done<T>(Func<T> func, object gate)
    {
        try
        {
            lock (gate) return Task.FromResult(func());
        }
        catch (Exception ex)
        {
            return Task.FromException<T>(ex);
        }
    }
}
