namespace EqlActors.Messages;

/// <summary>Before the first start: kill stale slirp processes (unless links were adopted) and write rc files.</summary>
public sealed record PrepareRemote(bool KillStale);
public sealed record RemotePrepared(string Bundle, int StaleKilled, DateTimeOffset At) : IBundleEvent;
public sealed record RemotePreparationFailed(string Bundle, string Reason, bool Permanent, DateTimeOffset At) : IBundleEvent;

/// <summary>At stop: kill the remote slirp so that nothing lingers on host_B.</summary>
public sealed record CleanRemote;
public sealed record RemoteCleaned(int Killed);
