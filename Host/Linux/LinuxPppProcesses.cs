using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using EqlActors.Ports;

namespace EqlActors.Host.Linux;

/// <summary>
/// pppd chains on Linux. pppd is started with <c>setsid</c> in front (argv, never a command line), so it leads
/// its own session and process group: its <c>/bin/sh -c "exec ssh ..."</c> pty child and anything that forks
/// below it can be signalled together, and it survives a restart of this service to be adopted from its
/// <c>linkname</c> pidfile.
/// </summary>
public sealed partial class LinuxPppProcesses : IPppProcesses, IDisposable
{
    private readonly string _runDirectory;
    private readonly string _setsidPath;
    private readonly TimeSpan _pollInterval;
    private readonly ConcurrentDictionary<int, Tracked> _tracked = new();
    /// <summary>
    /// pppd's that ended by themselves, reported, and whose chain's stop has not come yet (at most one per link): the
    /// link's stop after the exit still spares the kept connection. A link's first chain started the master's
    /// ProxyCommand, which stays in that pppd's session after pppd is gone; a stop that no longer knew the link's
    /// control path ended it with the session (guest soak: SIGKILL to the first pppd cost link 0 a fresh login).
    /// </summary>
    private readonly ConcurrentDictionary<int, Tracked> _ended = new();
    private readonly CancellationTokenSource _disposed = new();
    private readonly IDisposable? _owner;
    private readonly bool _subreaper;

