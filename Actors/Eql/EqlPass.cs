using EqlActors.Ports;

namespace EqlActors.Actors;

/// <summary>
/// One look at the EQL driver against the links that are up: release what is no longer wanted, bring the master
/// back if it is down, gone or misconfigured, enslave what is missing (or correct its priority). The one place that
/// decides this: the <see cref="EqlActor"/>'s reconcile runs it, and so does the host's cold start before the actor
/// system exists. Idempotent: over a master that is up with every wanted slave enslaved it changes nothing, which is
/// how the actors take over the cold start's state (and a restarted daemon's) without tearing it down.
/// </summary>
public static class EqlPass
{
    /// <param name="LostReason">Why the master had to be brought up (null: it was up and right).</param>
    /// <param name="Enslaved">Every wanted link that is a slave now, by link.</param>
    public sealed record Result(
        string? LostReason,
        Dictionary<int, string> Enslaved,
        List<(int Link, string Interface, long Priority)> Newly,
        List<(int Link, string Interface)> Released);

    /// <param name="desired">The links that are up, with their interfaces: these must be slaves.</param>
    /// <param name="believed">What the caller enslaved before: any of these no longer desired is released. Slaves it
    /// does not believe in are never touched (the cold start's, before the EQL actor heard their links are up).</param>
    public static async Task<Result> RunAsync(IEqlDriver eql, EqlMasterSpec spec, IReadOnlyDictionary<int, string> desired,
        IReadOnlyDictionary<int, string> believed, Func<int, long> priorityOf, CancellationToken ct = default)
    {
        var device = spec.Device;
        // Release first: a slave whose link failed is let go at once, not after a look at the master and at every
        // other slave (each ioctl waits for the kernel's RTNL, slow while pppN interfaces go down: the driver's
        // reference is what a dying pppN waits for), and its slot is free again for the enslaving below.
        var released = new List<(int, string)>();
        foreach (var (link, ifname) in believed)
        {
            if (desired.TryGetValue(link, out var current) && current == ifname) continue;
            try
            {
                await eql.EmancipateAsync(device, ifname, ct);
            }
            catch (PortException)
            {
                // Already buried by the driver's timer or gone with its interface.
            }
            released.Add((link, ifname));
        }
        var master = await eql.GetMasterAsync(device, ct);
        string? lost = null;
        if (!master.Loaded || !master.IsUp || master.Mtu != spec.Mtu || !Equals(master.Address, spec.Address))
        {
            lost = !master.Loaded ? "the eql module is not loaded" : !master.IsUp ? "the master is down" : "the master is misconfigured";
            await eql.EnsureMasterAsync(spec, ct);
        }
        var enslaved = new Dictionary<int, string>();
        var newly = new List<(int, string, long)>();
        foreach (var (link, ifname) in desired)
        {
            var priority = priorityOf(link);
            try
            {
                var slave = await eql.GetSlaveAsync(device, ifname, ct);
                if (slave is null)
                {
                    await eql.EnslaveAsync(device, ifname, priority, ct);
                    newly.Add((link, ifname, priority));
                }
                else if (slave.Priority != priority)
                {
                    await eql.SetSlavePriorityAsync(device, ifname, priority, ct);
                }
                enslaved[link] = ifname;
            }
            catch (PortException)
            {
                // The interface went between its LinkUp and now: its LinkDown is on the way.
            }
        }
        return new Result(lost, enslaved, newly, released);
    }
}
