using System.Net;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using EqlActors.Configuration;
using EqlActors.Host.Control;
using EqlActors.Messages;
using EqlActors.Simulation;

namespace EqlActors.Tests.Control;

/// <summary>
/// The control protocol's status object is the bundle's own status records (one link table, one route type), and
/// docs/operations.md describes every field, phase, event kind and simulate-fault name they have: one added in one
/// place and not the other fails here.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class ProtocolDocsTests
{
    private static string Repo([CallerFilePath] string here = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));

    private static string Operations => File.ReadAllText(Path.Combine(Repo(), "docs", "operations.md"));

    /// <summary>The <c>STATUS</c> paragraph of the protocol section.</summary>
    private static string StatusParagraph
    {
        get
        {
            var doc = Operations;
            var start = doc.IndexOf("`STATUS`:", StringComparison.Ordinal);
            Assert.True(start >= 0, "operations.md has no `STATUS`: paragraph");
            var end = doc.IndexOf("\n\n", start, StringComparison.Ordinal);
            return doc[start..end];
        }
    }

    private static readonly DateTimeOffset At = new(2026, 12, 1, 18, 0, 0, TimeSpan.Zero);

    /// <summary>A status with every field set (checked by reflection, so that a new field cannot hide as null).</summary>
    private static StatusView Full()
    {
        var probe = new ProbeResult(true, 0.05, "echo", At);
        var link = new LinkStatus(1, LinkPhase.Up, 42, "ppp1", true, 2, "modem hangup", 1000, 0.5)
        {
            Failures = new Dictionary<string, long> { [FailureClass.Hangup] = 2 },
            LastChange = At.AddSeconds(-10),
            SecondsSinceChange = 10,
            Counters = new LinkCounters(1, 2, 3, 4),
            Probe = probe,
            LastErrorAt = At.AddSeconds(-11),
            LastErrorClass = FailureClass.Hangup,
        };
        var route = new Route(new Cidr(IPAddress.Parse("10.0.2.0"), 24), "eql", IPAddress.Parse("10.0.2.2"), OnLink: true);
        var bundle = new BundleStatus("bundle", BundlePhase.Running, true, [link], new MasterStatus("eql", true), [new RouteStatus(route, true)], "30", At)
        {
            Stats = new BundleStats(1, 2, 3, 4.5, 1.5, probe, "reachable"),
        };
        var status = StatusView.From(bundle, configured: 1);
        foreach (var record in new object[] { status, status.Links[0], status.Routes[0], status.Stats!, probe })
            Assert.All(record.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance), p => Assert.True(p.GetValue(record) is not null, $"{record.GetType().Name}.{p.Name} not set in the test's status"));
        return status;
    }

    private static IEnumerable<string> Names(JsonElement e, string? parent = null)
    {
        if (e.ValueKind == JsonValueKind.Array)
            return e.EnumerateArray().SelectMany(x => Names(x, parent));
        if (e.ValueKind != JsonValueKind.Object || parent == "failures") return [];
        return e.EnumerateObject().SelectMany(p => Names(p.Value, p.Name).Prepend(p.Name));
    }

    [Fact]
    public void Every_field_of_the_status_object_is_documented()
    {
        using var json = JsonDocument.Parse(ControlProtocol.Serialize(Full()));
        var paragraph = StatusParagraph;

        var missing = Names(json.RootElement).Distinct().Where(n => !Regex.IsMatch(paragraph, $@"\b{n}\b")).ToList();

        Assert.Empty(missing);
        Assert.Contains("lastErrorClass", Names(json.RootElement));
    }

    [Fact]
    public void Every_link_and_bundle_phase_is_documented_as_it_is_written()
    {
        var paragraph = StatusParagraph;
        var phases = Enum.GetValues<LinkPhase>().Select(p => ControlProtocol.Serialize(p)).Concat(Enum.GetValues<BundlePhase>().Select(p => ControlProtocol.Serialize(p)));

        Assert.All(phases, p => Assert.Contains(p.Trim('"'), paragraph));
    }

    [Fact]
    public void The_client_reads_back_exactly_what_the_daemon_writes()
    {
        var written = ControlProtocol.Serialize(Full());

        var read = ControlProtocol.Deserialize<StatusView>(written)!;

        Assert.Equal(written, ControlProtocol.Serialize(read));
    }

    /// <summary>An instance of an event record with plain values: names, numbers, empty collections.</summary>
    private static IBundleEvent Sample(Type type)
    {
        var ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        object? Value(Type t) =>
            t == typeof(string) ? "x"
            : t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>) ? Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(t.GetGenericArguments()))
            : t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) ? Array.CreateInstance(t.GetGenericArguments()[0], 0)
            : t == typeof(Route) ? new Route(new Cidr(IPAddress.Parse("10.0.2.0"), 24), "eql")
            : t.IsValueType ? Activator.CreateInstance(t)
            : null;
        return (IBundleEvent)ctor.Invoke([.. ctor.GetParameters().Select(p => Value(p.ParameterType))]);
    }

    [Fact]
    public void Every_bundle_event_has_a_kind_of_its_own_and_the_doc_lists_exactly_those()
    {
        var events = typeof(IBundleEvent).Assembly.GetTypes().Where(t => typeof(IBundleEvent).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false }).ToList();
        var doc = Operations;
        var kindsAt = doc.IndexOf("Kinds: ", StringComparison.Ordinal);
        var documented = Regex.Matches(doc[kindsAt..doc.IndexOf(". A `start`", kindsAt, StringComparison.Ordinal)], "`([a-z-]+)`").Select(m => m.Groups[1].Value).ToList();

        var kinds = events.ToDictionary(t => t.Name, t => BundleEventLines.Of(Sample(t)).Kind);

        Assert.Contains(nameof(LinkDiagnosed), kinds.Keys);
        Assert.All(kinds, k => Assert.Matches("^[a-z]+(-[a-z]+)+$", k.Value));
        Assert.Equal(kinds.Count, kinds.Values.Distinct().Count());
        Assert.Equal(kinds.Values.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_simulate_fault_name_is_documented()
    {
        var row = Operations.Split('\n').Single(l => l.StartsWith("| `simulate-fault` |", StringComparison.Ordinal));

        Assert.Contains("`FaultKind`", row);
        Assert.All(Enum.GetNames<SimulatedCondition>(), n => Assert.Contains($"`{n}`", row));
        Assert.Equal(Enum.GetNames<FaultKind>().Length + Enum.GetNames<SimulatedCondition>().Length, ControlServer.SimulatedFaultNames.Distinct().Count());
    }
}
