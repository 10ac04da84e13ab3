using System.Collections.Immutable;
using System.Net;

namespace EqlActors.Configuration;

/// <summary>
/// The validated configuration of one EQL bundle. Every value here has passed <c>ConfigValidator</c>:
/// code that receives a <see cref="BundleConfig"/> may rely on the grammar of each field.
/// Defaults are the HOWTO script's, except where docs/facts.md shows the script's value to be harmful
/// (EQL priority 1 never decays, see <see cref="EqlConfig.Priority"/>).
/// </summary>
public sealed record BundleConfig
{
    /// <summary>slirp link numbers (its <c>-l N</c>); the HOWTO's LINKS="0 1 2". slirp's MAX_INTERFACES caps them at 0..3.</summary>
    public ImmutableArray<int> Links { get; init; } = [0, 1, 2];

    /// <summary>The script's FastDownload_SlowUpload: run link 0 alone (download never balances over slirp).</summary>
    public bool SingleLink { get; init; }

    public RemoteConfig Remote { get; init; } = new();
    public PppConfig Ppp { get; init; } = new();
    public EqlConfig Eql { get; init; } = new();
    public RoutesConfig Routes { get; init; } = new();
    public SupervisionConfig Supervision { get; init; } = new();
    public HealthConfig Health { get; init; } = new();
    public ControlConfig Control { get; init; } = new();
    public MetricsConfig Metrics { get; init; } = new();

    /// <summary>The links actually run: link 0 alone in single-link mode.</summary>
    public ImmutableArray<int> EffectiveLinks => SingleLink ? [Links.Contains(0) ? 0 : Links[0]] : Links;
}

/// <summary>An ssh destination: <c>user@host[:port]</c>.</summary>
public sealed record SshEndpoint(string User, string Host, int Port = 22)
{
    public override string ToString() => Port == 22 ? $"{User}@{Host}" : $"{User}@{Host}:{Port}";
}

public enum SlirpAttach
{
    /// <summary>The HOWTO's form: <c>~/.slirprc</c> says <c>socket</c>, each link attaches with <c>slirp -l N</c> over <c>ssh -t</c>.</summary>
    Unix,
    /// <summary>slirp's TCP form: <c>socket PORT,PASSWORD</c>, links attach with <c>slirp -l N,127.0.0.1:PORT,PASSWORD</c>.</summary>
    Tcp,
}

public sealed record RemoteConfig
{
    /// <summary>host_B: the HOWTO's REMOTE_ACCOUNT.</summary>
    public SshEndpoint Account { get; init; } = new("user", "remotehost");

    /// <summary>Hops in order, the HOWTO's VIA (<c>ssh -q -t fireman@firewall</c>).</summary>
    public ImmutableArray<SshEndpoint> JumpHosts { get; init; } = [new SshEndpoint("fireman", "firewall")];

    /// <summary>Path of slirp on host_B, relative to the remote home or absolute: the HOWTO's REMOTE_SLIRP.</summary>
    public string SlirpCommand { get; init; } = "bin/slirp";

    public SlirpAttach Attach { get; init; } = SlirpAttach.Unix;

    /// <summary>TCP attach form only: slirp's <c>socket PORT,PASSWORD</c>.</summary>
    public int TcpPort { get; init; } = 9999;

    /// <summary>TCP attach form only. A secret: masked by <c>config show</c>, never logged.</summary>
    public string? TcpPassword { get; init; }

    /// <summary>The local ssh client that pppd's <c>pty</c> runs.</summary>
    public string SshPath { get; init; } = "/usr/bin/ssh";

    public string IdentityFile { get; init; } = "/root/.ssh/id_ed25519";
    public string KnownHostsFile { get; init; } = "/root/.ssh/known_hosts";

