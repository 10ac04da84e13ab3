namespace EqlActors.Messages;

/// <summary>Before the first start: kill stale slirp processes (unless links were adopted) and write rc files.</summary>
public sealed record PrepareRemote(bool KillStale)
{
    /// <summary>Only probe slirp (its units, its features): the links' own commands prepare host_B.</summary>
    public bool ProbeOnly { get; init; }
}

/// <summary>Read host_B's words for a link's last failure (the remote side's error file); answered with LinkDiagnosed.</summary>
public sealed record DiagnoseLink(int Link);
public sealed record RemotePrepared(string Bundle, int StaleKilled, DateTimeOffset At) : IBundleEvent
{
    /// <summary>The patched slirp build's features as its probe found them (empty for a stock build); null: not probed.</summary>
    public IReadOnlyList<string>? SlirpFeatures { get; init; }
}
public sealed record RemotePreparationFailed(string Bundle, string Reason, bool Permanent, DateTimeOffset At) : IBundleEvent;

/// <summary>At stop: kill the remote slirp so that nothing lingers on host_B.</summary>
public sealed record CleanRemote;
public sealed record RemoteCleaned(int Killed);
