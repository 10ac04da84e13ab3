using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Serilog;

namespace EqlActors.Host.Linux;

/// <summary>
/// Reaps every zombie child of this process that <see cref="Process"/> does not own: orphans a child subreaper
/// adopts (pppd's <c>ip-down</c> script, started while pppd is being stopped, outlives it) and anything else that
/// ends up here. Runs on SIGCHLD and on a slow timer (signals coalesce).
/// </summary>
/// <remarks>
/// The runtime reaps the children it started itself, each with <c>waitpid(pid)</c>, and calls
/// <c>Environment.FailFast</c> when that fails with ECHILD: a plain <c>waitpid(-1)</c> here would take the
/// service down whenever it won a race for one of them. So a zombie is reaped only when it is not in the
/// runtime's own table of children, looked up under the same lock the runtime holds between fork and
/// registering a child (and while it reaps), which is how its own SIGCHLD handler does it. Those are private
/// fields of System.Diagnostics.Process; if a runtime no longer has them, <see cref="Exact"/> is false and
/// only pids a caller vouches for (members of a chain it watched) are reaped.
/// </remarks>
public sealed class ChildReaper
{
    private static readonly Lazy<ChildReaper> SharedInstance = new(() => new ChildReaper(TimeSpan.FromSeconds(10)));

    /// <summary>The one reaper of this process (zombies are per process).</summary>
    public static ChildReaper Shared => SharedInstance.Value;

    private static readonly ReaderWriterLockSlim? RuntimeStartLock =
        typeof(Process).GetField("s_processStartLock", BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null) as ReaderWriterLockSlim;

    private static readonly IDictionary? RuntimeChildren =
        typeof(Process).Assembly.GetType("System.Diagnostics.ProcessWaitState")
            ?.GetField("s_childProcessWaitStates", BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null) as IDictionary;

    /// <summary>True when the runtime's children can be told apart exactly, so that any other zombie child is reaped.</summary>
    public static bool Exact => RuntimeStartLock is not null && RuntimeChildren is not null;

    private readonly SemaphoreSlim _wake = new(0);
    // Kept for the life of the process: disposing it would stop the SIGCHLD wake-ups.
    private readonly PosixSignalRegistration? _sigchld;
    private readonly ConcurrentDictionary<Func<int, string?>, byte> _owners = new();
    private readonly ConcurrentDictionary<int, byte> _vouched = new();
    private readonly object _sweeping = new();
    private long _reaped;

    private ChildReaper(TimeSpan period)
    {
        try
        {
            // Observes SIGCHLD only: the runtime still runs its own handling of the signal.
            if (OperatingSystem.IsLinux()) _sigchld = PosixSignalRegistration.Create(PosixSignal.SIGCHLD, _ => Wake());
        }
        catch (PlatformNotSupportedException) { }
        if (!Exact) Log.ForContext<ChildReaper>().Warning("Cannot tell the runtime's own children apart on this runtime: only known chain members are reaped");
        _ = LoopAsync(period);
    }

    /// <summary>Zombies reaped so far (for tests and the soak's figures).</summary>
    public long Reaped => Interlocked.Read(ref _reaped);

    /// <summary>
    /// Registers a function that names the owner of a pid (e.g. "link 1") or returns null; a reaped pid that no
    /// owner claims is logged as such.
    /// </summary>
    public IDisposable AddOwner(Func<int, string?> owner)
    {
        _owners[owner] = 0;
        return new Unregister(() => _owners.TryRemove(owner, out _));
    }

    /// <summary>A pid the caller knows is not one the runtime started (it saw it as a member of a chain).</summary>
    public void Vouch(int pid) => _vouched[pid] = 0;

    /// <summary>Asks for a sweep soon (coalesced).</summary>
    public void Wake()
    {
        if (_wake.CurrentCount == 0) _wake.Release();
    }

    private async Task LoopAsync(TimeSpan period)
    {
        while (true)
        {
            try
            {
                await _wake.WaitAsync(period).ConfigureAwait(false);
                Sweep();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.ForContext<ChildReaper>().Warning(e, "Reaping zombie children failed");
            }
        }
    }

    /// <summary>Reaps every zombie child the runtime does not own, now. Returns how many were reaped.</summary>
    public int Sweep()
    {
        // One sweep at a time: the loop (woken by SIGCHLD) and a stop's own sweep run at once when a master ends, and
        // one's clean-up of vouches for processes already gone took the vouch the other had just reaped, which logged
        // a master this service had ended on purpose as one it had not (seen at a guest run's final stop).
        lock (_sweeping) return SweepLocked();
    }

