using Akka.Actor;

namespace EqlActors.Host.Hosting;

/// <summary>
/// Waits until the actor system's loggers have written every event logged before the call. Actors log through the
/// event stream into the logger actors' mailboxes; when the actor system terminates, Akka stops those actors with a
/// system message, which overtakes the events still queued: the teardown's last lines ("Bundle ... stopped") were
/// lost now and then. An <see cref="Identify"/> queues behind them, so its answer means they were written.
/// </summary>
public static class LogBarrier
{
    /// <summary>Akka names its logger actors <c>log1-TypeName</c>, <c>log2-...</c> under <c>/system</c>.</summary>
    private const string Loggers = "/system/log*";

    /// <returns>false when no logger answered within <paramref name="timeout"/> (nothing more to wait for then).</returns>
    public static async Task<bool> PassAsync(ActorSystem system, TimeSpan timeout)
    {
        try
        {
            var identity = await system.ActorSelection(Loggers).Ask<ActorIdentity>(new Identify(null), timeout).ConfigureAwait(false);
            return identity.Subject is not null;
        }
        catch (AskTimeoutException)
        {
            return false;
        }
    }
}
