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
    public static async Task<Result> RunAsync(IRoutes routes, ISysctl sysctl, IReadOnlyList<Route> desired, string device, string? wanted,
        CancellationToken ct = default)
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

    /// <summary>
    /// The stop's pass: removes the desired routes that are in the table (only these: anything else belongs to someone
    /// else) and puts the sysctl back to <paramref name="original"/> if nobody changed it after us. Returns how many
    /// routes it removed.
    /// </summary>
    public static async Task<int> RemoveAsync(IRoutes routes, ISysctl sysctl, IReadOnlyList<Route> desired, string? original, string? wanted,
        CancellationToken ct = default)
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
        if (original is not null && await sysctl.ReadAsync(TcpReordering, ct) == wanted) await sysctl.WriteAsync(TcpReordering, original, ct);
        return removed;
    }
}