    private int SweepLocked()
    {
        var self = Environment.ProcessId;
        // Outside the lock: a zombie stays one until someone reaps it, and the check is repeated under the lock.
        var candidates = Children().Select(pid => ProcessTree.Stat(pid)).Where(p => p is { IsZombie: true } && p.ParentPid == self).Select(p => p!.Pid).ToList();
        foreach (var pid in _vouched.Keys)
        {
            if (ProcessTree.Stat(pid) is null) _vouched.TryRemove(pid, out _); // gone (reaped by someone else)
        }
        if (candidates.Count == 0) return 0;

        var reaped = new List<(int Pid, string? Command, int Status, double? Lived)>();
        if (Exact)
        {
            RuntimeStartLock!.EnterWriteLock();
            try
            {
                lock (RuntimeChildren!)
                {
                    foreach (var pid in candidates)
                    {
                        if (RuntimeChildren.Contains(pid)) continue;
                        TryReap(pid, self, reaped);
                    }
                }
            }
            finally { RuntimeStartLock.ExitWriteLock(); }
        }
        else
        {
            foreach (var pid in candidates.Where(_vouched.ContainsKey)) TryReap(pid, self, reaped);
        }

        foreach (var (pid, command, status, lived) in reaped)
        {
            var vouched = _vouched.TryRemove(pid, out _);
            var owner = _owners.Keys.Select(o => o(pid)).FirstOrDefault(o => o is not null);
            // A link's kept connection (its master, the master's ProxyCommand) is this process's child once the ssh that
            // started it is gone, belongs to no chain and is only ever ended here on purpose (vouched): one that ends
            // otherwise costs its link a fresh login at every hop, and nothing else would say when or how it ended.
            // The first attempt's ssh forks its master through daemon(), whose short-lived middle process ends here too
            // (status 0, within a second or two): only a process that lived longer is worth the line.
            if (owner is null && !vouched && command == "ssh" && lived is not < MinKeptLifetimeSeconds)
                Log.ForContext<ChildReaper>().Information("An ssh process that no chain owns and this service did not end has ended: pid {Pid}, {How} after {LivedSeconds} s (a link's kept connection, its master or the master's ProxyCommand, is such a process)",
                    pid, WaitStatus.Describe(status), lived is { } l ? Math.Round(l, 1) : null);
            else if (owner is null)
                Log.ForContext<ChildReaper>().Debug("Reaped zombie {Pid} ({Command}, wait status {Status}) that no chain owns", pid, command, status);
            else
                Log.ForContext<ChildReaper>().Debug("Reaped zombie {Pid} ({Command}, wait status {Status}) of {Owner}", pid, command, status, owner);
        }
        Interlocked.Add(ref _reaped, reaped.Count);
        return reaped.Count;
    }

    /// <summary>
    /// This process's children from <c>/proc/self/task/*/children</c> (a few small reads, where a walk of
    /// <c>/proc</c> reads every process's stat: it matters on SIGCHLD in a slow machine), or every process
    /// whose parent is this one when the kernel lacks CONFIG_PROC_CHILDREN.
    /// </summary>
    private static IEnumerable<int> Children()
    {
        var pids = new HashSet<int>();
        var any = false;
        try
        {
            foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                string text;
                try { text = File.ReadAllText(Path.Combine(task, "children")); }
                catch (FileNotFoundException) { continue; }
                catch (DirectoryNotFoundException) { continue; } // the thread ended
                any = true;
                foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    if (int.TryParse(word, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid)) pids.Add(pid);
            }
        }
        catch (IOException) { any = false; }
        if (any) return pids;
        var self = Environment.ProcessId;
        return ProcessTree.All().Where(p => p.ParentPid == self).Select(p => p.Pid);
    }

    /// <summary>Below this a reaped ssh is the master's daemon() middle process, not a kept connection (see <see cref="Sweep"/>).</summary>
    private const double MinKeptLifetimeSeconds = 5;

    private static void TryReap(int pid, int self, List<(int, string?, int, double?)> reaped)
    {
        if (ProcessTree.Stat(pid) is not { IsZombie: true } s || s.ParentPid != self) return;
        var command = Comm(pid);
        var lived = ProcessTree.SecondsAlive(s);
        if (Native.waitpid(pid, out var status, Native.WNOHANG) == pid) reaped.Add((pid, command, status, lived));
    }

    private static string? Comm(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/comm").Trim(); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private sealed class Unregister(Action action) : IDisposable
    {
        private int _done;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) action();
        }
    }
}
