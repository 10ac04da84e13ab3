using Akka.Actor;

namespace EqlActors.Actors;

/// <summary>
/// Base of every actor that acts on the world through a port. <see cref="RunPort{T}"/> runs one effect at a time:
/// until it completes, other messages wait in the stash, so an actor never sees its own state change under an
/// await and works the same whether the port answers at once (the simulation) or later (Linux). No ReceiveAsync:
/// its continuations may leave the actor's dispatcher, which would break the simulation's virtual time.
/// </summary>
public abstract class PortActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    private sealed record PortCompleted(long Id, object? Result, Exception? Error);

    // Process-wide, not per instance: a restarted actor must not take its old instance's late result for its own.
    private static long _lastEffect;

    public IStash Stash { get; set; } = null!;
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The scheduler's clock: virtual under the simulation.</summary>
    protected DateTimeOffset Now => Context.System.Scheduler.Now;

    protected void RunPort<T>(Func<Task<T>> effect, Action<T> completed, Action<Exception> failed)
    {
        var id = Interlocked.Increment(ref _lastEffect);
        Task<T> task;
        try
        {
            task = effect();
        }
        catch (Exception ex)
        {
            task = Task.FromException<T>(ex);
        }
        BecomeStacked(() =>
        {
            Receive<PortCompleted>(c => c.Id == id, c =>
            {
                UnbecomeStacked();
                Stash.UnstashAll();
                if (c.Error is null) completed((T)c.Result!);
                else failed(c.Error);
            });
            ReceiveAny(_ => Stash.Stash());
        });
        // Not back through the caller's SynchronizationContext (a test runner's, say): the result is a message anyway,
        // and under the simulation it must be told on the thread that completed the effect, inside virtual time.
        _ = task.PipeTo(Self, useConfigureAwait: false, success: r => new PortCompleted(id, r, null), failure: ex => new PortCompleted(id, null, Flatten(ex)));
    }

    protected void RunPort(Func<Task> effect, Action completed, Action<Exception> failed) =>
        RunPort(async () =>
        {
            await effect().ConfigureAwait(false);
            return true;
        }, _ => completed(), failed);

    private static Exception Flatten(Exception ex) => ex is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : ex;
}
