using System.Globalization;

namespace EqlActors.Host.Linux;

/// <summary>One line of <c>/proc/PID/stat</c>: what is needed to find a process chain and its zombies.</summary>
public sealed record ProcStat(int Pid, char State, int ParentPid, int ProcessGroup, int Session, ulong StartTime)
{
    public bool IsZombie => State is 'Z' or 'X';

    /// <summary>The command name (stat's second field, at most 15 bytes): free with the line, unlike a read of cmdline.</summary>
    public string Comm { get; init; } = "";
}

/// <summary>Reads <c>/proc</c>. All methods tolerate processes vanishing while they look.</summary>
public static class ProcessTree
{
    public static ProcStat? Stat(int pid, string proc = "/proc")
    {
        try
        {
            return Parse(File.ReadAllText(Path.Combine(proc, pid.ToString(CultureInfo.InvariantCulture), "stat")));
        }
        catch (FormatException) { return null; }
        catch (IndexOutOfRangeException) { return null; }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Parses <c>pid (comm) S ppid pgrp session ... starttime</c>; comm may hold spaces and parentheses.</summary>
    public static ProcStat? Parse(string line)
    {
        var close = line.LastIndexOf(')');
        if (close < 0) return null;
        var pid = int.Parse(line.AsSpan(0, line.IndexOf(' ')), CultureInfo.InvariantCulture);
        var f = line[(close + 2)..].Split(' ');
        // f[0]=state f[1]=ppid f[2]=pgrp f[3]=session ... f[19]=starttime (field 22 of stat)
        var open = line.IndexOf('(');
        return new ProcStat(pid, f[0][0], Int(f[1]), Int(f[2]), Int(f[3]), ulong.Parse(f[19], CultureInfo.InvariantCulture))
        {
            Comm = open >= 0 && open < close ? line[(open + 1)..close] : "",
        };
    }

    public static IReadOnlyList<ProcStat> All(string proc = "/proc")
    {
        var list = new List<ProcStat>();
        foreach (var dir in Directory.GetDirectories(proc))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Stat(pid, proc) is { } s)
                list.Add(s);
        }
        return list;
    }

    private static readonly object SharedWalk = new();
    private static (long Started, IReadOnlyList<ProcStat> All)? _lastWalk;

    /// <summary>
    /// Every process, from a walk of /proc that started at most <paramref name="maxAge"/> before this call (or after
    /// it): callers at the same moment share one walk instead of each making its own. Three adopted links stopping at
    /// once after the main slirp died each read all ~95 processes of the guest at the same time (350-510 ms each,
    /// against the CPU their new chains needed). Only for a look whose caller finds later arrivals some other way.
    /// </summary>
    public static IReadOnlyList<ProcStat> AllShared(TimeSpan maxAge)
    {
        var asked = System.Diagnostics.Stopwatch.GetTimestamp();
        lock (SharedWalk)
        {
            // (a walk that started after this call, while it waited for the lock, is newer than asked for)
            if (_lastWalk is { } last && System.Diagnostics.Stopwatch.GetElapsedTime(last.Started, asked) <= maxAge) return last.All;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var all = All();
            _lastWalk = (started, all);
            return all;
        }
    }

    /// <summary>
    /// The pids <paramref name="pid"/> forked that still have it as parent: every thread's
    /// <c>/proc/PID/task/TID/children</c> (a child is listed under the thread that forked it). Empty when it is gone.
    /// </summary>
    public static IReadOnlyList<int> Children(int pid, string proc = "/proc")
    {
        var list = new List<int>();
        string[] tasks;
        try { tasks = Directory.GetDirectories(Path.Combine(proc, pid.ToString(CultureInfo.InvariantCulture), "task")); }
        catch (IOException) { return list; }
        catch (UnauthorizedAccessException) { return list; }
        foreach (var task in tasks)
        {
            string text;
            try { text = File.ReadAllText(Path.Combine(task, "children")); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                if (int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var child)) list.Add(child);
        }
        return list;
    }

    /// <summary>
    /// Every live process below <paramref name="root"/> by parent links, read from the children lists instead of every
    /// process in /proc: for a child subreaper, whose chains' orphans are reparented to it, a snapshot of everything its
    /// chains can hold at the cost of those processes only (the guest's /proc holds many more: sshd's, slirp, kernel
    /// threads). The root itself is not included.
    /// </summary>
    public static IReadOnlyList<ProcStat> Descendants(int root, string proc = "/proc")
    {
        var found = new Dictionary<int, ProcStat>();
        var tried = new HashSet<int>();
        var next = new Queue<int>(Children(root, proc));
        while (true)
        {
            while (next.Count > 0)
            {
                var pid = next.Dequeue();
                if (!tried.Add(pid) || Stat(pid, proc) is not { } s) continue;
                found[pid] = s;
                foreach (var child in Children(pid, proc)) next.Enqueue(child);
            }
            // A process whose parent ends while the walk runs moves to the subreaper's list: read after it, it was in
            // neither. The root's list is read again until it holds nothing new. Missed that way, a link's first chain's
            // ProxyCommand (reparented here when the mux client under pppd ended at the main slirp's death) was no
            // member, so not spared, and pppd's group signal ended it and the kept connection with it: a fresh login
            // for link 0 at slirp-kill in three clean-clone runs.
            foreach (var child in Children(root, proc)) if (!tried.Contains(child)) next.Enqueue(child);
            if (next.Count == 0) return found.Values.ToList();
        }
    }

    /// <summary>
    /// Whether <paramref name="ancestor"/> is <paramref name="pid"/>'s parent or an ancestor of it, by parent links read
    /// now (one stat per generation). A process that vanishes on the way is taken as not below: nothing of it is left
    /// to be reparented.
    /// </summary>
    public static bool IsBelow(int pid, int ancestor, string proc = "/proc")
    {
        // A bound on the walk: parent links cannot loop, but a pid reused while walking could make a chain look longer.
        for (var depth = 0; depth < 256 && pid > 1; depth++)
        {
            if (Stat(pid, proc) is not { } s) return false;
            if (s.ParentPid == ancestor) return true;
            pid = s.ParentPid;
        }
        return false;
    }

    /// <summary>argv of a process, or null when it is gone (or a zombie, whose cmdline is empty).</summary>
    public static IReadOnlyList<string>? CommandLine(int pid, string proc = "/proc")
    {
        try
        {
            var raw = File.ReadAllBytes(Path.Combine(proc, pid.ToString(CultureInfo.InvariantCulture), "cmdline"));
            if (raw.Length == 0) return null;
            var text = System.Text.Encoding.UTF8.GetString(raw);
            return text.TrimEnd('\0').Split('\0');
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// Every live process of a chain: the leader, its process group, its session and every descendant by
    /// parent links (pppd's pty child may start a session of its own).
    /// </summary>
    public static IReadOnlyList<ProcStat> Chain(int leader, string proc = "/proc") => Chain(leader, All(proc));

    /// <summary>The chain of <paramref name="leader"/> within one snapshot of every process (one /proc scan for several uses).</summary>
    public static IReadOnlyList<ProcStat> Chain(int leader, IReadOnlyList<ProcStat> all)
    {
        var members = new Dictionary<int, ProcStat>();
        foreach (var p in all)
        {
            if (p.Pid == leader || p.ProcessGroup == leader || p.Session == leader) members[p.Pid] = p;
        }
        return WithDescendants(members, all);
    }

    /// <summary><paramref name="members"/> and every descendant of theirs in <paramref name="all"/>, by parent links.</summary>
    public static IReadOnlyList<ProcStat> WithDescendants(Dictionary<int, ProcStat> members, IReadOnlyCollection<ProcStat> all)
    {
        bool grew;
        do
        {
            grew = false;
            foreach (var p in all)
            {
                if (!members.ContainsKey(p.Pid) && members.ContainsKey(p.ParentPid))
                {
                    members[p.Pid] = p;
                    grew = true;
                }
            }
        } while (grew);
        return members.Values.ToList();
    }

    /// <summary>Seconds since boot (/proc/uptime): with a <see cref="ProcStat.StartTime"/> (10 ms ticks since boot), a process's age.</summary>
    public static double? SecondsSinceBoot()
    {
        try { return double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>How long <paramref name="process"/> has lived, in seconds (its start time is in 10 ms ticks since boot); null when /proc/uptime cannot be read.</summary>
    public static double? SecondsAlive(ProcStat process) => SecondsSinceBoot() is { } up ? up - process.StartTime / 100.0 : null;

    private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);
}
