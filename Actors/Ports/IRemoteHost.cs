namespace EqlActors.Ports;

/// <summary>What the remote slirp can do. <see cref="Units"/> is its MAX_INTERFACES as far as a probe can tell.</summary>
public sealed record SlirpProbe(bool Present, bool Executable, int Units, bool SelectBug, string Detail);

/// <summary>host_B, reached over ssh through the jump hosts, as the ordinary user of the account.</summary>
public interface IRemoteHost
{
    /// <summary>Kills the account's own slirp processes started from the configured command; returns how many.</summary>
    Task<int> KillStaleSlirpAsync(CancellationToken ct = default);

    /// <summary>Writes <c>~/.slirprc</c> and <c>~/.slirprc-N</c> for every link, atomically.</summary>
    Task WriteRcFilesAsync(IReadOnlyList<int> links, CancellationToken ct = default);

    Task<SlirpProbe> ProbeSlirpAsync(CancellationToken ct = default);
}
