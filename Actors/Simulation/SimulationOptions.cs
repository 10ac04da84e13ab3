namespace EqlActors.Simulation;

/// <summary>Which slirp host_B runs: the stock one drops unit 0 whenever any unit goes down (slirp's ppp/auth.c).</summary>
public enum SlirpBuild
{
    Fixed,
    Stock,
}

/// <summary>How the simulated world behaves. Defaults follow the measurements in docs/facts.md.</summary>
public sealed record SimulationOptions
{
    public int Seed { get; init; } = 42;
    public SlirpBuild Slirp { get; init; } = SlirpBuild.Fixed;

    /// <summary>From pppd start to its interface up, without jump hosts (measured 1.5-2.8 s).</summary>
    public TimeSpan LinkUpMin { get; init; } = TimeSpan.FromSeconds(1.5);
    public TimeSpan LinkUpMax { get; init; } = TimeSpan.FromSeconds(2.8);
    /// <summary>Each jump host adds about this much (measured ~1.2 s).</summary>
    public TimeSpan PerJumpHost { get; init; } = TimeSpan.FromSeconds(1.2);

    /// <summary>After a refused attach, slirp refuses the unit for this long (measured ~10 s).</summary>
    public TimeSpan AttachLockout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>How long host_B's sshd takes to drop sessions whose client vanished once the network is back.</summary>
    public TimeSpan DeadSessionCleanup { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Upload offered to the eql master and what one slave can carry: 300/170 KB/s reproduces 21.7/56.6/21.7.</summary>
    public long UploadBytesPerSecond { get; init; } = 300_000;
    public long SlaveBytesPerSecond { get; init; } = 170_000;
    public long DownloadBytesPerSecond { get; init; } = 100_000;
    public int PacketBytes { get; init; } = 1500;
    public TimeSpan TrafficTick { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long <c>StopAsync</c> takes before the chain is gone (pppd lingers up to ~5 s after SIGTERM). Zero, the
    /// default, completes at once; a test that needs a stop to be in flight sets it.
    /// </summary>
    public TimeSpan StopLinger { get; init; } = TimeSpan.Zero;

    /// <summary>A previous run left a slirp on host_B whose units are held by dead sessions: cleanup is needed.</summary>
    public bool StaleRemoteSlirp { get; init; } = true;
    /// <summary>
    /// With the unix-socket attach a unit other than 0 needs a main slirp serving the socket, which only unit 0
    /// starts, else it fails "cannot connect to Slirp socket". The link wrapper waits for one up to
    /// <see cref="MainSlirpWait"/> (on a clean start and on a restart alike); false: it tries at once on a restart,
    /// as the wrapper did before it waited there.
    /// </summary>
    public bool UnitsWaitForMainSlirp { get; init; } = true;
    public TimeSpan MainSlirpWait { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>host_B's <c>~/.slirprc*</c> are missing until the service writes them.</summary>
    public bool RcFilesPresent { get; init; }
}
