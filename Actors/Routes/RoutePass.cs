using EqlActors.Messages;
using EqlActors.Ports;

namespace EqlActors.Actors;

/// <summary>
/// One look at the routing table and <c>net.ipv4.tcp_reordering</c>: remove the links' routes that shadow a desired
/// one (<see cref="DesiredRoutes.Shadowing"/>), add the desired routes that are missing, set the sysctl if it differs.
/// The one place that decides this: the <see cref="RouteActor"/>'s reconcile runs it, and so does the host's cold
/// start before the actor system exists. Idempotent: over a table that is already right it changes nothing.
/// </summary>
public static class RoutePass
{
    public const string TcpReordering = "net.ipv4.tcp_reordering";

    /// <param name="Sysctl">The sysctl's value after the pass (null: not managed, or unreadable).</param>
    /// <param name="SysctlFound">Its value before the pass.</param>
    public sealed record Result(IReadOnlyList<Route> Present, IReadOnlyList<Route> Missing, IReadOnlyList<Route> Added,
        IReadOnlyList<Route> Unshadowed, IReadOnlyList<Route> Shadowing, string? Sysctl, string? SysctlFound, bool SysctlWritten);

    /// <param name="wanted">The value for <see cref="TcpReordering"/>; null leaves it alone.</param>
    /// <param name="originals">Where the value found before the first write is kept, before that write: a daemon killed after
    /// it and replaced still puts it back at stop.</param>
    public static async Task<Result> RunAsync(IRoutes routes, ISysctl sysctl, ISysctlOriginals originals, IReadOnlyList<Route> desired, string device,
        string? wanted, CancellationToken ct = default)
    {
        var table = await routes.ListAsync(ct);
        var unshadowed = new List<Route>();
        var shadowing = new List<Route>();
        foreach (var route in DesiredRoutes.Shadowing(table, desired, device))
        {
            try
            {
                await routes.DeleteAsync(route, ct);
                unshadowed.Add(route);
            }
            catch (PortException)
            {
                // Gone meanwhile (the link went down), or refused: the next pass looks again; until then the
                // bundle does not call itself ready (traffic for the route would bypass the master).
                shadowing.Add(route);
            }
        }
        var added = new List<Route>();
        foreach (var route in desired.Where(r => !table.Contains(r)))
        {
            try
            {
                await routes.AddAsync(route, ct);
                added.Add(route);
            }
            catch (PortException)
            {
                // The master is down or gone: the EQL actor's MasterUp makes us try again at once.
            }
        }
        string? found = null, now = null;
        var written = false;
        if (wanted is not null)
        {
            try
            {
                found = now = await sysctl.ReadAsync(TcpReordering, ct);
                if (found != wanted)
                {
                    if (found is not null) await KeepAsync(originals, found, ct);
                    await sysctl.WriteAsync(TcpReordering, wanted, ct);
                    now = wanted;
                    written = true;
                }
            }
            catch (PortException)
            {
                // A sysctl we cannot set must not keep the routes from being reported.
            }
        }
        var present = desired.Where(r => table.Contains(r) || added.Contains(r)).ToList();
        return new Result(present, [.. desired.Except(present)], added, unshadowed, shadowing, now, found, written);
    }

    private static async Task KeepAsync(ISysctlOriginals originals, string found, CancellationToken ct)
    {
        try
        {
            await originals.KeepAsync(TcpReordering, found, ct);
        }
        catch (PortException)
        {
            // Not kept (the runtime directory is not writable): this daemon still knows it and puts it back at its own
            // stop; only a daemon that replaces it after a kill would not. Not a reason to leave the sysctl unset.
        }
    }

    /// <summary>
    /// The stop's pass: removes the desired routes that are in the table (only these: anything else belongs to someone
    /// else) and puts the sysctl back, if nobody changed it after us, to the value kept in <paramref name="originals"/>
    /// (found before the first change, by this daemon or one it replaced), or else to <paramref name="original"/>;
    /// then the kept value is dropped. Returns how many routes it removed.
    /// </summary>
    public static async Task<int> RemoveAsync(IRoutes routes, ISysctl sysctl, ISysctlOriginals originals, IReadOnlyList<Route> desired, string? original,
        string? wanted, CancellationToken ct = default)
    {
        var table = await routes.ListAsync(ct);
        var removed = 0;
        foreach (var route in desired.Where(table.Contains))
        {
            try
            {
                await routes.DeleteAsync(route, ct);
                removed++;
            }
            catch (PortException)
            {
            }
        }
        if (wanted is null) return removed;
        // The kept value first: after a daemon restart, the value this daemon found was the product's own.
        original = await originals.ReadAsync(TcpReordering, ct) ?? original;
        if (original is not null && await sysctl.ReadAsync(TcpReordering, ct) == wanted) await sysctl.WriteAsync(TcpReordering, original, ct);
        // Put back, or somebody else's value now: either way nothing is left to put back.
        await originals.ForgetAsync(TcpReordering, ct);
        return removed;
    }
}
