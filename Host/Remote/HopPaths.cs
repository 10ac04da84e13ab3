using EqlActors.Configuration;
using EqlActors.Ports;

namespace EqlActors.Host.Remote;

/// <summary>
/// Ways to the hops that sit behind jump hosts, for the checks a backing-off link makes of them
/// (<see cref="SshRemoteHost.HopAnswersAsync"/>): host_B is usually reachable only through its jump hosts, so its ssh
/// port is asked through them, over an SSH.NET connection to each jump host before it (the same as the links' own
/// ProxyCommand takes). One way per hop, shared by every link that checks it and kept between the checks (one check
/// a second for as long as an outage lasts must not log in to the jump hosts each time); dropped when the hop
/// answered, when a jump host's connection was lost, and after <see cref="IdleLifetime"/> without a check.
/// </summary>
public sealed class HopPaths(RemoteConfig remote)
{
    /// <summary>A way no check used for this long is closed: the links it served are up again, or gave up.</summary>
    public static readonly TimeSpan IdleLifetime = TimeSpan.FromSeconds(15);

    private sealed class Way
    {
        public required Task<SshSession> Session { get; init; }
        public DateTime LastUse;
    }

    private readonly object _gate = new();
    private readonly Dictionary<SshEndpoint, Way> _ways = [];
    private Timer? _sweep;

    /// <summary>
    /// The jump hosts a link crosses before it reaches <paramref name="hop"/>: every one for host_B, those before it
    /// for a jump host, none for the first hop (asked directly from this host).
    /// </summary>
    public static System.Collections.Immutable.ImmutableArray<SshEndpoint> JumpHostsBefore(RemoteConfig remote, SshEndpoint hop)
    {
        var jumps = remote.JumpHosts.IsDefault ? [] : remote.JumpHosts;
        if (hop == remote.Account) return jumps;
        var at = jumps.IndexOf(hop);
        return at <= 0 ? [] : jumps[..at];
    }

    /// <summary>Where this host reaches <paramref name="hop"/>'s ssh port: a jump host's forward on 127.0.0.1.</summary>
    public async Task<(string Host, int Port)> TargetAsync(SshEndpoint hop)
    {
        Task<SshSession> session;
        lock (_gate)
        {
            if (_ways.TryGetValue(hop, out var way) && (!way.Session.IsCompleted || (way.Session.IsCompletedSuccessfully && way.Session.Result.IsConnected)))
                way.LastUse = DateTime.UtcNow;
            else
            {
                if (way is not null) Close(way);
                // Up to the hop: the jump hosts before it, the last forwarding to the hop itself.
                var path = remote with { JumpHosts = JumpHostsBefore(remote, hop), Account = hop };
                way = _ways[hop] = new Way { Session = Task.Run(() => SshSession.ConnectAsync(path)), LastUse = DateTime.UtcNow };
                _sweep ??= new Timer(_ => Sweep(), null, IdleLifetime, IdleLifetime);
            }
            session = way.Session;
        }
        try
        {
            return (await session.ConfigureAwait(false)).Target;
        }
        catch (PortException)
        {
            Release(hop, session);
            throw;
        }
    }

    /// <summary>Closes the way to <paramref name="hop"/>, if any.</summary>
    public void Release(SshEndpoint hop) => Release(hop, null);

    /// <summary>How many ways are open or being made (tests).</summary>
    public int Count
    {
        get { lock (_gate) return _ways.Count; }
    }

    private void Release(SshEndpoint hop, Task<SshSession>? only)
    {
        lock (_gate)
        {
            if (!_ways.TryGetValue(hop, out var way) || (only is not null && way.Session != only)) return;
            _ways.Remove(hop);
            Close(way);
            StopSweepIfIdle();
        }
    }

    private void Sweep()
    {
        lock (_gate)
        {
            var now = DateTime.UtcNow;
            foreach (var (hop, way) in _ways.Where(w => now - w.Value.LastUse >= IdleLifetime).ToList())
            {
                _ways.Remove(hop);
                Close(way);
            }
            StopSweepIfIdle();
        }
    }

    private void StopSweepIfIdle()
    {
        if (_ways.Count > 0) return;
        _sweep?.Dispose();
        _sweep = null;
    }

    /// <summary>Disposes the way's connections once it is made (a way still being made is closed when it is).</summary>
    private static void Close(Way way) =>
        way.Session.ContinueWith(t => { if (t.IsCompletedSuccessfully) t.Result.Dispose(); }, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
