using Akka.Actor;
using EqlActors.Simulation;

namespace EqlActors.Bench;

/// <summary>
/// Issue 15, part 3: the actor tree and the managed heap do not grow over a long life. The real actors run on the
/// simulated system (in process) over days of virtual time with thousands of faults; after a forced full GC the
/// heap and the number of live actors are measured once the bundle is up, after the first faults (the heap has
/// settled: caches, pools, JIT), and at the end, reported side by side. A benchmark, not a timed test.
/// </summary>
public static class HeapBench
{
    private const string B = "heap";

    public static void Run(Report report, BenchOptions o)
    {
        var faults = o.Quick ? 500 : 3000;
        var days = o.Quick ? 1 : 3;
        const int settled = 100;
        var points = new List<(string When, int Recovered, long Heap, int Actors, int Starts)>();
        var sim = new SimulationRunner(
            new SimulationRun { Links = 3, Faults = faults, Duration = TimeSpan.FromDays(days), Seed = 42 },
            probe: (system, recovered, sims) =>
            {
                var when = recovered switch { 0 => "bundle up", settled => $"after {settled} faults", -1 => "end", _ => null };
                if (when is null) return;
                points.Add((when, recovered, Heap(), CountActors(system), sims.Sum(s => s.PppStarts.Count)));
            });
        var result = sim.Run();
        report.Note($"heap: {result.FaultsRecovered}/{result.FaultsInjected} faults recovered over {result.SimulatedSeconds / 86400:0.00} simulated days; success {result.Success}");
        foreach (var (when, _, heap, actors, starts) in points)
        {
            report.Add(B, $"3 links, {faults} faults, {days} days: managed heap after GC, {when}", heap / 1048576.0, "MiB", $"live actors {actors}, pppd starts recorded by the simulation {starts}");
            report.Add(B, $"3 links, {faults} faults, {days} days: live actors, {when}", actors, "");
        }
        var from = points.FirstOrDefault(p => p.Recovered == settled);
        var end = points.FirstOrDefault(p => p.Recovered == -1);
        if (from.When is not null && end.When is not null)
        {
            report.Add(B, $"heap growth from fault {settled} to fault {faults}", (end.Heap - from.Heap) / 1048576.0, "MiB",
                $"{(double)(end.Heap - from.Heap) / from.Heap * 100:+0.0;-0.0}%; actors {from.Actors} -> {end.Actors}");
            // The simulated world keeps a record of every pppd start and the runner one of every recovery time: they
            // grow by design. What they hold is measured the same way, so that the rest is the actors' own.
            var records = Retained(() => (Enumerable.Range(0, end.Starts - from.Starts).Select(i => new SimPppStart(i % 3, i, DateTimeOffset.UnixEpoch)).ToList(),
                Enumerable.Range(0, faults - settled).Select(i => (double)i).ToList()));
            report.Add(B, $"  of which the simulation's own records ({end.Starts - from.Starts} pppd starts, {faults - settled} recovery times)", records / 1048576.0, "MiB");
            report.Add(B, $"  the rest, per 1000 faults", (end.Heap - from.Heap - records) / 1048576.0 / (faults - settled) * 1000, "MiB");
        }
    }

    /// <summary>Bytes the objects built by <paramref name="build"/> keep alive.</summary>
    private static long Retained(Func<object> build)
    {
        var before = Heap();
        var kept = build();
        var after = Heap();
        GC.KeepAlive(kept);
        return after - before;
    }

    private static long Heap()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: false);
    }

    /// <summary>Every live actor of the system, system actors included, by walking the tree from the root guardian.</summary>
    private static int CountActors(ActorSystem system)
    {
        var count = 0;
        var stack = new Stack<IActorRef>();
        stack.Push(((ExtendedActorSystem)system).Provider.RootGuardian);
        while (stack.Count > 0)
        {
            var actor = stack.Pop();
            count++;
            if (actor is ActorRefWithCell cell)
                foreach (var child in cell.Children) stack.Push(child);
        }
        return count;
    }
}
