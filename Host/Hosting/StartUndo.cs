using EqlActors.Configuration;
using EqlActors.Ports;

namespace EqlActors.Host.Hosting;

/// <summary>
/// The daemon's way out of a start that stopped before the actors took over (a SIGTERM while the links were
/// prelaunched, the host built or the actor system started): it takes back what the start did, in the order of the
/// bundle's own stop. The cold start's routes, sysctl, slaves and master first; then the prelaunched chains that no
/// link actor took over; then host_B, whose main slirp outlives the chain that started it (unit 0's), exactly as
/// the remote actor's clean-up at a normal stop (<c>CleanRemote</c>). Without that last step a stop before the
/// hand-over left a slirp running on host_B until the next daemon's clean start.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class StartUndo
{
    /// <summary>The bound of host_B's clean-up: one ssh connection through the jump hosts (12-13 s in the qemu guest).</summary>
    public static readonly TimeSpan RemoteTimeout = TimeSpan.FromSeconds(60);

    /// <param name="ports">The ports the cold start used (null when the start stopped before they were made).</param>
    public static async Task RunAsync(ColdStart? coldStart, PrelaunchedPpp? prelaunched, SystemPorts? ports, BundleConfig config, Serilog.ILogger log)
    {
        // Handed over: the bundle was started, and its own stop cleans up (routes, slaves, chains, host_B, master).
        var bundleNeverStarted = coldStart is not { HandedOver: true };
        if (coldStart is { HandedOver: false })
        {
            using var undoBound = new CancellationTokenSource(ColdStart.PassTimeout * 2);
            await coldStart.UndoAsync(undoBound.Token).ConfigureAwait(false);
        }
        if (prelaunched is null) return;
        await Prelaunch.EndUnclaimedAsync(prelaunched, config, log).ConfigureAwait(false);
        // Nothing was launched (the TCP attach, a pppd to adopt): nothing of this start runs on host_B.
        if (!bundleNeverStarted || prelaunched.Generation is null || ports is null) return;
        try
        {
            using var bound = new CancellationTokenSource(RemoteTimeout);
            var killed = await ports.Remote.KillStaleSlirpAsync(bound.Token).ConfigureAwait(false);
            log.Information("Remote cleaned after a stop before the take-over: {Killed} slirp processes killed", killed);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            log.Warning("Cleaning the remote host failed, slirp may linger there: {Reason}", ex.Message);
        }
    }
}
