using System.Globalization;
using System.Runtime.Versioning;
using EqlActors.Configuration;
using EqlActors.Host.Linux;
using EqlActors.Ports;

namespace EqlActors.Host.Hosting;

/// <summary>
/// The links' chains started before the generic host and the actor system are built. In the qemu guest those take
/// 15-18 s (.NET start-up, first-time code), and the chains' ssh key exchanges need that long too: run side by side,
/// the bundle is up about one bare link after the daemon serves instead of three (docs/benchmarks.md, "Prelaunched
/// links"). The link actors take the chains over as their own clean start (<see cref="PrelaunchedPpp"/>).
/// </summary>
[SupportedOSPlatform("linux")]
public static class Prelaunch
{
    /// <summary>
    /// The pppd port of a real system: <see cref="PrelaunchedPpp"/> over <paramref name="linux"/>, with every link
    /// launched when this is a clean start of a unix-socket attach. None is launched when the TCP attach needs its
    /// password file on host_B first (the remote actor writes it), or when any link has a pppd that a daemon left
    /// running: the link actors adopt those, and a clean start of the others would end their slirp.
    /// </summary>
    public static async Task<PrelaunchedPpp> RunAsync(BundleConfig config, LinuxPppProcesses linux, Serilog.ILogger log, CancellationToken ct = default)
    {
        var ppp = new PrelaunchedPpp(linux, (link, dropped) => log.Information(
            "Link {Link}: {Dropped} older lines of its prelaunched pppd dropped before the take-over (the newest {Kept} kept)", link, dropped, PrelaunchedPpp.MaxBufferedLines));
        var links = config.EffectiveLinks;
        if (config.Remote.Attach == SlirpAttach.Tcp)
        {
            log.Information("Links not prelaunched: the TCP attach needs its password file on host_B first");
            return ppp;
        }
        var running = links.Where(l => linux.FindRunning(new PppLaunch(l, config)) is not null).ToList();
        if (running.Count > 0)
        {
            log.Information("Links not prelaunched: links {Links} have a running pppd to adopt", string.Join(",", running));
            return ppp;
        }
        var generation = DateTimeOffset.UtcNow.UtcTicks.ToString(CultureInfo.InvariantCulture);
        var outcomes = await ppp.LaunchAsync(config, links, generation, ct).ConfigureAwait(false);
        var started = outcomes.Where(o => o.Process is not null).ToList();
        if (started.Count > 0)
            log.Information("Prelaunched links {Links} (generation {Generation}): pppd {Pids}", string.Join(",", started.Select(o => o.Link)),
                generation, string.Join(",", started.Select(o => o.Process!.Pid)));
        foreach (var o in outcomes.Where(o => o.Error is not null))
            log.Warning("Link {Link}: prelaunch failed, its link actor starts it: {Reason}", o.Link, o.Error!.Message);
        return ppp;
    }

    /// <summary>Ends the prelaunched chains that no link actor took over (the daemon stopped first); logs which.</summary>
    public static async Task EndUnclaimedAsync(PrelaunchedPpp ppp, BundleConfig config, Serilog.ILogger log)
    {
        try
        {
            using var bound = new CancellationTokenSource(config.Supervision.StopGrace * 2 + TimeSpan.FromSeconds(20));
            var ended = await ppp.EndUnclaimedAsync(config.Supervision.StopGrace, bound.Token).ConfigureAwait(false);
            if (ended.Count > 0) log.Information("Ended prelaunched links {Links}, never taken over", string.Join(",", ended));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            log.Error("Ending the prelaunched links failed: {Reason}", ex.Message);
        }
    }
}
