using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using EqlActors.Configuration;

namespace EqlActors.Host.Configuration;

/// <summary>
/// One configuration key: its dotted path (as in <c>--set</c> and docs/configuration.md), how the loader reads it
/// into a <see cref="BundleConfig"/>, and how <see cref="ConfigJson"/> writes it back.
/// </summary>
public sealed record ConfigKey(
    string Path,
    Func<IKeyReader, BundleConfig, BundleConfig> Read,
    Action<Utf8JsonWriter, string, BundleConfig, bool> Write)
{
    public string Section => Path.Contains('.') ? Path[..Path.IndexOf('.')] : "";
    public string Leaf => Path[(Path.LastIndexOf('.') + 1)..];
}

/// <summary>What a key's reader may ask of the loader (each call records the path as known).</summary>
public interface IKeyReader
{
    T Scalar<T>(string path, T current, Func<string, (T Value, string? Error)> parse);
    string? Nullable(string path, string? current);
    int? NullableInt(string path, int? current);
    ImmutableArray<T> List<T>(string path, ImmutableArray<T> current, Func<string, (T Value, string? Error)> parse);
    ImmutableDictionary<int, long> Map(string path, ImmutableDictionary<int, long> current);
}

/// <summary>
/// The one table of configuration keys, in the order <c>config show</c> writes them. It drives reading
/// (<see cref="ConfigLoader"/>), writing (<see cref="ConfigJson"/>), unknown-key detection and did-you-mean (every key
/// not in it is unknown), and the docs test (every key in it is documented with its default).
/// </summary>
public static class ConfigKeys
{
    private static (string, string?) Text(string s) => (s, null);

    private static (SlirpAttach, string?) Attach(string s) =>
        s.Equals("unix", StringComparison.OrdinalIgnoreCase) ? (SlirpAttach.Unix, null)
        : s.Equals("tcp", StringComparison.OrdinalIgnoreCase) ? (SlirpAttach.Tcp, null)
        : (SlirpAttach.Unix, "expected unix or tcp");

    private static (string, string?) LogLevel(string s) =>
        ConfigValidator.LogLevels.FirstOrDefault(l => l.Equals(s, StringComparison.OrdinalIgnoreCase)) is { } level
            ? (level, null) : (s, $"expected one of {string.Join(", ", ConfigValidator.LogLevels)}");

    // Writers, by the JSON shape of the value.
    private static void Str(Utf8JsonWriter w, string name, string? v) { if (v is null) w.WriteNull(name); else w.WriteString(name, v); }
    private static void Num(Utf8JsonWriter w, string name, double v) => w.WriteNumber(name, v);
    private static void Bool(Utf8JsonWriter w, string name, bool v) => w.WriteBoolean(name, v);
    private static void Strs<T>(Utf8JsonWriter w, string name, IEnumerable<T> items)
    {
        w.WriteStartArray(name);
        foreach (var i in items) w.WriteStringValue(i!.ToString());
        w.WriteEndArray();
    }

