using System.Globalization;
using System.Net;
using System.Net.Sockets;
using EqlActors.Configuration;

namespace EqlActors.Host.Configuration;

/// <summary>
/// Every rule a <see cref="BundleConfig"/> must satisfy before anything is started. All problems are reported at once,
/// each naming its key path (<c>remote.jumpHosts[1]</c>) and the bad value. The rules are listed in docs/configuration.md.
/// </summary>
public static class ConfigValidator
{
    public const int MaxLinks = 4;
    public const int MaxJumpHosts = 8;

    public static IReadOnlyList<ConfigError> Validate(BundleConfig config)
    {
        var v = new Collector();
        ValidateLinks(config, v);
        ValidateRemote(config.Remote, v);
        ValidatePpp(config.Ppp, v);
        ValidateEql(config, v);
        ValidateRoutes(config.Routes, v);
        ValidateSupervision(config.Supervision, v);
        ValidateHealth(config.Health, v);
        ValidateControl(config.Control, v);
        ValidateMetrics(config.Metrics, v);
        ValidateConnectionSharing(config, v);
        return v.Errors;
    }

    /// <summary>Legal settings that are probably mistakes; shown but not fatal.</summary>
    public static IReadOnlyList<string> Warnings(BundleConfig config)
    {
        var warnings = new List<string>();
        foreach (var link in config.EffectiveLinks)
            if (config.Eql.PriorityOf(link) < 8 * 1024 * 1024)
            {
                warnings.Add($"eql priority {config.Eql.PriorityOf(link)} of link {link} decays only {config.Eql.PriorityOf(link) / 8} bytes/s: " +
                    "a re-enslaved link takes all upload traffic until it has caught up (10000000 measured balanced)");
                break;
            }
        if (config.Ppp.LcpEchoInterval == 0)
            warnings.Add("ppp.lcpEchoInterval is 0: a dead link is only noticed when ssh or slirp exits");
        return warnings;
    }

    /// <summary>The HOWTO's example hosts, which are also the defaults: fine to simulate with, never a real setup.</summary>
    public static readonly SshEndpoint[] Placeholders = [new("user", "remotehost"), new("fireman", "firewall")];

    /// <summary>
    /// Values still at the HOWTO's placeholders (<c>user@remotehost</c>, <c>fireman@firewall</c>): valid syntax, so
    /// <c>config validate</c> says "OK", but it warns, since a real bundle with them cannot come up.
    /// </summary>
    public static IReadOnlyList<string> PlaceholderWarnings(BundleConfig config)
    {
        var warnings = new List<string>();
        if (Placeholders.Contains(config.Remote.Account))
            warnings.Add($"remote.account is {config.Remote.Account}, the HOWTO's placeholder: set the account that runs slirp on host_B");
        foreach (var hop in config.Remote.JumpHosts.Where(Placeholders.Contains))
            warnings.Add($"remote.jumpHosts holds {hop}, the HOWTO's placeholder: set your jump host, or [] for none");
        return warnings;
    }

    private static void ValidateLinks(BundleConfig c, Collector v)
    {
        if (c.Links.IsDefaultOrEmpty) { v.Add("links", "", "at least one link number is needed (the HOWTO uses 0 1 2)"); return; }
        var text = string.Join(" ", c.Links);
        if (c.Links.Length > MaxLinks) v.Add("links", text, $"at most {MaxLinks} links (slirp's MAX_INTERFACES)");
        foreach (var l in c.Links.Where(l => l is < 0 or > 3).Distinct())
            v.Add("links", text, $"link {l} is out of range: slirp link numbers are 0-3");
        foreach (var d in c.Links.GroupBy(l => l).Where(g => g.Count() > 1))
            v.Add("links", text, $"link {d.Key} is listed more than once");
    }

    private static void ValidateRemote(RemoteConfig r, Collector v)
    {
        Endpoint("remote.account", r.Account, v);
        if (!r.JumpHosts.IsDefault)
        {
            if (r.JumpHosts.Length > MaxJumpHosts) v.Add("remote.jumpHosts", string.Join(" ", r.JumpHosts), $"at most {MaxJumpHosts} jump hosts");
            for (var i = 0; i < r.JumpHosts.Length; i++) Endpoint($"remote.jumpHosts[{i}]", r.JumpHosts[i], v);
        }
        v.Check("remote.slirpCommand", r.SlirpCommand, ConfigGrammar.SafePath(r.SlirpCommand, mustBeAbsolute: false));
        if (!Enum.IsDefined(r.Attach)) v.Add("remote.attach", r.Attach.ToString(), "expected unix or tcp");
        v.Check("remote.tcpPort", Str(r.TcpPort), ConfigGrammar.Port(r.TcpPort));
        if (r.TcpPassword is { } pw) v.Check("remote.tcpPassword", "***", ConfigGrammar.TcpPassword(pw)); // never echo a secret
        else if (r.Attach == SlirpAttach.Tcp) v.Add("remote.tcpPassword", null, "remote.attach is tcp: a password is required (slirp's socket PORT,PASSWORD)");
        LocalPath("remote.sshPath", r.SshPath, v);
        LocalPath("remote.identityFile", r.IdentityFile, v);
        LocalPath("remote.knownHostsFile", r.KnownHostsFile, v);
        Duration("remote.connectTimeoutSeconds", r.ConnectTimeout, v, min: 0.001, max: 3600);
        Duration("remote.keepAliveIntervalSeconds", r.KeepAliveInterval, v, min: 0, max: 3600);
        v.Check("remote.sshKexAlgorithms", r.SshKexAlgorithms, ConfigGrammar.SshAlgorithmList(r.SshKexAlgorithms));
    }

