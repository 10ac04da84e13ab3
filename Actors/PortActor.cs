using Akka.Actor;
using Akka.Event;

namespace EqlActors.Actors;

/// <summary>
/// Base of every actor that acts on the world through a port. <see cref="RunPort{T}(Func{CancellationToken, Task{T}}, Action{T}, Action{Exception}, TimeSpan?)"/>
/// runs one effect at a time: until it completes, other messages wait in the stash, so an actor never sees its own
/// state change under an await and works the same whether the port answers at once (the simulation) or later
/// (Linux). Every effect has a timeout (virtual under the simulation) and a cancellation token that the timeout
/// cancels: a hung call costs its timeout, never the actor. Messages marked <see cref="ICoalesced"/> (reconcile
/// ticks) are stashed once per kind however many arrive meanwhile. No ReceiveAsync: its continuations may leave
/// the actor's dispatcher, which would break the simulation's virtual time.
/// <see cref="RunRead{T}"/> is the exception for a read whose answer is only a hint (the link actor's look at its
/// interface): the actor goes on handling its messages meanwhile, and the answer comes back between two of them.
/// </summary>
public abstract class PortActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    /// <summary>
    /// A message where one waiting is as good as many: a periodic "look again". One already queued when the actor ends
    /// has nothing left to look at: not a dead letter (after daemon-restart each stopped link actor logged its tick).
    /// </summary>
    protected interface ICoalesced : IDeadLetterSuppression;

    // A read cancelled by the actor's end still completes, and is told to it then: expected, not a dead letter.
    private sealed record PortCompleted(long Id, object? Result, Exception? Error) : IDeadLetterSuppression;
    private sealed record PortTimedOut(long Id) : IDeadLetterSuppression;
    private sealed record ReadCompleted(long Id, object? Result, Exception? Error) : IDeadLetterSuppression;
    private sealed record ReadTimedOut(long Id) : IDeadLetterSuppression;

    private sealed record PendingRead(Action<object?> Completed, Action<Exception> Failed, CancellationTokenSource Cancel, ICancelable Timeout);

    /// <summary>For a call that answers from this host (netlink, ioctl, /proc, a process start).</summary>
    protected static readonly TimeSpan DefaultEffectTimeout = TimeSpan.FromSeconds(30);

    // Process-wide, not per instance: a restarted actor must not take its old instance's late result for its own.
    private static long _lastEffect;

    private readonly Dictionary<long, PendingRead> _reads = [];
    // An effect of RunPort is in flight: a read's answer waits in the stash like any other message.
    private bool _inEffect;

    public IStash Stash { get; set; } = null!;
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The scheduler's clock: virtual under the simulation.</summary>
    protected DateTimeOffset Now => Context.System.Scheduler.Now;

    protected void RunPort<T>(Func<CancellationToken, Task<T>> effect, Action<T> completed, Action<Exception> failed, TimeSpan? timeout = null)
    {
        var (id, limit, cancel, task) = Call(effect, timeout);
        var waiting = new HashSet<Type>();
        Timers.StartSingleTimer("port-timeout", new PortTimedOut(id), limit);
        _inEffect = true;
        BecomeStacked(() =>
        {
            Receive<PortCompleted>(c => c.Id == id, c =>
            {
                Timers.Cancel("port-timeout");
                cancel.Dispose();
                Resume();
                if (c.Error is null) completed((T)c.Result!);
                else failed(c.Error);
            });
            Receive<PortTimedOut>(t => t.Id == id, _ =>
            {
                // Not disposed: the call may still be registering on the token.
                cancel.Cancel();
                Resume();
                failed(new TimeoutException($"the port call did not finish within {limit.TotalSeconds:0} s"));
            });
            Receive<ICoalesced>(m =>
            {
                if (waiting.Add(m.GetType())) Stash.Stash();
            });
            ReceiveAny(_ => Stash.Stash());
        });
        // Not back through the caller's SynchronizationContext (a test runner's, say): the result is a message anyway,
        // and under the simulation it must be told on the thread that completed the effect, inside virtual time.
        _ = task.PipeTo(Self, useConfigureAwait: false, success: r => new PortCompleted(id, r, null), failure: ex => new PortCompleted(id, null, Flatten(ex)));
    }

    protected void RunPort<T>(Func<Task<T>> effect, Action<T> completed, Action<Exception> failed, TimeSpan? timeout = null) =>
        RunPort(_ => effect(), completed, failed, timeout);

    protected void RunPort(Func<CancellationToken, Task> effect, Action completed, Action<Exception> failed, TimeSpan? timeout = null) =>
        RunPort(async ct =>
        {
            await effect(ct).ConfigureAwait(false);
            return true;
        }, _ => completed(), failed, timeout);

    protected void RunPort(Func<Task> effect, Action completed, Action<Exception> failed, TimeSpan? timeout = null) =>
        RunPort(_ => effect(), completed, failed, timeout);

    /// <summary>Starts a port call under a new id and its own token; a call that throws before its task is a failed task.</summary>
    private static (long Id, TimeSpan Limit, CancellationTokenSource Cancel, Task<T> Task) Call<T>(Func<CancellationToken, Task<T>> call, TimeSpan? timeout)
    {
        var cancel = new CancellationTokenSource();
        Task<T> task;
        try
        {
            task = call(cancel.Token);
        }
        catch (Exception ex)
        {
            task = Task.FromException<T>(ex);
        }
        return (Interlocked.Increment(ref _lastEffect), timeout ?? DefaultEffectTimeout, cancel, task);
    }

    private void Resume()
    {
        _inEffect = false;
        UnbecomeStacked();
        Stash.UnstashAll();
    }

    /// <summary>
    /// A read that does not hold the actor's other messages back: they are handled while it is in flight, and its
    /// answer (or its timeout) comes back as a message of its own, between two others, never during a
    /// <see cref="RunPort{T}(Func{CancellationToken, Task{T}}, Action{T}, Action{Exception}, TimeSpan?)"/> effect.
    /// So the answer may be older than what the actor learned meanwhile: only for a read that is judged against the
    /// actor's state when it comes back (an interface look that an event asked for), never for an effect.
    /// </summary>
    protected void RunRead<T>(Func<CancellationToken, Task<T>> read, Action<T> completed, Action<Exception> failed, TimeSpan? timeout = null)
    {
        var (id, limit, cancel, task) = Call(read, timeout);
        // A plain scheduled message, not an Akka timer: timers reach the actor wrapped, past AroundReceive.
        var timer = Context.System.Scheduler.ScheduleTellOnceCancelable(limit, Self, new ReadTimedOut(id), Self);
        _reads[id] = new PendingRead(r => completed((T)r!), failed, cancel, timer);
        _ = task.PipeTo(Self, useConfigureAwait: false, success: r => new ReadCompleted(id, r, null), failure: ex => new ReadCompleted(id, null, Flatten(ex)));
    }

    /// <summary>A read's answer in any state of the actor, except while an effect is in flight (then it waits in the stash).</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        if (_inEffect || message is not (ReadCompleted or ReadTimedOut)) return base.AroundReceive(receive, message);
        switch (message)
        {
            case ReadCompleted c when _reads.Remove(c.Id, out var read):
                read.Timeout.Cancel();
                read.Cancel.Dispose();
                if (c.Error is null) read.Completed(c.Result);
                else read.Failed(c.Error);
                break;
            case ReadTimedOut t when _reads.Remove(t.Id, out var read):
                // Not disposed: the call may still be registering on the token.
                read.Cancel.Cancel();
                read.Failed(new TimeoutException("the port call did not finish within its time limit"));
                break;
        }
        return true;
    }

    /// <summary>Reads still in flight end with the actor: their calls are cancelled, their timeouts never sent.</summary>
    public override void AroundPostStop()
    {
        foreach (var read in _reads.Values)
        {
            read.Timeout.Cancel();
            read.Cancel.Cancel();
        }
        _reads.Clear();
        base.AroundPostStop();
    }

    /// <summary>A result or timeout of an effect that already ended the other way arrives late: nothing to do.</summary>
    protected override void Unhandled(object message)
    {
        if (message is PortCompleted or PortTimedOut or ReadCompleted or ReadTimedOut) return;
        base.Unhandled(message);
    }

    private static Exception Flatten(Exception ex) => ex is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : ex;
}