    public static readonly IReadOnlyList<ConfigKey> All =
    [
        new("links", (r, c) => c with { Links = r.List("links", c.Links, ConfigParse.Int) },
            (w, n, c, _) => { w.WriteStartArray(n); foreach (var l in c.Links) w.WriteNumberValue(l); w.WriteEndArray(); }),
        new("singleLink", (r, c) => c with { SingleLink = r.Scalar("singleLink", c.SingleLink, ConfigParse.Bool) }, (w, n, c, _) => Bool(w, n, c.SingleLink)),

        new("remote.account", (r, c) => c with { Remote = c.Remote with { Account = r.Scalar("remote.account", c.Remote.Account, ConfigParse.Endpoint) } },
            (w, n, c, _) => Str(w, n, c.Remote.Account.ToString())),
        new("remote.jumpHosts", (r, c) => c with { Remote = c.Remote with { JumpHosts = r.List("remote.jumpHosts", c.Remote.JumpHosts, ConfigParse.Endpoint) } },
            (w, n, c, _) => Strs(w, n, c.Remote.JumpHosts)),
        new("remote.slirpCommand", (r, c) => c with { Remote = c.Remote with { SlirpCommand = r.Scalar("remote.slirpCommand", c.Remote.SlirpCommand, Text) } },
            (w, n, c, _) => Str(w, n, c.Remote.SlirpCommand)),
        new("remote.attach", (r, c) => c with { Remote = c.Remote with { Attach = r.Scalar("remote.attach", c.Remote.Attach, Attach) } },
            (w, n, c, _) => Str(w, n, c.Remote.Attach.ToString().ToLowerInvariant())),
        new("remote.tcpPort", (r, c) => c with { Remote = c.Remote with { TcpPort = r.Scalar("remote.tcpPort", c.Remote.TcpPort, ConfigParse.Int) } },
            (w, n, c, _) => Num(w, n, c.Remote.TcpPort)),
        new("remote.tcpPassword", (r, c) => c with { Remote = c.Remote with { TcpPassword = r.Nullable("remote.tcpPassword", c.Remote.TcpPassword) } },
            (w, n, c, reveal) => Str(w, n, c.Remote.TcpPassword is null ? null : reveal ? c.Remote.TcpPassword : Secrets.Mask)),
        new("remote.sshPath", (r, c) => c with { Remote = c.Remote with { SshPath = r.Scalar("remote.sshPath", c.Remote.SshPath, Text) } },
            (w, n, c, _) => Str(w, n, c.Remote.SshPath)),
        new("remote.identityFile", (r, c) => c with { Remote = c.Remote with { IdentityFile = r.Scalar("remote.identityFile", c.Remote.IdentityFile, Text) } },
            (w, n, c, _) => Str(w, n, c.Remote.IdentityFile)),
        new("remote.knownHostsFile", (r, c) => c with { Remote = c.Remote with { KnownHostsFile = r.Scalar("remote.knownHostsFile", c.Remote.KnownHostsFile, Text) } },
            (w, n, c, _) => Str(w, n, c.Remote.KnownHostsFile)),
        new("remote.acceptNewHostKeys", (r, c) => c with { Remote = c.Remote with { AcceptNewHostKeys = r.Scalar("remote.acceptNewHostKeys", c.Remote.AcceptNewHostKeys, ConfigParse.Bool) } },
            (w, n, c, _) => Bool(w, n, c.Remote.AcceptNewHostKeys)),
        new("remote.connectTimeoutSeconds", (r, c) => c with { Remote = c.Remote with { ConnectTimeout = r.Scalar("remote.connectTimeoutSeconds", c.Remote.ConnectTimeout, ConfigParse.Seconds) } },
            (w, n, c, _) => Num(w, n, c.Remote.ConnectTimeout.TotalSeconds)),
        new("remote.sshKexAlgorithms", (r, c) => c with { Remote = c.Remote with { SshKexAlgorithms = r.Nullable("remote.sshKexAlgorithms", c.Remote.SshKexAlgorithms) ?? "" } },
            (w, n, c, _) => Str(w, n, c.Remote.SshKexAlgorithms)),
        new("remote.reuseConnection", (r, c) => c with { Remote = c.Remote with { ReuseConnection = r.Scalar("remote.reuseConnection", c.Remote.ReuseConnection, ConfigParse.Bool) } },
            (w, n, c, _) => Bool(w, n, c.Remote.ReuseConnection)),
        new("remote.keepAliveIntervalSeconds", (r, c) => c with { Remote = c.Remote with { KeepAliveInterval = r.Scalar("remote.keepAliveIntervalSeconds", c.Remote.KeepAliveInterval, ConfigParse.Seconds) } },
            (w, n, c, _) => Num(w, n, c.Remote.KeepAliveInterval.TotalSeconds)),

        new("ppp.pppdPath", (r, c) => c with { Ppp = c.Ppp with { PppdPath = r.Scalar("ppp.pppdPath", c.Ppp.PppdPath, Text) } }, (w, n, c, _) => Str(w, n, c.Ppp.PppdPath)),
        new("ppp.mtu", (r, c) => c with { Ppp = c.Ppp with { Mtu = r.Scalar("ppp.mtu", c.Ppp.Mtu, ConfigParse.Int) } }, (w, n, c, _) => Num(w, n, c.Ppp.Mtu)),
        new("ppp.localAddress", (r, c) => c with { Ppp = c.Ppp with { LocalAddress = r.Scalar("ppp.localAddress", c.Ppp.LocalAddress, ConfigParse.Ipv4) } },
            (w, n, c, _) => Str(w, n, c.Ppp.LocalAddress.ToString())),
        new("ppp.remoteAddress", (r, c) => c with { Ppp = c.Ppp with { RemoteAddress = r.Scalar("ppp.remoteAddress", c.Ppp.RemoteAddress, ConfigParse.Ipv4) } },
            (w, n, c, _) => Str(w, n, c.Ppp.RemoteAddress.ToString())),
        new("ppp.extraOptions", (r, c) => c with { Ppp = c.Ppp with { ExtraOptions = r.List("ppp.extraOptions", c.Ppp.ExtraOptions, Text) } }, (w, n, c, _) => Strs(w, n, c.Ppp.ExtraOptions)),
        new("ppp.lcpEchoInterval", (r, c) => c with { Ppp = c.Ppp with { LcpEchoInterval = r.Scalar("ppp.lcpEchoInterval", c.Ppp.LcpEchoInterval, ConfigParse.Int) } },
            (w, n, c, _) => Num(w, n, c.Ppp.LcpEchoInterval)),
        new("ppp.lcpEchoFailure", (r, c) => c with { Ppp = c.Ppp with { LcpEchoFailure = r.Scalar("ppp.lcpEchoFailure", c.Ppp.LcpEchoFailure, ConfigParse.Int) } },
            (w, n, c, _) => Num(w, n, c.Ppp.LcpEchoFailure)),
        new("ppp.linkNamePrefix", (r, c) => c with { Ppp = c.Ppp with { LinkNamePrefix = r.Scalar("ppp.linkNamePrefix", c.Ppp.LinkNamePrefix, Text) } },
            (w, n, c, _) => Str(w, n, c.Ppp.LinkNamePrefix)),

        new("eql.device", (r, c) => c with { Eql = c.Eql with { Device = r.Scalar("eql.device", c.Eql.Device, Text) } }, (w, n, c, _) => Str(w, n, c.Eql.Device)),
        new("eql.address", (r, c) => c with { Eql = c.Eql with { Address = r.Scalar("eql.address", c.Eql.Address, ConfigParse.Ipv4) } }, (w, n, c, _) => Str(w, n, c.Eql.Address.ToString())),
        new("eql.netmask", (r, c) => c with { Eql = c.Eql with { Netmask = r.Scalar("eql.netmask", c.Eql.Netmask, ConfigParse.Ipv4) } }, (w, n, c, _) => Str(w, n, c.Eql.Netmask.ToString())),
        new("eql.mtu", (r, c) => c with { Eql = c.Eql with { Mtu = r.Scalar("eql.mtu", c.Eql.Mtu, ConfigParse.Int) } }, (w, n, c, _) => Num(w, n, c.Eql.Mtu)),
        new("eql.priority", (r, c) => c with { Eql = c.Eql with { Priority = r.Scalar("eql.priority", c.Eql.Priority, ConfigParse.Long) } }, (w, n, c, _) => w.WriteNumber(n, c.Eql.Priority)),
        new("eql.linkPriorities", (r, c) => c with { Eql = c.Eql with { LinkPriorities = r.Map("eql.linkPriorities", c.Eql.LinkPriorities) } },
            (w, n, c, _) =>
            {
                w.WriteStartObject(n);
                foreach (var (link, priority) in c.Eql.LinkPriorities.OrderBy(kv => kv.Key)) w.WriteNumber(link.ToString(CultureInfo.InvariantCulture), priority);
                w.WriteEndObject();
            }),

        new("routes.remoteLans", (r, c) => c with { Routes = c.Routes with { RemoteLans = r.List("routes.remoteLans", c.Routes.RemoteLans, ConfigParse.Cidr) } },
            (w, n, c, _) => Strs(w, n, c.Routes.RemoteLans)),
        new("routes.managementRoute", (r, c) => c with { Routes = c.Routes with { ManagementRoute = r.Scalar("routes.managementRoute", c.Routes.ManagementRoute, ConfigParse.Bool) } },
            (w, n, c, _) => Bool(w, n, c.Routes.ManagementRoute)),
        new("routes.managementNetwork", (r, c) => c with { Routes = c.Routes with { ManagementNetwork = r.Scalar("routes.managementNetwork", c.Routes.ManagementNetwork, ConfigParse.Cidr) } },
            (w, n, c, _) => Str(w, n, c.Routes.ManagementNetwork.ToString())),
        new("routes.managementGateway", (r, c) => c with { Routes = c.Routes with { ManagementGateway = r.Scalar("routes.managementGateway", c.Routes.ManagementGateway, ConfigParse.Ipv4) } },
            (w, n, c, _) => Str(w, n, c.Routes.ManagementGateway.ToString())),
        new("routes.tcpReordering", (r, c) => c with { Routes = c.Routes with { TcpReordering = r.NullableInt("routes.tcpReordering", c.Routes.TcpReordering) } },
            (w, n, c, _) => { if (c.Routes.TcpReordering is int t) w.WriteNumber(n, t); else w.WriteNull(n); }),

        new("supervision.minBackoffSeconds", (r, c) => c with { Supervision = c.Supervision with { MinBackoff = r.Scalar("supervision.minBackoffSeconds", c.Supervision.MinBackoff, ConfigParse.Seconds) } },
            (w, n, c, _) => Num(w, n, c.Supervision.MinBackoff.TotalSeconds)),
        new("supervision.maxBackoffSeconds", (r, c) => c with { Supervision = c.Supervision with { MaxBackoff = r.Scalar("supervision.maxBackoffSeconds", c.Supervision.MaxBackoff, ConfigParse.Seconds) } },
            (w, n, c, _) => Num(w, n, c.Supervision.MaxBackoff.TotalSeconds)),
        new("supervision.randomFactor", (r, c) => c with { Supervision = c.Supervision with { RandomFactor = r.Scalar("supervision.randomFactor", c.Supervision.RandomFactor, ConfigParse.Number) } },
            (w, n, c, _) => Num(w, n, c.Supervision.RandomFactor)),
        new("supervision.maxRestarts", (r, c) => c with { Supervision = c.Supervision with { MaxRestarts = r.Scalar("supervision.maxRestarts", c.Supervision.MaxRestarts, ConfigParse.Int) } },
            (w, n, c, _) => Num(w, n, c.Supervision.MaxRestarts)),
        new("supervision.restartWindowSeconds", (r, c) => c with { Supervision = c.Supervision with { RestartWindow = r.Scalar("supervision.restartWindowSeconds", c.Supervision.RestartWindow, ConfigParse.Seconds) } },
            (w, n, c, _) => Num(w, n, c.Supervision.RestartWindow.TotalSeconds)),
        new("supervision.reconcileIntervalSeconds", (r, c) => c with { Supervision = c.Supervision with { ReconcileInterval = r.Scalar("supervision.reconcileIntervalSeconds", c.Supervision.ReconcileInterval, ConfigParse.Seconds) } },
            (w, n, c, _) => Num(w, n, c.Supervision.ReconcileInterval.TotalSeconds)),
        new("supervision.linkUpTimeoutSeconds", (r, c) => c with { Supervision = c.Supervision with { LinkUpTimeout = r.Scalar("supervision.linkUpTimeoutSeconds", c.Supervision.LinkUpTimeout, ConfigParse.Seconds) } },
            (w, n, c, _) => Num(w, n, c.Supervision.LinkUpTimeout.TotalSeconds)),
        new("supervision.stopGraceSeconds", (r, c) => c with { Supervision = c.Supervision with { StopGrace = r.Scalar("supervision.stopGraceSeconds", c.Supervision.StopGrace, ConfigParse.Seconds) } },
            (w, n, c, _) => Num(w, n, c.Supervision.StopGrace.TotalSeconds)),

        new("health.enabled", (r, c) => c with { Health = c.Health with { Enabled = r.Scalar("health.enabled", c.Health.Enabled, ConfigParse.Bool) } }, (w, n, c, _) => Bool(w, n, c.Health.Enabled)),
        new("health.target", (r, c) => c with { Health = c.Health with { Target = r.Scalar("health.target", c.Health.Target, Text) } }, (w, n, c, _) => Str(w, n, c.Health.Target)),
        new("health.remoteLanTarget", (r, c) => c with { Health = c.Health with { RemoteLanTarget = r.Nullable("health.remoteLanTarget", c.Health.RemoteLanTarget) } },
            (w, n, c, _) => Str(w, n, c.Health.RemoteLanTarget)),
        new("health.intervalSeconds", (r, c) => c with { Health = c.Health with { Interval = r.Scalar("health.intervalSeconds", c.Health.Interval, ConfigParse.Seconds) } },
            (w, n, c, _) => Num(w, n, c.Health.Interval.TotalSeconds)),
        new("health.timeoutSeconds", (r, c) => c with { Health = c.Health with { Timeout = r.Scalar("health.timeoutSeconds", c.Health.Timeout, ConfigParse.Seconds) } },
            (w, n, c, _) => Num(w, n, c.Health.Timeout.TotalSeconds)),
        new("health.failuresBeforeRestart", (r, c) => c with { Health = c.Health with { FailuresBeforeRestart = r.Scalar("health.failuresBeforeRestart", c.Health.FailuresBeforeRestart, ConfigParse.Int) } },
            (w, n, c, _) => Num(w, n, c.Health.FailuresBeforeRestart)),
        new("health.imbalanceTolerance", (r, c) => c with { Health = c.Health with { ImbalanceTolerance = r.Scalar("health.imbalanceTolerance", c.Health.ImbalanceTolerance, ConfigParse.Number) } },
            (w, n, c, _) => Num(w, n, c.Health.ImbalanceTolerance)),
        new("health.imbalanceWindowSeconds", (r, c) => c with { Health = c.Health with { ImbalanceWindow = r.Scalar("health.imbalanceWindowSeconds", c.Health.ImbalanceWindow, ConfigParse.Seconds) } },
            (w, n, c, _) => Num(w, n, c.Health.ImbalanceWindow.TotalSeconds)),

        new("control.socketPath", (r, c) => c with { Control = c.Control with { SocketPath = r.Scalar("control.socketPath", c.Control.SocketPath, Text) } }, (w, n, c, _) => Str(w, n, c.Control.SocketPath)),
        new("control.logFile", (r, c) => c with { Control = c.Control with { LogFile = r.Nullable("control.logFile", c.Control.LogFile) } }, (w, n, c, _) => Str(w, n, c.Control.LogFile)),
        new("control.logLevel", (r, c) => c with { Control = c.Control with { LogLevel = r.Scalar("control.logLevel", c.Control.LogLevel, LogLevel) } }, (w, n, c, _) => Str(w, n, c.Control.LogLevel)),

        new("metrics.listen", (r, c) => c with { Metrics = c.Metrics with { Listen = r.Nullable("metrics.listen", c.Metrics.Listen) } }, (w, n, c, _) => Str(w, n, c.Metrics.Listen)),
    ];

    /// <summary>The sections, in table order (<c>remote</c>, <c>ppp</c>, ...).</summary>
    public static IReadOnlyList<string> Sections { get; } = [.. All.Select(k => k.Section).Where(s => s.Length > 0).Distinct()];
}
