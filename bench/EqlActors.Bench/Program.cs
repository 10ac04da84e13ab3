using System.Runtime.Versioning;
using EqlActors.Bench;

// eqlactors-bench: every benchmark of issue 7. `all` runs them all; each writes its figures to the report.
[assembly: SupportedOSPlatform("linux")]

var options = BenchOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("""
        usage: eqlactors-bench all|host|sim|footprint|scale|heap|micro [--quick] [--trials N] [--idle-seconds S] [--out DIR]
          host       detection latency, recovery and N-link bring-up with real processes and rtnetlink in a netns (root)
          sim        recovery and N-link bring-up on the simulated system in real time (2 s link-up)
          footprint  RSS, idle CPU, launch->ready of eqlactors vs a bare Akka.Hosting service, side by side
          scale      `eqlactors simulate` wall time against links, faults and bundles
          heap       managed heap after a forced GC and live actors, bundle up / after 100 faults / after 3000 (3 simulated days)
          micro      BenchmarkDotNet: the simulation runner in process
        """);
    return 2;
}

var report = new Report();
Console.WriteLine($"eqlactors-bench {string.Join(' ', args)}: {Machine.Describe()}");
report.Note($"start: {Machine.Describe()}");
var verbs = options.Verb == "all" ? ["host", "sim", "footprint", "scale", "heap", "micro"] : new[] { options.Verb };
var failed = 0;
foreach (var verb in verbs)
{
    Console.WriteLine($"== {verb} (load {Machine.Load()})");
    try
    {
        switch (verb)
        {
            case "host": HostBench.Run(report, options); break;
            case "sim": SimBench.Run(report, options); break;
            case "footprint": FootprintBench.Run(report, options); break;
            case "scale": ScaleBench.Run(report, options); break;
            case "heap": HeapBench.Run(report, options); break;
            case "micro": MicroBench.Run(report, options); break;
        }
    }
    catch (Exception e)
    {
        failed++;
        report.Note($"{verb} FAILED: {e.GetType().Name}: {e.Message}");
        Console.Error.WriteLine(e);
    }
    finally
    {
        Cleanup.RunAll();
    }
}
report.Note($"end: load {Machine.Load()}");
var (json, md) = report.Write(options.Out, "dotnet run -c Release --project bench/EqlActors.Bench -- " + string.Join(' ', args));
Console.WriteLine($"results: {md} and {json}");
return failed == 0 ? 0 : 1;

namespace EqlActors.Bench
{
    public sealed record BenchOptions(string Verb, bool Quick, int? Trials, int? IdleSeconds, string Out)
    {
        public static BenchOptions? Parse(string[] args)
        {
            if (args.Length == 0 || args[0] is not ("all" or "host" or "sim" or "footprint" or "scale" or "heap" or "micro")) return null;
            var quick = false;
            int? trials = null, idle = null;
            var output = Path.Combine(Repo.Root, "artifacts", "bench");
            for (var i = 1; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--quick": quick = true; break;
                    case "--trials" when i + 1 < args.Length: trials = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                    case "--idle-seconds" when i + 1 < args.Length: idle = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                    case "--out" when i + 1 < args.Length: output = Path.GetFullPath(args[++i]); break;
                    default: return null;
                }
            }
            return new BenchOptions(args[0], quick, trials, idle, output);
        }
    }

    public static class Repo
    {
        /// <summary>The repository's root: the folder holding EqlActors.sln, found upwards from the binary or the working directory.</summary>
        public static string Root { get; } = Find(AppContext.BaseDirectory) ?? Find(Environment.CurrentDirectory) ?? Environment.CurrentDirectory;

        private static string? Find(string start)
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "EqlActors.sln"))) return d.FullName;
            return null;
        }
    }
}
