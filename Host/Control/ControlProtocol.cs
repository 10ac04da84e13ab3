using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using EqlActors.Messages;

namespace EqlActors.Host.Control;

/// <summary>
/// The control protocol: newline-delimited JSON over a Unix stream socket, one request object per line, answered
/// by one or more response lines (a <c>start</c> streams <c>event</c> lines before its final line). Documented in
/// docs/operations.md; keep the two in step.
/// </summary>
public static class ControlProtocol
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        WriteIndented = false,
    };

    /// <summary>Longest request line accepted; anything longer is a protocol error and closes the connection.</summary>
    public const int MaxRequestBytes = 4096;

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Json);

    public static T? Deserialize<T>(string line) => JsonSerializer.Deserialize<T>(line, Json);
}

public static class Requests
{
    public const string Hello = "hello";
    public const string Status = "status";
    public const string Start = "start";
    public const string Stop = "stop";
    public const string RestartLink = "restart-link";
    public const string RestartParked = "restart-parked";
    /// <summary>Only with <c>run --simulated</c>: injects one fault into the simulated world (tests, demos).</summary>
    public const string SimulateFault = "simulate-fault";
}

/// <summary>One request line: <c>{"request":"restart-link","link":1}</c>.</summary>
public sealed record ControlRequest(string Request, int? Link = null, double? TimeoutSeconds = null, string? Fault = null);

/// <summary>
/// One response line. <see cref="Type"/>: <c>hello</c>, <c>status</c>, <c>event</c>, <c>ready</c>, <c>timeout</c>,
/// <c>stopped</c>, <c>ok</c> or <c>error</c> (with <see cref="Code"/>: <c>forbidden</c>, <c>bad-request</c>,
/// <c>unknown-request</c>, <c>failed</c>).
/// </summary>
public sealed record ControlResponse(string Type)
{
    public string? Code { get; init; }
    public string? Message { get; init; }
    public DaemonInfo? Daemon { get; init; }
    public StatusView? Status { get; init; }
    public EventView? Event { get; init; }

    public static ControlResponse Error(string code, string message) => new("error") { Code = code, Message = message };
}

public sealed record DaemonInfo(int Pid, string Version, bool Simulated, string SocketPath, DateTimeOffset StartedAt);

public sealed record RouteView(string Destination, string Device, string? Gateway, bool Present);

public sealed record StatusView(
    string Bundle,
    BundlePhase Phase,
    bool Ready,
    int Configured,
    int Enslaved,
    IReadOnlyList<LinkStatus> Links,
    string Master,
    bool MasterUp,
    IReadOnlyList<RouteView> Routes,
    string? TcpReordering,
    DateTimeOffset At)
{
    /// <summary>The bundle's own counters: reconcile passes, imbalances healed, recoveries, the remote LAN probe.</summary>
    public BundleStats? Stats { get; init; }

    /// <summary>The HOWTO's verdict: every configured link enslaved.</summary>
    public bool Up => Enslaved == Configured && Configured > 0;

    public static StatusView From(BundleStatus s, int configured) => new(
        s.Bundle,
        s.Phase,
        s.Ready,
        configured,
        s.Links.Count(l => l.Enslaved),
        s.Links,
        s.Master.Device,
        s.Master.Up,
        [.. s.Routes.Select(r => new RouteView(r.Route.Destination.ToString(), r.Route.Device, r.Route.Gateway?.ToString(), r.Present))],
        s.TcpReordering,
        s.At)
    {
        Stats = s.Stats,
    };
}

/// <summary>A bundle event as one JSON object: its kind, the link it concerns (if any) and one human line.</summary>
public sealed record EventView(string Kind, int? Link, string? Interface, string Text, DateTimeOffset At)
{
    public static EventView From(IBundleEvent e) => e switch
    {
        BundleStarting x => new("bundle-starting", null, null, "bundle starting", x.At),
        RemotePrepared x => new("remote-prepared", null, null, $"host_B prepared ({x.StaleKilled} stale slirp killed)", x.At),
        RemotePreparationFailed x => new("remote-preparation-failed", null, null, $"host_B preparation failed{(x.Permanent ? " (permanent)" : "")}: {x.Reason}", x.At),
        LinkAdopted x => new("link-adopted", x.Link, x.Interface, $"link {x.Link} adopted (pppd {x.Pid}{(x.Interface is null ? "" : " on " + x.Interface)})", x.At),
        LinkStarting x => new("link-starting", x.Link, null, $"link {x.Link} starting (pppd {x.Pid})", x.At),
        LinkUp x => new("link-up", x.Link, x.Interface, $"link {x.Link} up on {x.Interface}", x.At),
        LinkDown x => new("link-down", x.Link, null, $"link {x.Link} down{(x.Permanent ? " (permanent)" : "")}: {x.Reason}", x.At),
        LinkParked x => new("link-parked", x.Link, null, $"link {x.Link} parked: {x.Reason}", x.At),
        LinkStopped x => new("link-stopped", x.Link, null, $"link {x.Link} stopped", x.At),
        EqlMasterUp x => new("eql-master-up", null, x.Device, $"{x.Device} master up{(x.Restored ? " (restored)" : "")}", x.At),
        EqlMasterLost x => new("eql-master-lost", null, x.Device, $"{x.Device} master lost: {x.Reason}", x.At),
        SlaveEnslaved x => new("link-enslaved", x.Link, x.Interface, $"link {x.Link} enslaved ({x.Interface}, priority {x.Priority})", x.At),
        SlaveReleased x => new("link-released", x.Link, x.Interface, $"link {x.Link} released ({x.Interface})", x.At),
        UploadImbalanced x => new("upload-imbalanced", null, null,
            "upload imbalanced: " + string.Join(", ", x.Shares.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value.ToString("P0", CultureInfo.InvariantCulture)}")), x.At),
        UploadRebalanced x => new("upload-rebalanced", null, null, $"upload rebalanced over {x.Slaves} slaves", x.At),
        RouteAdded x => new("route-added", null, x.Route.Device, $"route {x.Route} {(x.Restored ? "restored" : "added")}", x.At),
        SysctlSet x => new("sysctl-set", null, null, $"{x.Key} = {x.Value}", x.At),
        BundleReady x => new("bundle-ready", null, null, "EQL ready", x.At),
        BundleDegraded x => new("bundle-degraded", null, null, $"EQL degraded: {x.Reason}", x.At),
        BundleRecovered x => new("bundle-recovered", null, null, $"EQL recovered after {x.Took.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s", x.At),
        LinkProbeFailed x => new("link-probe-failed", x.Link, null, $"link {x.Link} end-to-end probe failed ({x.Failures} in a row): {x.Reason}", x.At),
        RemoteLanUnreachable x => new("remote-lan-unreachable", null, null, $"remote LAN target {x.Target} unreachable from host_B: {x.Reason}", x.At),
        BundleStopped x => new("bundle-stopped", null, null, StoppedMessage(x), x.At),
        _ => new(e.GetType().Name, null, null, e.GetType().Name, e.At),
    };

    public static string StoppedMessage(BundleStopped stopped) => stopped.LinksNotStopped.Count == 0
        ? "EQL stopped"
        : $"EQL stopped, but links {string.Join(",", stopped.LinksNotStopped)} did not confirm their stop: their pppd may still run";
}