    /// <summary>Opt-in trust on first use; off by default: an unknown host key is refused.</summary>
    public bool AcceptNewHostKeys { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// ssh's <c>KexAlgorithms</c> for every hop of a link (empty: ssh's own default). Each link attempt makes one key
    /// exchange per hop; OpenSSH 9's default, the post-quantum hybrid sntrup761x25519, cost the client 6x the CPU
    /// of curve25519 (measured: 105 vs 16 ms a connection), seconds per link in a slow guest or on a small box
    /// (docs/facts.md, "ssh key exchange"). The default stays ssh's own: giving up the post-quantum half of the key
    /// exchange is the operator's decision for a slow box, not one this service takes silently.
    /// </summary>
    public string SshKexAlgorithms { get; init; } = "";

    /// <summary>OpenSSH 8's default list, curve25519 first, nothing post-quantum: what a slow box may opt into.</summary>
    public const string ClassicSshKexAlgorithms =
        "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521," +
        "diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256";

    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Each link keeps its own authenticated ssh connection (an OpenSSH master, <c>ControlMaster=auto</c>, one per
    /// link) so that a restart after the remote end ended opens a new session over it: no key exchange, no jump
    /// host (docs/facts.md, "One ssh connection per link"). Off: every attempt connects afresh, the HOWTO's way.
    /// </summary>
    public bool ReuseConnection { get; init; } = true;
}

public sealed record PppConfig
{
    public string PppdPath { get; init; } = "/usr/sbin/pppd";
    public int Mtu { get; init; } = 1500;
    public IPAddress LocalAddress { get; init; } = IPAddress.Parse("10.0.2.15");
    public IPAddress RemoteAddress { get; init; } = IPAddress.Parse("10.0.2.2");

    /// <summary>
    /// Extra pppd options after the HOWTO's. Each is one pppd word: options are validated against a
    /// closed list of safe pppd words (see ConfigValidator) so that nothing here can smuggle a second
    /// <c>pty</c>, <c>connect</c> or <c>init</c> script.
    /// </summary>
    public ImmutableArray<string> ExtraOptions { get; init; } = [];

    /// <summary>
    /// LCP echo for dead-peer detection; off in the HOWTO, and off by default in pppd. 1 s x 3: a frozen path is
    /// noticed in about 3-4 s. pppd judges by echoes missed in a row (any reply resets the count), so a slow echo
    /// behind a saturated link is not a false "dead": measured at 256 kbit/s per link with 16+16 bulk flows, the
    /// largest gap between replies was 2.2 s (docs/benchmarks.md).
    /// </summary>
    public int LcpEchoInterval { get; init; } = 1;
    public int LcpEchoFailure { get; init; } = 3;

    /// <summary>pppd's <c>linkname</c> prefix: <c>/var/run/ppp-PREFIX-N.pid</c> lets a restarted daemon adopt a link.</summary>
    public string LinkNamePrefix { get; init; } = "eqlactors";
}

public sealed record EqlConfig
{
    public string Device { get; init; } = "eql";
    public IPAddress Address { get; init; } = IPAddress.Parse("172.16.1.1");
    public IPAddress Netmask { get; init; } = IPAddress.Parse("255.255.255.0");
    public int Mtu { get; init; } = 1500;

    /// <summary>
    /// EQL slave priority. The driver decays each slave's queue by priority/8 bytes a second; the HOWTO's 1
    /// never decays, so a re-enslaved link takes all traffic until it catches up (measured 21.7/56.6/21.7).
    /// 10000000 decays faster than any slirp link's rate (measured 33.3/33.4/33.4).
    /// </summary>
    public long Priority { get; init; } = 10_000_000;

    /// <summary>Per-link overrides of <see cref="Priority"/>.</summary>
    public ImmutableDictionary<int, long> LinkPriorities { get; init; } = ImmutableDictionary<int, long>.Empty;

    public long PriorityOf(int link) => LinkPriorities.TryGetValue(link, out var p) ? p : Priority;
}

/// <summary>An IPv4 prefix, parsed for real.</summary>
public sealed record Cidr(IPAddress Network, int PrefixLength)
{
    public override string ToString() => $"{Network}/{PrefixLength}";
}

public sealed record RoutesConfig
{
    /// <summary>Networks on host_B's side routed through the bundle: the HOWTO's REMOTE_LANS.</summary>
    public ImmutableArray<Cidr> RemoteLans { get; init; } = [new Cidr(IPAddress.Parse("192.168.1.0"), 24)];

    /// <summary>slirp's management net, <c>10.0.2.0/28 via 10.0.2.2</c>. Unlike the script, routed via eql, not whichever ppp came first.</summary>
    public bool ManagementRoute { get; init; } = true;
    public Cidr ManagementNetwork { get; init; } = new(IPAddress.Parse("10.0.2.0"), 28);
    public IPAddress ManagementGateway { get; init; } = IPAddress.Parse("10.0.2.2");

    /// <summary>net.ipv4.tcp_reordering; null leaves it alone.</summary>
    public int? TcpReordering { get; init; } = 127;
}

public sealed record SupervisionConfig
{
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);
    public double RandomFactor { get; init; } = 0.2;

    /// <summary>Restarts allowed within <see cref="RestartWindow"/> before a link is parked as failed; 0 = unlimited.</summary>
    public int MaxRestarts { get; init; }
    public TimeSpan RestartWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often every actor compares desired with observed state even when no event arrived.</summary>
    public TimeSpan ReconcileInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a link may take from pppd start to its interface up before the attempt counts as failed.</summary>
    public TimeSpan LinkUpTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Grace between SIGTERM and SIGKILL when stopping a pppd chain.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(3);
}

public sealed record HealthConfig
{
    /// <summary>End-to-end probes through each link and through the bundle. Imbalance healing below runs regardless.</summary>
    public bool Enabled { get; init; }

    /// <summary>A <c>host:port</c> whose host gets an ICMP echo out through each link (bound to its pppN): slirp's own 10.0.2.2 answers it.</summary>
    public string Target { get; init; } = "10.0.2.2:22";

    /// <summary>A TCP <c>host:port</c> in a remote LAN, connected to through the bundle; null: no remote LAN probe.</summary>
    public string? RemoteLanTarget { get; init; }
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
    public int FailuresBeforeRestart { get; init; } = 3;

    /// <summary>A slave whose share of new upload bytes stays this far from equal is re-enslaved.</summary>
    public double ImbalanceTolerance { get; init; } = 0.15;
    public TimeSpan ImbalanceWindow { get; init; } = TimeSpan.FromSeconds(30);
}

public sealed record ControlConfig
{
    public string SocketPath { get; init; } = "/run/eqlactors/control.sock";
    public string? LogFile { get; init; }
    public string LogLevel { get; init; } = "Information";
}

public sealed record MetricsConfig
{
    /// <summary>Where <c>/metrics</c> is served (<c>127.0.0.1:9477</c>); null: no metrics listener.</summary>
    public string? Listen { get; init; }
}
