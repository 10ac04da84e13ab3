using EqlActors.Host.Configuration;

namespace EqlActors.Host.Hosting;

/// <summary>
/// <c>run</c>'s configuration load and logger, run once on a second thread while the main thread parses the command
/// line. Both are mostly first-time code: generic instantiations that the ReadyToRun image lacks (the JIT compiles
/// them), assemblies and types loaded for the first time. Compiled and loaded once per process, they are then ready
/// when the main thread gets there, and the slow guest's second vCPU, idle at that point, did the work
/// (docs/benchmarks.md, section 32). Nothing here has an effect outside the process: no file, no environment, no
/// output.
/// </summary>
public static class StartWarmUp
{
    /// <summary>Starts the warm-up when the verb is <c>run</c>; returns at once.</summary>
    public static void Begin(string[] args)
    {
        if (args.Length == 0 || args[0] != "run") return;
        new Thread(Run) { IsBackground = true, Name = "start warm-up" }.Start();
    }

    private static void Run()
    {
        try
        {
            ConfigLoader.WarmUp();
            Logging.WarmUp();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Nothing to report: the main thread runs the same code next and reports whatever fails there.
        }
    }
}