    /// <summary>Each link's ssh master socket lives beside the control socket: its path must suit ssh.</summary>
    private static void ValidateConnectionSharing(BundleConfig c, Collector v)
    {
        if (!c.Remote.ReuseConnection || c.Control.SocketPath is not { Length: > 0 } socket || socket.Contains('\0') || c.Links.IsDefaultOrEmpty) return;
        // The longest name is the largest link number's.
        var path = Linux.PppCommandLine.ControlPath(c, c.Links.Max());
        if (Linux.PppCommandLine.ControlPathError(path) is { } error) v.Add("remote.reuseConnection", "true", error);
    }

    private static void ValidatePpp(PppConfig p, Collector v)
    {
        LocalPath("ppp.pppdPath", p.PppdPath, v);
        Range("ppp.mtu", p.Mtu, 68, 1500, v);
        Address("ppp.localAddress", p.LocalAddress, v);
        Address("ppp.remoteAddress", p.RemoteAddress, v);
        if (p.LocalAddress is not null && p.LocalAddress.Equals(p.RemoteAddress))
            v.Add("ppp.remoteAddress", p.RemoteAddress.ToString(), "equals ppp.localAddress: the two ends of a link need different addresses");
        if (!p.ExtraOptions.IsDefault)
            foreach (var (index, word, message) in PppdOptions.Check(p.ExtraOptions))
                v.Add($"ppp.extraOptions[{index}]", word, message);
        Range("ppp.lcpEchoInterval", p.LcpEchoInterval, 0, 3600, v);
        Range("ppp.lcpEchoFailure", p.LcpEchoFailure, 0, 1000, v);
        if (p.LcpEchoInterval > 0 && p.LcpEchoFailure == 0)
            v.Add("ppp.lcpEchoFailure", "0", "must be at least 1 when ppp.lcpEchoInterval is set (0 never declares the peer dead)");
        v.Check("ppp.linkNamePrefix", p.LinkNamePrefix, ConfigGrammar.LinkNamePrefix(p.LinkNamePrefix));
    }

    private static void ValidateEql(BundleConfig c, Collector v)
    {
        var e = c.Eql;
        v.Check("eql.device", e.Device, ConfigGrammar.InterfaceName(e.Device));
        Address("eql.address", e.Address, v);
        var prefix = -1;
        if (e.Netmask is null || e.Netmask.AddressFamily != AddressFamily.InterNetwork)
            v.Add("eql.netmask", e.Netmask?.ToString(), "expected an IPv4 netmask (e.g. 255.255.255.0)");
        else if ((prefix = PrefixOf(e.Netmask)) < 1)
            v.Add("eql.netmask", e.Netmask.ToString(), prefix == 0 ? "a netmask of 0.0.0.0 is not allowed"
                : "the netmask is not contiguous (its one bits must come first, e.g. 255.255.255.0)");
        if (prefix is >= 1 and <= 30 && e.Address?.AddressFamily == AddressFamily.InterNetwork)
        {
            var host = ToUInt(e.Address) & ~ToUInt(e.Netmask!);
            var hostMask = ~ToUInt(e.Netmask!);
            if (host == 0) v.Add("eql.address", e.Address.ToString(), $"is the network address of its /{prefix} subnet");
            else if (host == hostMask) v.Add("eql.address", e.Address.ToString(), $"is the broadcast address of its /{prefix} subnet");
        }
        Range("eql.mtu", e.Mtu, 68, 1500, v);
        if (e.Mtu != c.Ppp.Mtu)
            v.Add("eql.mtu", Str(e.Mtu), $"differs from ppp.mtu {c.Ppp.Mtu}: the EQL driver refuses to enslave a link whose MTU differs from the master's; set both to the same value");
        if (e.Priority <= 0) v.Add("eql.priority", Str(e.Priority), "must be greater than 0");
        foreach (var (link, priority) in e.LinkPriorities.OrderBy(kv => kv.Key))
        {
            var path = $"eql.linkPriorities.{link}";
            if (link is < 0 or > 3) v.Add(path, Str(priority), $"link {link} is out of range: slirp link numbers are 0-3");
            else if (!c.Links.IsDefault && !c.Links.Contains(link)) v.Add(path, Str(priority), $"link {link} is not in links ({string.Join(" ", c.Links)})");
            if (priority <= 0) v.Add(path, Str(priority), "must be greater than 0");
        }
    }