    /// <param name="runDirectory">Where pppd writes <c>ppp-LINKNAME.pid</c> (pppd's own choice is /var/run; tests point it elsewhere).</param>
    /// <param name="setsidPath">util-linux <c>setsid</c>: puts pppd in a session of its own without a shell.</param>
    /// <param name="becomeSubreaper">
    /// Make this process a child subreaper (prctl PR_SET_CHILD_SUBREAPER) so that orphans of a killed chain are
    /// reparented here and reaped by <see cref="StopAsync"/>, instead of relying on PID 1 (which in containers
    /// often reaps nothing).
    /// </param>
    /// <param name="pollInterval">Fallback period for watching an adopted pppd when pidfd_open is unavailable.</param>
    public LinuxPppProcesses(string runDirectory = PppCommandLine.PidFileDirectory, string setsidPath = "/usr/bin/setsid",
        bool becomeSubreaper = true, TimeSpan? pollInterval = null)
    {
        _runDirectory = runDirectory;
        _setsidPath = setsidPath;
        _pollInterval = pollInterval ?? TimeSpan.FromMilliseconds(500);
        if (becomeSubreaper)
        {
            _subreaper = Native.prctl(Native.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
            // Adopted orphans end up as zombies of this process at any time, not only while a chain is stopped.
            _owner = ChildReaper.Shared.AddOwner(OwnerOf);
        }
    }

    private string? OwnerOf(int pid) =>
        _tracked.Values.FirstOrDefault(t => t.Pid == pid || t.Members.ContainsKey(pid)) is { } t ? $"link {t.Link}" : null;

    public Task<PppProcess> StartAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var argv = PppCommandLine.PppdArgv(launch);
        // The master's socket goes in the daemon's runtime directory, which the service host created (0700) at start.
        var controlPath = ControlPathOf(launch);
        var psi = new ProcessStartInfo(_setsidPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add("--");
        foreach (var a in argv) psi.ArgumentList.Add(a);

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        // Process.Exited, not WaitForExitAsync: the latter also waits for the output pipes to close, and a
        // leftover of the chain holding them open would hide pppd's exit. Attached before Start so none is missed.
        var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.Exited += (_, _) => exited.TrySetResult();
        try
        {
            if (!process.Start()) throw new PortException($"link {launch.Link}: pppd did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new PortException($"link {launch.Link}: cannot start {_setsidPath} {launch.Config.Ppp.PppdPath}: {e.Message}", FailureKind.Permanent, e);
        }
        process.StandardInput.Close();
        var pid = process.Id;
        var tracked = new Tracked(launch.Link, pid, process) { Exit = exited.Task, Events = events, ControlPath = controlPath, SshPath = launch.Config.Remote.SshPath };
        _tracked[pid] = tracked;
        RuntimeChildren[pid] = 0;

        void OnLine(string? line)
        {
            if (line is null) return;
            tracked.Events.Output(launch.Link, pid, line);
            var m = UsingInterface().Match(line);
            if (m.Success && Interlocked.Exchange(ref tracked.InterfaceReported, 1) == 0) tracked.Events.InterfaceAssigned(launch.Link, pid, m.Groups[1].Value);
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        _ = WatchPidFileAsync(tracked, PppCommandLine.PidFile(_runDirectory, launch.Config.Ppp, launch.Link), exited.Task);
        _ = EndChainAsync(tracked, exited.Task);
        return Task.FromResult(new PppProcess(launch.Link, pid, null));
    }

    /// <summary>
    /// pppd has exited (and the runtime reaped it): end what is left of its chain, collect its last output lines,
    /// then release the Process and its pipes before reporting the exit.
    /// </summary>
    private async Task EndChainAsync(Tracked tracked, Task exited)
    {
        await exited.ConfigureAwait(false);
        var process = tracked.Process!;
        var code = process.ExitCode;
        // A stop in progress ends the rest of the chain itself: the same /proc scans twice would compete for the CPU
        // that the next attempt needs (three links stop at once after the main slirp died).
        if (!tracked.Stopping) await EndLeftoversAsync(tracked, Snapshot(tracked)).ConfigureAwait(false);
        // With the chain gone the pipes close: wait (bounded) for the last output lines before reporting the exit.
        using (var drained = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            try { await process.WaitForExitAsync(drained.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { } // a leftover still holds a pipe: disposing closes our ends anyway
        }
        process.Dispose();
        Ended(tracked);
        var meaning = Messages.PppExitCodes.Explain(code);
        var (reason, kind) = (meaning.Reason, meaning.Permanent ? FailureKind.Permanent : FailureKind.Transient);
        RuntimeChildren.TryRemove(tracked.Pid, out _);
        tracked.Events.Exited(new PppExit(tracked.Link, tracked.Pid, code, reason, kind));
    }

    /// <summary>
    /// When pppd logs elsewhere than stdout, the interface is learned from its pidfile's second line, which
    /// pppd writes once the interface exists.
    /// </summary>
    private async Task WatchPidFileAsync(Tracked tracked, string pidFile, Task exited)
    {
        while (!exited.IsCompleted && !_disposed.IsCancellationRequested && Volatile.Read(ref tracked.InterfaceReported) == 0)
        {
            await Task.WhenAny(exited, Task.Delay(_pollInterval)).ConfigureAwait(false);
            if (ReadPidFile(pidFile) is ({ } pid, { } ifname) && pid == tracked.Pid && Interlocked.Exchange(ref tracked.InterfaceReported, 1) == 0)
                tracked.Events.InterfaceAssigned(tracked.Link, tracked.Pid, ifname);
        }
    }

    /// <summary>pppd's pidfile: the pid on the first line, the interface on the second once it exists.</summary>
    public static (int? Pid, string? Interface) ReadPidFile(string path)
    {
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (IOException) { return (null, null); }
        catch (UnauthorizedAccessException) { return (null, null); }
        int? pid = lines.Length > 0 && int.TryParse(lines[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p > 1 ? p : null;
        var ifname = lines.Length > 1 && lines[1].Trim().Length > 0 ? lines[1].Trim() : null;
        return (pid, ifname);
    }

    /// <summary>
    /// The link's pppd that a daemon left running, by its pidfile: what <see cref="AdoptAsync"/> would adopt. A stale
    /// pidfile, or one whose pid now belongs to someone else, is none.
    /// </summary>
    public (int Pid, string? Interface, ProcStat Stat)? FindRunning(PppLaunch launch)
    {
        var (filePid, ifname) = ReadPidFile(PppCommandLine.PidFile(_runDirectory, launch.Config.Ppp, launch.Link));
        if (filePid is not { } pid) return null;
        var stat = ProcessTree.Stat(pid);
        if (stat is null || stat.IsZombie || !IsOurPppd(ProcessTree.CommandLine(pid), launch)) return null;
        return (pid, ifname, stat);
    }

    public Task<PppProcess?> AdoptAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default)
    {
        if (FindRunning(launch) is not { } found) return Task.FromResult<PppProcess?>(null);
        var (pid, ifname, stat) = found;

        if (_tracked.TryGetValue(pid, out var known))
        {
            // Already watched by this instance (an actor restarted and adopts what it started): only the
            // subscriber changes; a second watcher would report the exit twice.
            known.Events = events;
            if (ifname is not null) events.InterfaceAssigned(launch.Link, pid, ifname);
            return Task.FromResult<PppProcess?>(new PppProcess(launch.Link, pid, ifname));
        }
        // Its end is seen by the watcher (pidfd): a stop waits for that event instead of scanning /proc meanwhile.
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tracked = new Tracked(launch.Link, pid, null)
        {
            Events = events, ControlPath = ControlPathOf(launch), SshPath = launch.Config.Remote.SshPath, Exit = ended.Task,
            Foreign = !ProcessTree.IsBelow(pid, Environment.ProcessId),
        };
        _tracked[pid] = tracked;
        if (ifname is not null) events.InterfaceAssigned(launch.Link, pid, ifname);
        var thread = new Thread(() => WatchAdopted(tracked, stat.StartTime, ended)) { IsBackground = true, Name = $"pppd-watch-{pid}" };
        thread.Start();
        return Task.FromResult<PppProcess?>(new PppProcess(launch.Link, pid, ifname));
    }

    /// <summary>The link's ssh master socket when connections are kept (docs/facts.md, "One ssh connection per link").</summary>
    private static string? ControlPathOf(PppLaunch launch) =>
        launch.Config.Remote.ReuseConnection ? PppCommandLine.ControlPath(launch.Config, launch.Link) : null;

    /// <summary>
    /// Ends the link's ssh master and its ProxyCommand, if any (a kept connection whose path is suspect, a clean
    /// start's leftover of an earlier daemon, the link's stop). Looked for whether or not reuse is configured now.
    /// </summary>
    public async Task EndConnectionAsync(PppLaunch launch, CancellationToken ct = default)
    {
        var path = PppCommandLine.ControlPath(launch.Config, launch.Link);
        await SshMasters.EndAsync(path, MasterGrace, launch.Config.Remote.SshPath, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The alive check of <c>ssh -O check</c> on the link's master (<see cref="SshMasters.AliveAsync"/>) within
    /// <paramref name="timeout"/>: a stopped master accepts the connection on its socket but never answers, so the
    /// timeout is what tells it apart. No socket, no master: false at once.
    /// </summary>
    public async Task<bool> ConnectionAnswersAsync(PppLaunch launch, TimeSpan timeout, CancellationToken ct = default) =>
        await SshMasters.AliveAsync(PppCommandLine.ControlPath(launch.Config, launch.Link), timeout, ct).ConfigureAwait(false) is not null;

    /// <summary>A master ends at once on SIGTERM (it only closes its connection); past this it is killed.</summary>
    public static readonly TimeSpan MasterGrace = TimeSpan.FromSeconds(2);

    /// <summary>argv is this link's pppd: argv[0] (or the interpreter's argv[1] for a script) is the configured pppd and it carries our linkname.</summary>
    public static bool IsOurPppd(IReadOnlyList<string>? argv, PppLaunch launch)
    {
        if (argv is null || argv.Count == 0) return false;
        var pppd = launch.Config.Ppp.PppdPath;
        if (argv[0] != pppd && !(argv.Count > 1 && argv[1] == pppd)) return false;
        var linkname = PppCommandLine.LinkName(launch.Config.Ppp, launch.Link);
        for (var i = 0; i + 1 < argv.Count; i++)
        {
            if (argv[i] == "linkname" && argv[i + 1] == linkname) return true;
        }
        return false;
    }

    private void WatchAdopted(Tracked tracked, ulong startTime, TaskCompletionSource ended)
    {
        try
        {
            WatchAdoptedCore(tracked, startTime, ended);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ended.TrySetResult();
            // A dedicated thread must never take the service down; report the chain as lost instead.
            tracked.Events.Exited(new PppExit(tracked.Link, tracked.Pid, -1, $"watching the adopted pppd failed: {e.Message}", FailureKind.Transient));
        }
    }

    private void WatchAdoptedCore(Tracked tracked, ulong startTime, TaskCompletionSource ended)
    {
        var pidfd = PidFds.Open(tracked.Pid, startTime);
        try
        {
            while (!_disposed.IsCancellationRequested)
            {
                if (pidfd >= 0)
                {
                    if (PidFds.Exited(pidfd, 250)) break;
                }
                else
                {
                    var s = ProcessTree.Stat(tracked.Pid);
                    if (s is null || s.IsZombie || s.StartTime != startTime) break;
                    Thread.Sleep(_pollInterval);
                }
            }
        }
        finally
        {
            if (pidfd >= 0) Native.close(pidfd);
        }
        if (_disposed.IsCancellationRequested) return;
        ended.TrySetResult();
        ReapOrphans(tracked);
        Ended(tracked);
        tracked.Events.Exited(new PppExit(tracked.Link, tracked.Pid, -1,
            "adopted pppd ended (its exit status is unknown: it is not a child of this process)", FailureKind.Transient));
    }

    /// <summary>pppd is gone and about to be reported: kept for its chain's stop, in place of the link's earlier one.</summary>
    private void Ended(Tracked tracked)
    {
        foreach (var (pid, other) in _ended)
            if (other.Link == tracked.Link) _ended.TryRemove(pid, out _);
        _ended[tracked.Pid] = tracked;
        _tracked.TryRemove(tracked.Pid, out _);
    }

    public async Task StopAsync(PppProcess process, TimeSpan grace, CancellationToken ct = default)
    {
        var pid = process.Pid;
        var clock = Stopwatch.StartNew();
        if (!_tracked.TryGetValue(pid, out var tracked)) _ended.TryRemove(pid, out tracked);
        if (tracked is not null) tracked.Stopping = true;
        // A pppd known to be gone leads nothing any more: its pid may be another process's now, and what is left of
        // its group may be the kept connection's ProxyCommand.
        var pppdLive = tracked?.Exit is not { IsCompleted: true };
        var leadsGroup = pppdLive && Native.getpgid(pid) == pid;
        // One look at the processes, for both what to spare and whom to signal, taken before pppd is signalled: a pppd
        // (or a stand-in) that ends at once has its children reparented to this subreaper while a walk of the
        // children lists runs, and the kept connection's ProxyCommand could be missed and then ended with pppd's group.
        // A foreign chain (adopted from an earlier daemon) is looked for in every process, by session and process group,
        // which pppd's end does not change, and its orphans go to init, not into a children list read here: pppd gets
        // its SIGTERM before that look (~350 ms for 95 processes in the guest) instead of after it.
        var foreign = tracked is { Foreign: true };
        if (foreign && pppdLive) Native.kill(pid, Native.SIGTERM);
        // Its members have been there since long before this stop, and whatever joins the chain later is found by the
        // look after pppd's end: links stopping together share one walk (ProcessTree.AllShared).
        var all = foreign ? ProcessTree.AllShared(SharedLookAge) : Snapshot(tracked);
        var looked = clock.Elapsed;
        // pppd itself next, at once: it then ends the ip-down it is waiting for and exits while the rest of the look
        // (the chain, the kept connection's pipes) runs, instead of after it (the look took 0.8-1.9 s while three
        // links stopped at once in the guest). Only pppd: its group may hold the kept connection's ProxyCommand.
        if (!foreign && tracked?.Exit is not { IsCompleted: true }) Native.kill(pid, Native.SIGTERM);
        var pppdSignalled = foreign && pppdLive ? TimeSpan.Zero : clock.Elapsed;
        var chain = ProcessTree.Chain(pid, all);
        if (tracked is not null) Spare(tracked, chain, all);
        // A spared process in pppd's own group would get the group's signal: signal the members one by one then.
        if (tracked?.Spared is { Count: > 0 } spared && spared.Values.Any(g => g == pid)) leadsGroup = false;

        Signal(pid, leadsGroup, Native.SIGTERM, tracked, chain);
        var signalled = clock.Elapsed;
        var deadline = DateTime.UtcNow + grace;
        // pppd is our child: its exit is an event, so no look at the processes runs while it ends (a pppd in ip-down
        // takes a moment); the looks below only find what may outlive it.
        if (tracked?.Exit is { } ending && !ending.IsCompleted)
            await Task.WhenAny(ending, Task.Delay(grace, ct)).ConfigureAwait(false);
        var exited = clock.Elapsed;
        // The members of the look end as events too (pidfds): under load each look at the processes took 0.2-0.9 s of
        // the stop after pppd was gone, and the polls made several. One look after them finds whatever joined the
        // chain after the look or could not be watched; only then are the polls below needed.
        var members = chain.Where(m => m.Pid != pid && !m.IsZombie && tracked?.Spared.ContainsKey(m.Pid) != true).ToList();
        var remaining = deadline - DateTime.UtcNow;
        if (members.Count > 0 && remaining > TimeSpan.Zero) await PidFds.WaitForExitsAsync(members, remaining, ct).ConfigureAwait(false);
        var looks = 1;
        var live = LiveMembers(pid, tracked);
        var poll = MinStopPoll;
        while (live.Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(poll, ct).ConfigureAwait(false);
            poll = NextStopPoll(poll);
            looks++;
            live = LiveMembers(pid, tracked);
        }
        LastStopLooks = looks;

        if (live.Count > 0)
        {
            Signal(pid, leadsGroup, Native.SIGKILL, tracked);
            var hard = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (LiveMembers(pid, tracked).Count > 0)
            {
                if (DateTime.UtcNow > hard)
                    throw new PortException($"link {process.Link}: pppd chain of pid {pid} survived SIGKILL (uninterruptible sleep?)");
                await Task.Delay(20, ct).ConfigureAwait(false);
            }
        }
        var rest = clock.Elapsed;
        if (tracked?.Exit is { } exit) await exit.WaitAsync(TimeSpan.FromSeconds(10), ct).ConfigureAwait(false); // reaped by the runtime
        if (tracked is not null) ReapOrphans(tracked);
        // The kept connection (master, ProxyCommand) must outlive the stop: one that did not cost a slirp-kill's
        // recovery a fresh login in a clean-clone run, and nothing said whether this stop had spared it.
        var keptPids = tracked?.Spared.Keys.Order().ToList() ?? [];
        var keptGone = keptPids.Where(p => Native.kill(p, 0) != 0).ToList();
        StopLog.Information("Link {Link}: pppd {Pid}'s chain stopped in {StopMs} ms (pppd's SIGTERM after {PppdSignalMs} ms, {Looked} processes looked at in {LookMs} ms, the rest's SIGTERM after {SignalMs} ms, pppd gone after {ExitMs} ms, the rest after {RestMs} ms, {Looks} looks after pppd); kept connection spared: [{Spared}], of them gone: [{SparedGone}]",
            process.Link, pid, (int)clock.Elapsed.TotalMilliseconds, (int)pppdSignalled.TotalMilliseconds, all.Count, (int)looked.TotalMilliseconds,
            (int)signalled.TotalMilliseconds, (int)exited.TotalMilliseconds, (int)rest.TotalMilliseconds, looks, string.Join(",", keptPids), string.Join(",", keptGone));
    }

    /// <summary>How old a shared look at every process may be for a foreign chain's stop (see <see cref="ProcessTree.AllShared"/>).</summary>
    private static readonly TimeSpan SharedLookAge = TimeSpan.FromMilliseconds(250);

    private static readonly Serilog.ILogger StopLog = Serilog.Log.ForContext<LinuxPppProcesses>();

    /// <summary>How many looks at the processes the last stop took for the chain's end after pppd's (tests).</summary>
    internal int LastStopLooks { get; private set; }

    /// <summary>
    /// The processes a chain of <paramref name="tracked"/> can hold, read once. A chain this instance started has pppd as
    /// its child, and as a child subreaper it inherits the chain's orphans and the links' ssh masters: everything is
    /// below this process, so only those processes are read (<see cref="ProcessTree.Descendants"/>), not all of /proc
    /// (in the guest a few dozen against a few hundred, each read costing the CPU the new chains need). An adopted pppd,
    /// or an instance that is no subreaper, may have members elsewhere: every process then.
    /// </summary>
    private IReadOnlyList<ProcStat> Snapshot(Tracked? tracked) =>
        _subreaper && tracked?.Process is not null ? ProcessTree.Descendants(Environment.ProcessId) : ProcessTree.All();

    /// <summary>
    /// Each look for the chain's live members reads the processes' stat: tens of milliseconds of CPU in the
    /// guest. A chain usually ends within the first few looks after SIGTERM; one that takes longer (pppd finishing
    /// ip-down) is looked at less and less often, so that three links stopping at once after the main slirp died do
    /// not spend the CPU their new chains need.
    /// </summary>
    public static readonly TimeSpan MinStopPoll = TimeSpan.FromMilliseconds(20);
    public static readonly TimeSpan MaxStopPoll = TimeSpan.FromMilliseconds(160);

    public static TimeSpan NextStopPoll(TimeSpan poll) => poll * 2 < MaxStopPoll ? poll * 2 : MaxStopPoll;

    /// <summary>
    /// pppd is gone by itself: whatever is left of its chain (an ssh that outlived it would keep slirp's unit
    /// attached and make the next start fail) is ended too, then reaped.
    /// </summary>
    private async Task EndLeftoversAsync(Tracked tracked, IReadOnlyList<ProcStat> all)
    {
        var chain = ProcessTree.Chain(tracked.Pid, all);
        Spare(tracked, chain, all);
        var left = chain.Where(m => !m.IsZombie && m.Pid != tracked.Pid && !tracked.Spared.ContainsKey(m.Pid)).ToList();
        foreach (var m in left) { tracked.Members.TryAdd(m.Pid, m.StartTime); Native.kill(m.Pid, Native.SIGTERM); }
        for (var i = 0; i < 50 && LiveMembers(tracked.Pid, tracked).Any(m => m.Pid != tracked.Pid); i++) await Task.Delay(20).ConfigureAwait(false);
        foreach (var m in LiveMembers(tracked.Pid, tracked)) if (m.Pid != tracked.Pid) Native.kill(m.Pid, Native.SIGKILL);
        for (var i = 0; i < 50 && LiveMembers(tracked.Pid, tracked).Any(m => m.Pid != tracked.Pid); i++) await Task.Delay(20).ConfigureAwait(false);
        ReapOrphans(tracked);
    }

    /// <summary>
    /// The link's kept ssh connection is no part of the attempt being stopped: its master and the master's ProxyCommand
    /// (a member of the chain by parent link; <see cref="SshMasters"/>) are left running. Looked for once per stop.
    /// </summary>
    private static void Spare(Tracked tracked, IReadOnlyList<ProcStat> chain, IReadOnlyList<ProcStat> all)
    {
        if (tracked.ControlPath is null) return;
        var spared = SshMasters.Spared(tracked.ControlPath, chain, all, tracked.SshPath);
        foreach (var m in chain) if (spared.Contains(m.Pid)) tracked.Spared[m.Pid] = m.ProcessGroup;
    }

    /// <summary>SIGTERM/SIGKILL to the process group and to every member found by session or parent links.</summary>
    private void Signal(int pid, bool leadsGroup, int sig, Tracked? tracked, IReadOnlyList<ProcStat>? chain = null)
    {
        if (leadsGroup) Native.kill(-pid, sig);
        foreach (var m in chain ?? ProcessTree.Chain(pid, Snapshot(tracked)))
        {
            if (m.IsZombie || tracked?.Spared.ContainsKey(m.Pid) == true) continue;
            tracked?.Members.TryAdd(m.Pid, m.StartTime);
            Native.kill(m.Pid, sig);
        }
    }

    private List<ProcStat> LiveMembers(int pid, Tracked? tracked)
    {
        var live = ProcessTree.Chain(pid, Snapshot(tracked)).Where(m => !m.IsZombie && tracked?.Spared.ContainsKey(m.Pid) != true).ToList();
        foreach (var m in live) tracked?.Members.TryAdd(m.Pid, m.StartTime);
        return live;
    }

    /// <summary>
    /// Reaps members of the chain that were reparented to this process (as subreaper) and died. Members are
    /// vouched for (they were seen below pppd, so the runtime did not start them) in case the reaper cannot
    /// tell the runtime's children apart. A foreign chain's orphans are never this process's: nothing is read for it
    /// (each read of every process cost an adopted link's stop, and its watcher's report of the exit, ~350 ms in the guest).
    /// </summary>
    private void ReapOrphans(Tracked tracked)
    {
        if (tracked.Foreign) return;
        foreach (var m in ProcessTree.Chain(tracked.Pid, Snapshot(tracked))) if (!tracked.Spared.ContainsKey(m.Pid)) tracked.Members.TryAdd(m.Pid, m.StartTime);
        foreach (var pid in tracked.Members.Keys)
        {
            if (!RuntimeChildren.ContainsKey(pid)) ChildReaper.Shared.Vouch(pid);
        }
        ChildReaper.Shared.Sweep();
    }

    public void Dispose()
    {
        _disposed.Cancel();
        _owner?.Dispose();
    }

    /// <summary>
    /// pids started through <see cref="Process"/> by any instance and not yet seen exiting. The runtime reaps
    /// them itself and calls Environment.FailFast when another waitpid got there first (ECHILD), so orphan
    /// reaping must never touch them, even when the same process adopted its own pppd.
    /// </summary>
    private static readonly ConcurrentDictionary<int, byte> RuntimeChildren = new();

    [GeneratedRegex(@"Using interface (\S+)")]
    private static partial Regex UsingInterface();

    private sealed record Tracked(int Link, int Pid, Process? Process)
    {
        public Task? Exit { get; init; }
        /// <summary>A stop was asked for: it ends the rest of the chain, not the exit's own clean-up.</summary>
        public volatile bool Stopping;
        public volatile IPppEvents Events = null!;
        public int InterfaceReported;
        public ConcurrentDictionary<int, ulong> Members { get; } = new();
        public string? ControlPath { get; init; }
        /// <summary>The configured ssh client: its master runs under that file's name.</summary>
        public string? SshPath { get; init; }
        /// <summary>The kept connection's processes found in the chain, with their process group.</summary>
        public ConcurrentDictionary<int, int> Spared { get; } = new();
        /// <summary>
        /// No member of the chain can ever be this process's child: an adopted pppd that an earlier daemon started has
        /// neither this process as its parent nor as an ancestor, so its members' orphans go to that pppd's own
        /// ancestors (init), and reaping them here would only cost a read of every process.
        /// </summary>
        public bool Foreign { get; init; }
    }
}
