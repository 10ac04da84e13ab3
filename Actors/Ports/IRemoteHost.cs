namespace EqlActors.Ports;

/// <summary>What the remote slirp can do. <see cref="Units"/> is its MAX_INTERFACES as far as a probe can tell.</summary>
public sealed record SlirpProbe(bool Present, bool Executable, int Units, bool SelectBug, string Detail)
{
    /// <summary>
    /// Features of the project's patched slirp build (the words after <c>eqlactors-slirp-features: </c> in its
    /// binary: link-down-fix, fair-download, attach-takeover, loopback-attach, kill-handler-fix, big-buffers);
    /// empty for a stock build.
    /// </summary>
    public IReadOnlyList<string> Features { get; init; } = [];

    /// <summary>Every feature of the patched build, in the order the probe reports them.</summary>
    public static readonly IReadOnlyList<string> AllFeatures =
        ["link-down-fix", "fair-download", "attach-takeover", "loopback-attach", "kill-handler-fix", "big-buffers"];

    /// <summary>What a stock (or older) build lacks, for <c>doctor</c>.</summary>
    public IReadOnlyList<string> MissingFeatures => [.. AllFeatures.Where(f => !Features.Contains(f))];

    /// <summary>Whether this slirp can serve units 0..max of <paramref name="links"/>: anything else fails every attach.</summary>
    public bool CanServe(IReadOnlyList<int> links) => Present && Executable && !SelectBug && Units > (links.Count == 0 ? 0 : links.Max());
}

/// <summary>host_B, reached over ssh through the jump hosts, as the ordinary user of the account.</summary>
public interface IRemoteHost
{
    /// <summary>Kills the account's own slirp processes started from the configured command; returns how many.</summary>
    Task<int> KillStaleSlirpAsync(CancellationToken ct = default);

    /// <summary>Writes <c>~/.slirprc</c> and <c>~/.slirprc-N</c> for every link, atomically.</summary>
    Task WriteRcFilesAsync(IReadOnlyList<int> links, CancellationToken ct = default);

    Task<SlirpProbe> ProbeSlirpAsync(CancellationToken ct = default);

    /// <summary>
    /// The probe for a bundle whose links are (being) attached: it must not ask for units, because asking is an
    /// attach attempt that a stock slirp answers with "Unit already attached" and a 10 s attach lockout.
    /// </summary>
    Task<SlirpProbe> ProbeSlirpWithoutAttachingAsync(CancellationToken ct = default);

    /// <summary>
    /// host_B's words for link <paramref name="link"/>'s last attempt (what its remote side wrote on stderr:
    /// slirp's attach errors, a shell's "not found"), or null when there are none.
    /// </summary>
    Task<string?> ReadLinkErrorAsync(int link, CancellationToken ct = default);

    /// <summary>
    /// Whether the ssh server of <paramref name="hop"/> (the configured account or one of its jump hosts) answers: a
    /// TCP connection to its port, made the way the links reach it (from this host for the first hop, through the
    /// jump hosts before it otherwise), accepted and greeted with <c>SSH-</c> within <paramref name="timeout"/>.
    /// Cheap: no key exchange with the hop itself (the way through the jump hosts before it is kept between checks);
    /// false for a refused, unreachable or silent hop, never an exception for those.
    /// </summary>
    Task<bool> HopAnswersAsync(Configuration.SshEndpoint hop, TimeSpan timeout, CancellationToken ct = default);

    /// <summary>
    /// Before links start: probe slirp; only if it can serve <paramref name="links"/>, kill stale slirp (when
    /// <paramref name="killStale"/>) and write the rc files. Killed is 0 when nothing was killed or the probe failed.
    /// An implementation does it over one connection where it can (each ssh connect through the jump hosts costs
    /// key exchanges).
    /// </summary>
    Task<(SlirpProbe Probe, int Killed)> PrepareAsync(IReadOnlyList<int> links, bool killStale, CancellationToken ct = default);
}

/// <summary>
/// <see cref="IRemoteHost.PrepareAsync"/> as three separate calls on the port, for adapters where a call costs no
/// connection (the simulated host_B, the benchmarks' stand-in). An adapter says so explicitly: a wrapper that
/// forgets PrepareAsync fails to compile instead of silently bypassing its inner adapter's one-connection version.
/// </summary>
public static class RemotePreparation
{
    public static Task<(SlirpProbe Probe, int Killed)> InStepsAsync(IRemoteHost remote, IReadOnlyList<int> links, bool killStale, CancellationToken ct = default) =>
        RunAsync(links, killStale, remote.ProbeSlirpAsync, remote.KillStaleSlirpAsync, remote.WriteRcFilesAsync, ct);

    /// <summary>
    /// The preparation's steps in their one order, whatever carries them (separate port calls, or one connection's
    /// commands): nothing is killed or written on host_B before the probe says its slirp can serve the links.
    /// </summary>
    public static async Task<(SlirpProbe Probe, int Killed)> RunAsync(
        IReadOnlyList<int> links, bool killStale,
        Func<CancellationToken, Task<SlirpProbe>> probe,
        Func<CancellationToken, Task<int>> killStaleSlirp,
        Func<IReadOnlyList<int>, CancellationToken, Task> writeRcFiles,
        CancellationToken ct)
    {
        var found = await probe(ct).ConfigureAwait(false);
        if (!found.CanServe(links)) return (found, 0);
        var killed = killStale ? await killStaleSlirp(ct).ConfigureAwait(false) : 0;
        await writeRcFiles(links, ct).ConfigureAwait(false);
        return (found, killed);
    }
}
