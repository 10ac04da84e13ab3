using Akka.Actor;

namespace EqlActors.Actors;

/// <summary>
/// Base of every actor that acts on the world through a port. <see cref="RunPort{T}(Func{CancellationToken, Task{T}}, Action{T}, Action{Exception}, TimeSpan?)"/>
/// runs one effect at a time: until it completes, other messages wait in the stash, so an actor never sees its own
/// state change under an await and works the same whether the port answers at once (the simulation) or later
/// (Linux). Every effect has a timeout (virtual under the simulation) and a cancellation token that the timeout
/// cancels: a hung call costs its timeout, never the actor. Messages marked <see cref="ICoalesced"/> (reconcile
/// ticks) are stashed once per kind however many arrive meanwhile. No ReceiveAsync: its continuations may leave
/// the actor's dispatcher, which would break the simulation's virtual time.
/// </summary>
public abstract class PortActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    /// <summary>A message where one waiting is as good as many: a periodic "look again".</summary>
    protected interface ICoalesced;

    private sealed record PortCompleted(long Id, object? Result, Exception? Error);
    private sealed record PortTimedOut(long Id);

    /// <summary>For a call that answers from this host (netlink, ioctl, /proc, a process start).</summary>
    protected static readonly TimeSpan DefaultEffectTimeout = TimeSpan.FromSeconds(30);

    // Process-wide, not per instance: a restarted actor must not take its old instance's late result for its own.
    private static long _lastEffect;

    public IStash Stash { get; set; } = null!;
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The scheduler's clock: virtual under the simulation.</summary>
    protected DateTimeOffset Now => Context.System.Scheduler.Now;

    protected void RunPort<T>(Func<CancellationToken, Task<T>> effect, Action<T> completed, Action<Exception> failed, TimeSpan? timeout = null)
    {
        var id = Interlocked.Increment(ref _lastEffect);
        var limit = timeout ?? DefaultEffectTimeout;
        var cancel = new CancellationTokenSource();
        Task<T> task;
        try
        {
            task = effect(cancel.Token);
        }
        catch (Exception ex)
        {
            task = Task.FromException<T>(ex);
        }
        var waiting = new HashSet<Type>();
        Timers.StartSingleTimer("port-timeout", new PortTimedOut(id), limit);
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

    private void Resume()
    {
        UnbecomeStacked();
        Stash.UnstashAll();
    }

    /// <summary>A result or timeout of an effect that already ended the other way arrives late: nothing to do.</summary>
    protected override void Unhandled(object message)
    {
        if (message is PortCompleted or PortTimedOut) return;
        base.Unhandled(message);
    }

    private static Exception Flatten(Exception ex) => ex is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : ex;
}
