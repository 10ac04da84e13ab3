namespace EqlActors.Ports;

/// <summary>What the remote slirp can do. <see cref="Units"/> is its MAX_INTERFACES as far as a probe can tell.</summary>
public sealed record SlirpProbe(bool Present, bool Executable, int Units, bool SelectBug, string Detail)
{
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
    /// Before links start: probe slirp; only if it can serve <paramref name="links"/>, kill stale slirp (when
    /// <paramref name="killStale"/>) and write the rc files. Killed is 0 when nothing was killed or the probe failed.
    /// An implementation does it over one connection where it can (each ssh connect through the jump hosts costs
    /// key exchanges).
    /// </summary>
    async Task<(SlirpProbe Probe, int Killed)> PrepareAsync(IReadOnlyList<int> links, bool killStale, CancellationToken ct = default)
    {
        var probe = await ProbeSlirpAsync(ct).ConfigureAwait(false);
        if (!probe.CanServe(links)) return (probe, 0);
        var killed = killStale ? await KillStaleSlirpAsync(ct).ConfigureAwait(false) : 0;
        await WriteRcFilesAsync(links, ct).ConfigureAwait(false);
        return (probe, killed);
    }
}
