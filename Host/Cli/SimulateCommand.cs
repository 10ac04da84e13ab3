using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EqlActors.Configuration;
using EqlActors.Simulation;

namespace EqlActors.Host.Cli;

/// <summary><c>eqlactors simulate</c>: the whole actor tree on the simulated system, in virtual time, with injected faults.</summary>
public static class SimulateCommand
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true };

    public static Command Build()
    {
        var links = new Option<int>("--links") { Description = "Links per bundle (1-4)", DefaultValueFactory = _ => 3 };
        var faults = new Option<int>("--faults") { Description = "Faults to inject, one at a time", DefaultValueFactory = _ => 30 };
        var seed = new Option<int>("--seed") { Description = "Seed of every random choice", DefaultValueFactory = _ => 42 };
        var duration = new Option<string>("--duration") { Description = "Simulated time to spread the faults over (90s, 15m, 2h, 1d)", DefaultValueFactory = _ => "2h" };
        var stock = new Option<bool>("--stock-slirp") { Description = "host_B runs the stock slirp that drops unit 0 whenever any unit goes down" };
        var priority = new Option<long>("--priority") { Description = "EQL slave priority (1 is the HOWTO's and never decays)", DefaultValueFactory = _ => new EqlConfig().Priority };
        var bundles = new Option<int>("--bundles") { Description = "Bundles to simulate, each on its own simulated host pair", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object with the results instead of the timeline" };
        var trace = new Option<FileInfo?>("--trace") { Description = "Write the whole event timeline to FILE (the same seed and options write the same file)" };

        var command = new Command("simulate", "Run the whole actor tree on the built-in simulated system with injected faults (exit 0: every fault recovered, nothing leaked)");
        foreach (var option in new Option[] { links, faults, seed, duration, stock, priority, bundles, json, trace }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var errors = new List<string>();
            var linkCount = parse.GetValue(links);
            if (linkCount is < 1 or > 4) errors.Add("--links must be 1 to 4 (slirp's MAX_INTERFACES)");
            var faultCount = parse.GetValue(faults);
            if (faultCount < 0) errors.Add("--faults must not be negative");
            var bundleCount = parse.GetValue(bundles);
            if (bundleCount is < 1 or > 256) errors.Add("--bundles must be 1 to 256");
            var prio = parse.GetValue(priority);
            if (prio < 1) errors.Add("--priority must be at least 1");
            if (faultCount > MaxFaults) errors.Add($"--faults must be at most {MaxFaults}");
            if (!TryParseDuration(parse.GetValue(duration) ?? "", out var span) || span <= TimeSpan.Zero) errors.Add("--duration must look like 90s, 15m, 2h or 1d");
            // An explicit --duration is honoured or refused, never silently overrun; the default stretches instead.
            else if (parse.GetResult(duration) is { Implicit: false } && faultCount > FaultsThatFit(span))
                errors.Add($"--faults {faultCount} do not fit in --duration {parse.GetValue(duration)}: each fault and its recovery take up to " +
                           $"{PerFault.TotalSeconds:0} s of simulated time after a {Warmup.TotalSeconds:0} s warm-up, so at most {FaultsThatFit(span)} fit; " +
                           $"give --duration {Math.Ceiling((Warmup + PerFault * faultCount).TotalMinutes):0}m or more, or leave it out");
            // The simulation builds its own configuration from these options: a --config or --set would be ignored.
            foreach (var ignored in new Option[] { EqlActorsCli.ConfigOption, EqlActorsCli.SetOption })
                if (parse.GetResult(ignored) is { Implicit: false })
                    errors.Add($"{ignored.Name} is not read by simulate (it builds its own configuration from --links, --priority and --stock-slirp)");
            if (errors.Count > 0)
            {
                foreach (var e in errors) Console.Error.WriteLine($"eqlactors simulate: {e}");
                return EqlActorsCli.InvalidConfiguration;
            }

            var asJson = parse.GetValue(json);
            var run = new SimulationRun
            {
                Links = linkCount,
                Faults = faultCount,
                Seed = parse.GetValue(seed),
                Duration = span,
                StockSlirp = parse.GetValue(stock),
                Priority = prio,
                Bundles = bundleCount,
            };
            var traceFile = parse.GetValue(trace);
            using var traceWriter = traceFile is null ? null : new StreamWriter(traceFile.FullName, append: false) { NewLine = "\n" };
            var wall = Stopwatch.StartNew();
            Action<string>? timeline = (asJson, traceWriter) switch
            {
                (true, null) => Progress(faultCount, wall),
                (true, { } w) => Both(w.WriteLine, Progress(faultCount, wall)),
                (false, null) => Console.WriteLine,
                (false, { } w) => line =>
                {
                    Console.WriteLine(line);
                    w.WriteLine(line);
                },
            };
            var report = new SimulationRunner(run, timeline).Run();
            wall.Stop();
            traceWriter?.Flush();
            if (asJson) Console.WriteLine(JsonSerializer.Serialize(report, Json));
            else PrintSummary(report);
            // Wall time on stderr: stdout is the replay, the same bytes for the same seed and options.
            Console.Error.WriteLine(WallLine(wall.Elapsed));
            if (!report.Success)
                Console.Error.WriteLine($"eqlactors simulate: failed; replay this exact run with: {run.ReplayCommand(traceFile?.FullName ?? "replay.trace")}");
            return report.Success ? EqlActorsCli.Ok : EqlActorsCli.Failed;
        });
        return command;
    }

    public const int MaxFaults = 10_000;
    private static readonly TimeSpan Warmup = new SimulationRun().Warmup;
    private static readonly TimeSpan PerFault = TimeSpan.FromSeconds(30);

    private static int FaultsThatFit(TimeSpan duration) => (int)Math.Max(0, (duration - Warmup) / PerFault);

    /// <summary>How often a long run without a timeline (--json) says how far it is, on stderr.</summary>
    internal static TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// With --json nothing else is printed until the end: every <see cref="ProgressInterval"/> of wall time, one line
    /// on stderr counts the faults injected so far (from the runner's own timeline lines).
    /// </summary>
    private static Action<string> Both(Action<string> first, Action<string> second) => line =>
    {
        first(line);
        second(line);
    };

    private static Action<string> Progress(int faults, Stopwatch wall)
    {
        var injected = 0;
        var last = TimeSpan.Zero;
        return line =>
        {
            if (line.Contains("FAULT #", StringComparison.Ordinal)) injected++;
            if (wall.Elapsed - last < ProgressInterval) return;
            last = wall.Elapsed;
            Console.Error.WriteLine($"eqlactors simulate: {injected}/{faults} faults injected ({wall.Elapsed.TotalSeconds:0} s)");
        };
    }

    /// <summary>The run's wall time, on stderr (bench/ScaleBench reads it back with <see cref="WallPrefix"/>).</summary>
    internal static string WallLine(TimeSpan wall) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{WallPrefix}{wall.TotalSeconds:0.00} s");

    internal const string WallPrefix = "eqlactors simulate: wall time ";

    private static void PrintSummary(SimulationReport r)
    {
        Console.WriteLine();
        Console.WriteLine($"{r.FaultsInjected} faults injected, {r.FaultsRecovered} recovered over {TimeSpan.FromSeconds(r.SimulatedSeconds)} simulated");
        Console.WriteLine($"recovery: mean {r.MeanRecoverySeconds:0.0} s, max {r.MaxRecoverySeconds:0.0} s; availability {r.Availability:P2}; {r.LinkRestarts} link starts, {r.ImbalancesHealed} imbalances healed");
        Console.WriteLine($"after stop: {r.Leaks.Processes} processes, {r.Leaks.Slaves} slaves, {r.Leaks.Routes} routes left");
        foreach (var u in r.Unrecovered) Console.WriteLine($"UNRECOVERED: {u}");
        Console.WriteLine(r.Success ? "OK" : "FAILED");
    }

    internal static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        text = text.Trim();
        if (text.Length < 2) return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
        var unit = text[^1];
        var scale = unit switch { 's' => 1.0, 'm' => 60.0, 'h' => 3600.0, 'd' => 86400.0, _ => 0 };
        if (scale == 0) return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
        if (!double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n < 0 || n * scale > TimeSpan.FromDays(365).TotalSeconds) return false;
        value = TimeSpan.FromSeconds(n * scale);
        return true;
    }
}
