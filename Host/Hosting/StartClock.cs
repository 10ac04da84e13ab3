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

    /// <summary>Touches the clock: call first thing in <c>Main</c>, so that its origin is the entry to managed code.</summary>
    public static void Begin() => _ = Origin;

    /// <summary>Milliseconds from the process's start to now; NaN where /proc cannot tell.</summary>
    public static double Now() => OriginSinceStart + Stopwatch.GetElapsedTime(Origin).TotalMilliseconds;

    /// <summary>Milliseconds from the process's start to <c>Main</c>: the runtime's own start-up.</summary>
    public static double AtMain => OriginSinceStart;

    // /proc/self/stat field 22 is the start time in clock ticks since boot; /proc/uptime is now since boot. Both are
    // coarse (10 ms ticks) but the steps measured here take hundreds of milliseconds to seconds in the guest.
    private static double ReadSinceStart()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var startTicks = long.Parse(fields[19], CultureInfo.InvariantCulture);
            var uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture);
            return uptime * 1000 - startTicks * 10.0;
        }
        catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException or UnauthorizedAccessException)
        {
            return double.NaN;
        }
    }
}
