using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EqlActors.Bench;

/// <summary>One figure: what was measured, its value, its unit and how (trials, conditions).</summary>
public sealed record Figure(string Benchmark, string Name, double Value, string Unit, string Note);

/// <summary>Collects every figure of a run with the machine's state, and writes them as JSON and Markdown.</summary>
public sealed class Report
{
    private readonly List<Figure> _figures = [];
    private readonly List<string> _notes = [];

    public IReadOnlyList<Figure> Figures => _figures;

    public void Add(string benchmark, string name, double value, string unit, string note = "")
    {
        var f = new Figure(benchmark, name, Math.Round(value, 3), unit, note);
        lock (_figures) _figures.Add(f);
        Console.WriteLine($"  {benchmark,-10} {name,-58} {Fmt(f.Value),10} {unit,-6} {note}");
    }

    public void Note(string text)
    {
        lock (_notes) _notes.Add($"{DateTime.Now:HH:mm:ss} {text}");
        Console.WriteLine($"  # {text}");
    }

    public static string Fmt(double v) => v.ToString(Math.Abs(v) >= 100 ? "0" : "0.###", CultureInfo.InvariantCulture);

    public (string Json, string Markdown) Write(string directory, string command)
    {
        Directory.CreateDirectory(directory);
        var stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var json = Path.Combine(directory, $"results-{stamp}.json");
        var md = Path.Combine(directory, $"results-{stamp}.md");
        File.WriteAllText(json, JsonSerializer.Serialize(new { command, machine = Machine.Describe(), notes = _notes, figures = _figures },
            new JsonSerializerOptions { WriteIndented = true }));
        var sb = new StringBuilder();
        sb.AppendLine($"Command: `{command}`  ");
        sb.AppendLine($"Machine: {Machine.Describe()}");
        sb.AppendLine();
        sb.AppendLine("| benchmark | figure | value | unit | how |");
        sb.AppendLine("| --- | --- | ---: | --- | --- |");
        foreach (var f in _figures) sb.AppendLine($"| {f.Benchmark} | {f.Name} | {Fmt(f.Value)} | {f.Unit} | {f.Note} |");
        sb.AppendLine();
        foreach (var n in _notes) sb.AppendLine($"- {n}");
        File.WriteAllText(md, sb.ToString());
        return (json, md);
    }
}

public static class Stats
{
    public static double Median(IReadOnlyCollection<double> xs) => Percentile(xs, 50);

    /// <summary>Linear interpolation between closest ranks.</summary>
    public static double Percentile(IReadOnlyCollection<double> xs, double p)
    {
        if (xs.Count == 0) return double.NaN;
        var s = xs.OrderBy(x => x).ToArray();
        var rank = p / 100 * (s.Length - 1);
        var lo = (int)Math.Floor(rank);
        var hi = (int)Math.Ceiling(rank);
        return s[lo] + (s[hi] - s[lo]) * (rank - lo);
    }
}

/// <summary>The machine and its load: cores, memory, load average (the machine is shared: every figure is noisy).</summary>
public static class Machine
{
    public static string Load()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }

    public static string Describe()
    {
        var mem = "?";
        try
        {
            var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            mem = $"{long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024 / 1024.0:0.0} GiB";
        }
        catch (IOException) { }
        return $"nproc {Environment.ProcessorCount}, memory {mem}, load average {Load()}, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}";
    }
}
