namespace EqlActors.Bench;
public static class MicroBench { public static void Run(Report report, BenchOptions o) => throw new NotImplementedException(); }