    private static void ValidateRoutes(RoutesConfig r, Collector v)
    {
        if (!r.RemoteLans.IsDefault)
        {
            for (var i = 0; i < r.RemoteLans.Length; i++) Network($"routes.remoteLans[{i}]", r.RemoteLans[i], v);
            foreach (var d in r.RemoteLans.Where(n => n is not null).GroupBy(n => n.ToString()).Where(g => g.Count() > 1))
                v.Add("routes.remoteLans", d.Key, "is listed more than once");
        }
        Network("routes.managementNetwork", r.ManagementNetwork, v);
        Address("routes.managementGateway", r.ManagementGateway, v);
        if (r.TcpReordering is int t) Range("routes.tcpReordering", t, 1, 300, v);
    }

    private static void ValidateSupervision(SupervisionConfig s, Collector v)
    {
        Duration("supervision.minBackoffSeconds", s.MinBackoff, v, min: 0.001, max: 3600);
        Duration("supervision.maxBackoffSeconds", s.MaxBackoff, v, min: 0.001, max: 86400);
        if (s.MinBackoff > s.MaxBackoff)
            v.Add("supervision.maxBackoffSeconds", Seconds(s.MaxBackoff), $"is smaller than supervision.minBackoffSeconds ({Seconds(s.MinBackoff)})");
        if (!(s.RandomFactor >= 0 && s.RandomFactor <= 1))
            v.Add("supervision.randomFactor", s.RandomFactor.ToString(CultureInfo.InvariantCulture), "must be between 0 and 1");
        Range("supervision.maxRestarts", s.MaxRestarts, 0, 1_000_000, v);
        Duration("supervision.restartWindowSeconds", s.RestartWindow, v, min: 1, max: ConfigParse.MaxSeconds);
        Duration("supervision.reconcileIntervalSeconds", s.ReconcileInterval, v, min: 0.1, max: 3600);
        Duration("supervision.linkUpTimeoutSeconds", s.LinkUpTimeout, v, min: 1, max: 3600);
        Duration("supervision.stopGraceSeconds", s.StopGrace, v, min: 0, max: 600);
    }

    private static void ValidateHealth(HealthConfig h, Collector v)
    {
        HealthTarget("health.target", h.Target ?? "", v);
        if (h.RemoteLanTarget is { } lan) HealthTarget("health.remoteLanTarget", lan, v);
        Duration("health.intervalSeconds", h.Interval, v, min: 1, max: 86400);
        Duration("health.timeoutSeconds", h.Timeout, v, min: 0.1, max: 3600);
        if (h.Timeout > h.Interval)
            v.Add("health.timeoutSeconds", Seconds(h.Timeout), $"is longer than health.intervalSeconds ({Seconds(h.Interval)})");
        Range("health.failuresBeforeRestart", h.FailuresBeforeRestart, 1, 1000, v);
        if (!(h.ImbalanceTolerance > 0 && h.ImbalanceTolerance < 1))
            v.Add("health.imbalanceTolerance", h.ImbalanceTolerance.ToString(CultureInfo.InvariantCulture), "must be greater than 0 and less than 1");
        Duration("health.imbalanceWindowSeconds", h.ImbalanceWindow, v, min: 1, max: 86400);
    }

    private static void HealthTarget(string key, string target, Collector v)
    {
        var (host, port, error) = ConfigParse.HostPort(target, defaultPort: null);
        if (error is not null) v.Add(key, target, $"{error} (e.g. 10.0.2.2:22)");
        else
        {
            v.Check(key, target, ConfigGrammar.Host(host));
            v.Check(key, target, ConfigGrammar.Port(port));
        }
    }

