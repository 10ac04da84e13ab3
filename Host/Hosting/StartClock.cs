using System.Diagnostics;
using System.Globalization;

namespace EqlActors.Host.Hosting;

/// <summary>
/// Milliseconds since the process started (the kernel's start time of this process, so the runtime's own start-up
/// before <c>Main</c> counts too), for the one line that says where a daemon's start went. In the qemu guest the
/// steps before the first pppd forks took 10 s, and without this line nobody could tell which.
/// </summary>
public static class StartClock
{
    private static readonly long Origin = Stopwatch.GetTimestamp();
    private static readonly double OriginSinceStart = ReadSinceStart();
    private static StartMark _atMain;

    /// <summary>Touches the clock: call first thing in <c>Main</c>, so that its origin is the entry to managed code.</summary>
    public static void Begin()
    {
        _ = Origin;
        _atMain = Mark();
    }

    /// <summary>Milliseconds from the process's start to now; NaN where /proc cannot tell.</summary>
    public static double Now() => OriginSinceStart + Stopwatch.GetElapsedTime(Origin).TotalMilliseconds;

    /// <summary>Milliseconds from the process's start to <c>Main</c>: the runtime's own start-up.</summary>
    public static double AtMain => OriginSinceStart;

    /// <summary>The mark taken in <see cref="Begin"/> (the JIT's figures at <c>Main</c>).</summary>
    public static StartMark MainMark => _atMain;

    /// <summary>Taken by <c>run</c> once its command line is parsed, before the configuration is loaded; null when
    /// the service was started another way (a test calling <see cref="ServiceHost.RunAsync"/>).</summary>
    public static StartMark? CommandLine { get; set; }

    /// <summary>
    /// Now, with what the JIT has done so far: a step of the start is slow in a slow guest mostly because it runs code
    /// that the ReadyToRun image lacks (compiled at run time) or loads assemblies for the first time, so the line says
    /// both per step.
    /// </summary>
    public static StartMark Mark() => new(Now(), System.Runtime.JitInfo.GetCompiledMethodCount(),
        System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds, AppDomain.CurrentDomain.GetAssemblies().Length,
        Environment.CpuUsage.TotalTime.TotalMilliseconds);

    // The process's age from its start time (10 ms ticks since boot) and /proc/uptime: coarse, but the steps measured
    // here take hundreds of milliseconds to seconds in the guest.
    private static double ReadSinceStart() =>
        Linux.ProcessTree.Stat(Environment.ProcessId) is { } self && Linux.ProcessTree.SecondsAlive(self) is { } alive ? alive * 1000 : double.NaN;
}

/// <summary>
/// One point of the start: ms since the process started, methods the JIT compiled and its time so far (all threads),
/// assemblies loaded, and the process's CPU time (all threads: what a step cost beside how long it took, which tells
/// work done on a second thread from work saved).
/// </summary>
public readonly record struct StartMark(double Ms, long Methods, double JitMs, int Assemblies, double CpuMs)
{
    /// <summary>What was done from <paramref name="before"/> to this mark, for the start line: "+N methods, M ms JIT, +A assemblies, C ms CPU".</summary>
    public string Since(StartMark before) => string.Create(CultureInfo.InvariantCulture,
        $"+{Methods - before.Methods} methods, {JitMs - before.JitMs:0} ms JIT, +{Assemblies - before.Assemblies} assemblies, {CpuMs - before.CpuMs:0} ms CPU");

    /// <summary>The totals at this mark: "N methods, M ms JIT, A assemblies, C ms CPU".</summary>
    public string Totals() => string.Create(CultureInfo.InvariantCulture, $"{Methods} methods, {JitMs:0} ms JIT, {Assemblies} assemblies, {CpuMs:0} ms CPU");
}
