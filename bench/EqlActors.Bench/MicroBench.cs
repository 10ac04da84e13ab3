using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using EqlActors.Simulation;

namespace EqlActors.Bench;

/// <summary>
/// BenchmarkDotNet where it fits: the simulation runner in process (no process startup), per fault and per simulated
/// hour. Its own table goes to artifacts/bench/micro; the medians are copied into the report.
/// </summary>
public static class MicroBench
{
    public static void Run(Report report, BenchOptions o)
    {
        // In process: no second build of a generated project on a shared 2-core machine; the runner is self-contained.
        var job = (o.Quick ? Job.Dry.WithIterationCount(3) : Job.ShortRun).WithToolchain(InProcessEmitToolchain.Instance);
        var config = ManualConfig.CreateMinimumViable()
            .AddJob(job)
            .WithArtifactsPath(Path.Combine(o.Out, "micro"))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        var summary = BenchmarkRunner.Run<SimulationRunnerBench>(config);
        foreach (var r in summary.Reports)
        {
            if (r.ResultStatistics is not { } s) continue;
            var name = $"{r.BenchmarkCase.Descriptor.WorkloadMethod.Name}({string.Join(", ", r.BenchmarkCase.Parameters.Items.Select(p => $"{p.Name}={p.Value}"))})";
            report.Add("micro", $"in-process {name}: median", s.Median / 1e6, "ms", $"BenchmarkDotNet {job.Id}, n={s.N}");
        }
    }
}

[MemoryDiagnoser]
public class SimulationRunnerBench
{
    [Params(0, 100)]
    public int Faults { get; set; }

    /// <summary>3 links for one simulated hour with <see cref="Faults"/> faults.</summary>
    [Benchmark]
    public SimulationReport SimulateOneHour() => new SimulationRunner(new SimulationRun { Links = 3, Faults = Faults, Duration = TimeSpan.FromHours(1) }).Run();
}
