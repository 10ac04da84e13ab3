using EqlActors.Configuration;
using EqlActors.Host.Provision;
using EqlActors.Host.Remote;
using EqlActors.Ports;
using Renci.SshNet.Common;

namespace EqlActors.Host.Doctor;

/// <summary>One hop of the way to host_B: accepted (no error), or the first that failed.</summary>
public sealed record HopResult(SshEndpoint Endpoint, bool IsTarget, PortException? Error);

/// <summary>
/// The build record next to the remote slirp, the binary's current <c>cksum</c>, and the feature words the binary
/// itself names (<see cref="SlirpPatches.MarkerPrefix"/>; null: no marker, a stock build).
/// </summary>
public sealed record RemoteBuildRecord(SlirpBuildMarker? Marker, string? CurrentCksum, IReadOnlyList<string>? Features = null);

/// <summary>host_B as the doctor sees it (SSH.NET through the jump hosts).</summary>
public interface IRemoteInspector
{
    /// <summary>Connects hop by hop, in order; stops at the first failure, which is the last element.</summary>
    Task<IReadOnlyList<HopResult>> WalkHopsAsync(CancellationToken ct);

    Task<SlirpProbe> ProbeSlirpAsync(CancellationToken ct);

    /// <summary>null when slirp or its record is absent.</summary>
    Task<RemoteBuildRecord?> ReadBuildRecordAsync(CancellationToken ct);

    /// <summary>The rc files' contents (relative to the remote home); null for a missing file.</summary>
    Task<IReadOnlyDictionary<string, string?>> ReadFilesAsync(IReadOnlyList<string> names, CancellationToken ct);
}

public sealed class SshRemoteInspector(BundleConfig config) : IRemoteInspector
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Prints <c>absent</c>, or the binary's feature marker (or <c>nofeatures</c>) and then the build record next to
    /// slirp followed by <c>current_cksum=CRC SIZE</c> (or <c>nomarker</c>).
    /// </summary>
    public const string ReadMarkerScript =
        "s=$1; case $s in */*) p=$s ;; *) p=$(command -v -- \"$s\") || p= ;; esac; " +
        "if [ -z \"$p\" ] || [ ! -f \"$p\" ]; then echo absent; exit 0; fi; m=\"$p" + SlirpBuildMarker.Suffix + "\"; " +
        "f=$(grep -ao '" + SlirpPatches.MarkerPrefix + "[a-z,-]*' \"$p\" | head -n 1); if [ -n \"$f\" ]; then echo \"$f\"; else echo nofeatures; fi; " +
        "if [ -f \"$m\" ]; then cat \"$m\"; echo; echo \"current_cksum=$(cksum < \"$p\")\"; else echo nomarker; fi";

    public async Task<IReadOnlyList<HopResult>> WalkHopsAsync(CancellationToken ct)
    {
        var r = config.Remote;
        var jumps = r.JumpHosts.IsDefault ? [] : r.JumpHosts;
        var results = new List<HopResult>();
        try
        {
            using var session = await SshSession.ConnectAsync(r, hop => results.Add(new HopResult(hop, false, null)), ct).ConfigureAwait(false);
            await session.RunAsync("exit 0", CommandTimeout, ct).ConfigureAwait(false);
            results.Add(new HopResult(r.Account, true, null));
        }
        catch (PortException e)
        {
            var failed = results.Count < jumps.Length ? jumps[results.Count] : r.Account;
            results.Add(new HopResult(failed, results.Count >= jumps.Length, e));
        }
        return results;
    }

    public Task<SlirpProbe> ProbeSlirpAsync(CancellationToken ct) => new SshRemoteHost(config).ProbeSlirpAsync(ct);

    public async Task<RemoteBuildRecord?> ReadBuildRecordAsync(CancellationToken ct)
    {
        using var session = await SshSession.ConnectAsync(config.Remote, ct).ConfigureAwait(false);
        var (status, stdout, stderr) = await session.RunAsync(RemoteScripts.Command(ReadMarkerScript, config.Remote.SlirpCommand), CommandTimeout, ct).ConfigureAwait(false);
        if (status != 0) throw new PortException($"reading slirp's build record on {config.Remote.Account} failed ({status}): {stderr.Trim()}");
        var text = stdout.Trim();
        if (text == "absent") return null;
        var lines = text.Split('\n');
        IReadOnlyList<string>? features = SlirpPatches.ParseMarker(lines[0]);
        var rest = string.Join('\n', lines.Skip(1)).Trim();
        if (rest == "nomarker") return new RemoteBuildRecord(null, null, features);
        var current = lines.LastOrDefault(l => l.StartsWith("current_cksum=", StringComparison.Ordinal))?["current_cksum=".Length..].Trim();
        return new RemoteBuildRecord(SlirpBuildMarker.Parse(rest), current, features);
    }

    public async Task<IReadOnlyDictionary<string, string?>> ReadFilesAsync(IReadOnlyList<string> names, CancellationToken ct)
    {
        using var session = await SshSession.ConnectAsync(config.Remote, ct).ConfigureAwait(false);
        var sftp = await session.SftpAsync(ct).ConfigureAwait(false);
        var result = new Dictionary<string, string?>();
        try
        {
            foreach (var name in names) result[name] = sftp.Exists(name) ? sftp.ReadAllText(name) : null;
        }
        catch (SshException e)
        {
            throw new PortException($"reading slirp's rc files on {config.Remote.Account} failed: {e.Message}", FailureKind.Transient, e);
        }
        return result;
    }
}
