namespace EqlActors.Host.Linux;

/// <summary>
/// Waits for processes to end as an event (pidfd_open(2), then poll(2) until each pidfd is readable: the process has
/// exited), on a thread of its own so that no port thread or actor waits on it. What the chain's stop uses for the
/// members it found in its look, instead of looking at <c>/proc</c> again and again while they end: each look reads
/// the processes' stat, 0.2-0.9 s in the loaded guest.
/// </summary>
public static class PidFds
{
    // The slice of one poll: the wait's cancellation is looked at between slices.
    private const int SliceMs = 250;

    /// <summary>
    /// Waits until every process of <paramref name="members"/> that pidfd_open could watch has exited, or
    /// <paramref name="timeout"/> passed. A member already gone, or no longer the process of the look (its pid reused:
    /// another start time), is not waited for. Returns how many were watched; the caller's next look finds whatever
    /// could not be (pidfd_open unavailable) or joined after the look.
    /// </summary>
    public static Task<int> WaitForExitsAsync(IReadOnlyList<ProcStat> members, TimeSpan timeout, CancellationToken ct = default)
    {
        var fds = new List<int>();
        foreach (var m in members)
            if (Open(m.Pid, m.StartTime) is var fd and >= 0) fds.Add(fd);
        if (fds.Count == 0) return Task.FromResult(0);
        return Task.Factory.StartNew(() => Wait(fds, timeout, ct), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>
    /// A pidfd of <paramref name="pid"/> while it is still the process that started at <paramref name="startTime"/>
    /// (opened after it was looked at: the pidfd holds that process from here on); -1 when it is gone, a zombie, its
    /// pid reused, or pidfd_open is unavailable. The caller closes it.
    /// </summary>
    public static int Open(int pid, ulong startTime)
    {
        var fd = (int)Native.syscall(Native.SYS_pidfd_open, pid, 0);
        if (fd < 0) return -1;
        if (ProcessTree.Stat(pid) is { IsZombie: false } now && now.StartTime == startTime) return fd;
        Native.close(fd);
        return -1;
    }

    /// <summary>Whether the process of <paramref name="pidfd"/> exits within <paramref name="timeoutMs"/>.</summary>
    public static bool Exited(int pidfd, int timeoutMs)
    {
        var poll = new[] { new Native.PollFd { Fd = pidfd, Events = Native.POLLIN } };
        return Native.poll(poll, 1, timeoutMs) > 0;
    }

    private static int Wait(List<int> fds, TimeSpan timeout, CancellationToken ct)
    {
        var watched = fds.Count;
        var deadline = Environment.TickCount64 + (long)Math.Max(0, timeout.TotalMilliseconds);
        try
        {
            while (fds.Count > 0 && !ct.IsCancellationRequested)
            {
                var left = deadline - Environment.TickCount64;
                if (left <= 0) break;
                var poll = fds.Select(fd => new Native.PollFd { Fd = fd, Events = Native.POLLIN }).ToArray();
                if (Native.poll(poll, (nuint)poll.Length, (int)Math.Min(left, SliceMs)) <= 0) continue;
                foreach (var p in poll.Where(p => p.Revents != 0))
                {
                    Native.close(p.Fd);
                    fds.Remove(p.Fd);
                }
            }
        }
        finally
        {
            foreach (var fd in fds) Native.close(fd);
        }
        return watched;
    }
}