    /// <summary>
    /// <c>metrics.listen</c>: an IP literal and a port, nothing a resolver could change. Loopback is the safe
    /// choice (the endpoint has no authentication); another address is the operator's explicit decision.
    /// </summary>
    public static string? MetricsListenError(string listen, out IPEndPoint? endpoint)
    {
        endpoint = null;
        var colon = listen.LastIndexOf(':');
        if (colon <= 0) return "expected IP:PORT, e.g. 127.0.0.1:9477";
        var ip = listen[..colon];
        if (ip.StartsWith('[') && ip.EndsWith(']')) ip = ip[1..^1];
        else if (ip.Contains(':')) return "an IPv6 address needs brackets: [::1]:9477";
        if (!IPAddress.TryParse(ip, out var address) || ip.Contains('%')) return "expected an IP address literal, e.g. 127.0.0.1:9477";
        if (!int.TryParse(listen[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            return "the port must be 1-65535";
        endpoint = new IPEndPoint(address, port);
        return null;
    }

    private static void ValidateMetrics(MetricsConfig m, Collector v)
    {
        if (m.Listen is { } listen && MetricsListenError(listen, out _) is { } error) v.Add("metrics.listen", listen, error);
    }

    /// <summary>Serilog's level names.</summary>
    public static readonly string[] LogLevels = ["Verbose", "Debug", "Information", "Warning", "Error", "Fatal"];

    private static void ValidateControl(ControlConfig c, Collector v)
    {
        LocalPath("control.socketPath", c.SocketPath, v, ConfigGrammar.MaxSocketPathLength);
        if (c.LogFile is not null) LocalPath("control.logFile", c.LogFile, v);
        if (!LogLevels.Contains(c.LogLevel))
            v.Add("control.logLevel", c.LogLevel, $"expected one of {string.Join(", ", LogLevels)}");
    }

    private static void Endpoint(string path, SshEndpoint? e, Collector v)
    {
        if (e is null) { v.Add(path, null, "missing"); return; }
        var text = e.ToString();
        v.Check(path, text, ConfigGrammar.SshUser(e.User ?? ""));
        v.Check(path, text, ConfigGrammar.Host(e.Host ?? ""));
        v.Check(path, text, ConfigGrammar.Port(e.Port));
    }

    private static void LocalPath(string path, string? value, Collector v, int max = ConfigGrammar.MaxPathLength) =>
        v.Check(path, value, value is null ? "missing" : ConfigGrammar.SafePath(value, mustBeAbsolute: true, max));

    private static void Address(string path, IPAddress? a, Collector v)
    {
        if (a is null || a.AddressFamily != AddressFamily.InterNetwork) { v.Add(path, a?.ToString(), "expected an IPv4 address"); return; }
        var b = a.GetAddressBytes();
        if (a.Equals(IPAddress.Any)) v.Add(path, a.ToString(), "0.0.0.0 is not a usable address");
        else if (a.Equals(IPAddress.Broadcast)) v.Add(path, a.ToString(), "255.255.255.255 is not a usable address");
        else if (b[0] >= 224) v.Add(path, a.ToString(), "a multicast or reserved address is not usable here");
    }

    private static void Network(string path, Cidr? n, Collector v)
    {
        if (n is null || n.Network.AddressFamily != AddressFamily.InterNetwork) { v.Add(path, n?.ToString(), "expected an IPv4 network"); return; }
        if (n.PrefixLength is < 0 or > 32) { v.Add(path, n.ToString(), "the prefix length must be 0-32"); return; }
        var mask = n.PrefixLength == 0 ? 0u : uint.MaxValue << (32 - n.PrefixLength);
        var addr = ToUInt(n.Network);
        if ((addr & ~mask) != 0)
            v.Add(path, n.ToString(), $"host bits are set; the network is {FromUInt(addr & mask)}/{n.PrefixLength}");
    }

    private static void Range(string path, long value, long min, long max, Collector v)
    {
        if (value < min || value > max) v.Add(path, Str(value), $"must be {min}-{max}");
    }

    private static void Duration(string path, TimeSpan value, Collector v, double min, double max)
    {
        var s = value.TotalSeconds;
        if (s < min || s > max)
            v.Add(path, Seconds(value), min == 0 ? $"must be 0-{max} seconds" : min < 1 && min > 0 ? $"must be greater than 0 and at most {max} seconds" : $"must be {min}-{max} seconds");
    }

    /// <summary>Prefix length of a contiguous netmask, or -1.</summary>
    public static int PrefixOf(IPAddress mask)
    {
        var m = ToUInt(mask);
        var prefix = System.Numerics.BitOperations.PopCount(m);
        var expected = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
        return m == expected ? prefix : -1;
    }

    internal static uint ToUInt(IPAddress a)
    {
        var b = a.GetAddressBytes();
        return (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
    }

    internal static IPAddress FromUInt(uint u) => new([(byte)(u >> 24), (byte)(u >> 16), (byte)(u >> 8), (byte)u]);

    private static string Str(long n) => n.ToString(CultureInfo.InvariantCulture);
    internal static string Seconds(TimeSpan t) => t.TotalSeconds.ToString(CultureInfo.InvariantCulture);

    private sealed class Collector
    {
        public List<ConfigError> Errors { get; } = [];

        public void Add(string path, string? value, string message) => Errors.Add(new ConfigError(path, value, message));

        public void Check(string path, string? value, string? error)
        {
            if (error is not null) Add(path, value, error);
        }
    }
}
