using System.Diagnostics;
using System.Text.Json.Nodes;

namespace EqlActors.Bench;

/// <summary>
/// Goal 6: `eqlactors simulate --json` as a whole process (the eqlactors.dll built next to this bench), its wall
/// time against faults, links and bundles. "wall" is the verb's own wall time (its stderr line; stdout replays exactly and carries no time); "process" adds startup.
/// </summary>
public static class ScaleBench
{
    private const string B = "scale";

    public static void Run(Report report, BenchOptions o)
    {
        report.Note($"scale: load before {Machine.Load()}");
        // The headline: 3 links x 1000 faults, three times.
        var headline = Enumerable.Range(0, o.Quick ? 1 : 3).Select(i => Simulate(3, 1000, 1, 42 + i)).ToList();
        var wall = Stats.Median(headline.Select(r => r.Wall).ToList());
        report.Add(B, "3 links x 1000 faults: wall, median", wall, "s", $"n={headline.Count}, process incl. startup {Stats.Median(headline.Select(r => r.Process).ToList()):0.00} s; goal under 10 s; all recovered: {headline.All(r => r.Success)}");
        report.Add(B, "3 links x 1000 faults: faults per wall second", 1000 / wall, "1/s", $"simulated {headline[0].Simulated / 3600:0.0} h");

        foreach (var faults in o.Quick ? new[] { 0, 100 } : [0, 100, 3000])
        {
            var r = Simulate(3, faults, 1, 42);
            report.Add(B, $"3 links x {faults} faults: wall", r.Wall, "s", $"simulated {r.Simulated / 3600:0.00} h, {r.Simulated / r.Wall:0} simulated s per wall s; ok {r.Success}");
        }
        foreach (var links in new[] { 1, 2, 4 })
        {
            var r = Simulate(links, 1000, 1, 42);
            report.Add(B, $"{links} link(s) x 1000 faults: wall", r.Wall, "s", $"{links * r.Simulated / r.Wall:0} link-seconds simulated per wall s; ok {r.Success}");
        }
        foreach (var bundles in o.Quick ? new[] { 1, 4, 16 } : [1, 4, 16, 64])
        {
            var r = Simulate(3, 100, bundles, 42);
            report.Add(B, $"{bundles} bundle(s) x 3 links, 100 faults: wall", r.Wall, "s",
                $"simulated {r.Simulated / 3600:0.00} h; {bundles * 3 * r.Simulated / r.Wall:0} link-seconds per wall s; ok {r.Success}");
        }
        report.Note($"scale: load after {Machine.Load()}");
    }

    private sealed record Result(double Wall, double Process, double Simulated, bool Success);

    private static Result Simulate(int links, int faults, int bundles, int seed)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "eqlactors.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        foreach (var a in new[] { dll, "simulate", "--links", $"{links}", "--faults", $"{faults}", "--bundles", $"{bundles}", "--seed", $"{seed}", "--json" })
            psi.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        sw.Stop();
        var json = JsonNode.Parse(output) ?? throw new InvalidOperationException($"simulate printed no JSON: {err.Result}");
        // The run's own wall time is on stderr (stdout is the replay and carries no time): "eqlactors simulate: wall time 6.68 s".
        const string prefix = "eqlactors simulate: wall time ";
        var wallLine = err.Result.Split('\n').LastOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))
                       ?? throw new InvalidOperationException($"simulate printed no wall time: {err.Result}");
        var wall = double.Parse(wallLine[prefix.Length..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        return new Result(wall, sw.Elapsed.TotalSeconds, (double)json["simulatedSeconds"]!, p.ExitCode == 0 && (bool)json["success"]!);
    }
}
