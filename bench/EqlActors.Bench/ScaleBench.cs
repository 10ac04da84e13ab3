namespace EqlActors.Bench;
public static class ScaleBench { public static void Run(Report report, BenchOptions o) => throw new NotImplementedException(); }
