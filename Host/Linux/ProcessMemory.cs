using System.Runtime;
using System.Runtime.InteropServices;

namespace EqlActors.Host.Linux;

/// <summary>What a trim gave back: anonymous RSS before and after, the GC's committed memory, how long it took.</summary>
public sealed record Trimmed(long AnonBeforeKiB, long AnonAfterKiB, long GcCommittedKiB, double Milliseconds);

/// <summary>
/// The process's own memory, the OS side of <see cref="Hosting.MemoryTrimmer"/>: a full compacting collection,
/// the pending finalizers, glibc's <c>malloc_trim</c>, and anonymous RSS from <c>/proc/self/status</c>.
/// </summary>
public static class ProcessMemory
{
    /// <summary>The trim itself (blocking: call it off the actor's thread).</summary>
    public static Trimmed Trim()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var anon = RssAnonKiB();
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        MallocTrim();
        return new Trimmed(anon, RssAnonKiB(), GC.GetGCMemoryInfo().TotalCommittedBytes / 1024, started.Elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// No transparent huge pages for this process (prctl PR_SET_THP_DISABLE; inherited by the chains it starts):
    /// with the kernel's THP mode <c>always</c>, one touched byte of a 2 MiB-aligned anonymous block costs 2 MiB of
    /// RSS, and in the soak most of the daemon's anonymous memory (26.6 of 38.8 MiB) was such pages, partly empty.
    /// A small daemon gains nothing from them. Best effort: a kernel without the option keeps its pages.
    /// </summary>
    public static void DisableTransparentHugePages() => Native.prctl(Native.PR_SET_THP_DISABLE, 1, 0, 0, 0);

    /// <summary>glibc only: musl and others have no malloc_trim (and no per-thread arenas to trim).</summary>
    private static void MallocTrim()
    {
        try { malloc_trim(0); }
        catch (EntryPointNotFoundException) { }
        catch (DllNotFoundException) { }
    }

    [DllImport("libc")]
    private static extern int malloc_trim(nuint pad);

    public static long RssAnonKiB()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("RssAnon:", StringComparison.Ordinal));
            return line is null ? -1 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException) { return -1; }
    }
}
