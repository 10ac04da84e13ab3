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
    public static EventView From(IBundleEvent e)
    {
        var line = BundleEventLines.Of(e);
        return new(line.Kind, line.Link, line.Interface, line.Text, e.At);
    }

    public static string StoppedMessage(BundleStopped stopped) => BundleEventLines.StoppedMessage(stopped);
}
