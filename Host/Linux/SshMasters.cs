using System.Globalization;

namespace EqlActors.Host.Linux;

/// <summary>
/// A link's OpenSSH master connection (<c>ControlMaster=auto</c> with <c>ControlPersist</c>; docs/facts.md, "One ssh
/// connection per link"): found by its control path, spared when the link's pppd chain is stopped, ended on demand.
/// </summary>
/// <remarks>
/// The master is the first attempt's ssh forked off after authentication: it calls <c>daemon()</c> (a session of its
/// own, stdio on /dev/null), so it is reparented to this process (a child subreaper) and is no member of pppd's chain,
/// and it names itself <c>ssh: PATH [mux]</c>. Its ProxyCommand (the jump host's <c>ssh -W</c>) was started before
/// that fork, by the process that became the mux client under pppd: it is a member of pppd's chain by parent link
/// although it carries the master's connection. It is told apart by its stdin and stdout, the two pipes the master
/// holds the other ends of; the hops below it are its descendants.
/// </remarks>
public static class SshMasters
{
    /// <summary>
    /// What OpenSSH's <c>setproctitle("%s [mux]", control_path)</c> makes a master's command line: prefixed with the
    /// program's name (the base name of its argv[0]: <c>ssh</c>, or the configured client's own name).
    /// </summary>
    public static string Title(string controlPath, string? sshPath = null) =>
        $"{(sshPath is null ? "ssh" : Path.GetFileName(sshPath))}: {controlPath} [mux]";

    /// <summary>
    /// Whether <paramref name="p"/> runs the ssh client: its command name (/proc's <c>comm</c>, the executed file's
    /// name cut to 15 bytes by the kernel) is <c>ssh</c>, or the name of the configured client
    /// (<c>remote.sshPath</c>) when that is another: a link or a copy named otherwise runs under its own name, and so
    /// does the ProxyCommand of <c>-J</c>, which OpenSSH starts from the same path (its argv[0]).
    /// </summary>
    public static bool IsSsh(ProcStat p, string? sshPath) => p.Comm == "ssh" || (sshPath is not null && p.Comm == CommandName(sshPath));

    /// <summary>The command name the kernel gives a process that executed <paramref name="path"/> (TASK_COMM_LEN: 15 bytes).</summary>
    public static string CommandName(string path)
    {
        var name = System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(path));
        return System.Text.Encoding.UTF8.GetString(name, 0, Math.Min(name.Length, 15));
    }

    /// <summary>Live masters listening on <paramref name="controlPath"/> (normally one), run from <paramref name="sshPath"/>.</summary>
    public static IReadOnlyList<ProcStat> Find(string controlPath, IReadOnlyList<ProcStat>? all = null, string? sshPath = null)
    {
        var titles = new HashSet<string> { Title(controlPath), Title(controlPath, sshPath) };
        // A master is an ssh that leads its own session (daemon()): only those few command lines are read. Reading every
        // session leader's (pppd, sshd sessions, shells) cost the guest a visible part of each chain's stop, under load.
        return (all ?? ProcessTree.All()).Where(p => !p.IsZombie && p.Session == p.Pid && IsSsh(p, sshPath) && ProcessTree.CommandLine(p.Pid) is [var first, ..] && titles.Contains(first)).ToList();
    }

    /// <summary>
    /// The master's own processes among <paramref name="candidates"/>: the ProxyCommand whose stdin and stdout are
    /// pipes the master holds, and everything below it (inner hops). The master itself is included when it is a candidate.
    /// </summary>
    public static IReadOnlyList<ProcStat> Family(ProcStat master, IReadOnlyList<ProcStat> candidates, IReadOnlyList<ProcStat> all, string? sshPath = null)
    {
        var pipes = Pipes(master.Pid);
        var family = new Dictionary<int, ProcStat>();
        if (candidates.Any(c => c.Pid == master.Pid)) family[master.Pid] = master;
        if (pipes.Count == 0) return family.Values.ToList();
        foreach (var c in candidates)
        {
            if (c.Pid == master.Pid || c.IsZombie) continue;
            if (c.Pid == Environment.ProcessId || !IsSsh(c, sshPath)) continue;
            // The master writes what the proxy reads and reads what it writes: the other ends, not copies of the same
            // ends (a mux client whose stdin and stdout are pipes passed those very ends to the master). ssh -W keeps
            // them on descriptors of its own, not necessarily 0 and 1.
            var own = Pipes(c.Pid);
            if (own.Any(e => e.Mode == ReadOnly && pipes.Contains((e.Inode, WriteOnly))) && own.Any(e => e.Mode == WriteOnly && pipes.Contains((e.Inode, ReadOnly))))
                family[c.Pid] = c;
        }
        return ProcessTree.WithDescendants(family, all);
    }

    /// <summary>Members of a pppd chain that belong to the link's master and must outlive the chain's stop.</summary>
    public static IReadOnlySet<int> Spared(string? controlPath, IReadOnlyList<ProcStat> chain, IReadOnlyList<ProcStat>? all = null, string? sshPath = null)
    {
        if (controlPath is null || chain.Count == 0) return new HashSet<int>();
        all ??= ProcessTree.All();
        var spared = new HashSet<int>();
        foreach (var master in Find(controlPath, all, sshPath))
            foreach (var m in Family(master, chain, all, sshPath)) spared.Add(m.Pid);
        return spared;
    }

    /// <summary>
    /// Ends the master on <paramref name="controlPath"/> and its ProxyCommand, whatever state they are in (a master
    /// stopped by SIGSTOP is continued so that it handles the SIGTERM; SIGKILL after <paramref name="grace"/>), then
    /// removes the socket if the master could not. Returns the pids ended. Each is reaped by the
    /// <see cref="ChildReaper"/>: a master is this process's child once its parent exited.
    /// </summary>
    public static async Task<IReadOnlyList<int>> EndAsync(string controlPath, TimeSpan grace, string? sshPath = null, CancellationToken ct = default)
    {
        var all = ProcessTree.All();
        var family = new Dictionary<int, ulong>();
        foreach (var master in Find(controlPath, all, sshPath))
            foreach (var m in Family(master, all, all, sshPath)) family[m.Pid] = m.StartTime;
        foreach (var pid in family.Keys) ChildReaper.Shared.Vouch(pid);
        Signal(family, Native.SIGTERM);
        var deadline = DateTime.UtcNow + grace;
        var poll = LinuxPppProcesses.MinStopPoll;
        while (Alive(family).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(poll, ct).ConfigureAwait(false);
            poll = LinuxPppProcesses.NextStopPoll(poll);
        }
        if (Alive(family).Count > 0)
        {
            Signal(family, Native.SIGKILL);
            var hard = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (Alive(family) is { Count: > 0 } left)
            {
                if (DateTime.UtcNow > hard)
                    throw new Ports.PortException($"the ssh master on {controlPath} (pids {string.Join(", ", left)}) survived SIGKILL");
                await Task.Delay(20, ct).ConfigureAwait(false);
            }
        }
        // A master that ended by SIGKILL leaves its socket; ControlMaster=auto would unlink it too, but nothing stale stays.
        try
        {
            File.Delete(controlPath); // unlink: nothing when missing (File.Exists is false for a socket)
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        ChildReaper.Shared.Sweep();
        return family.Keys.ToList();
    }

    private static void Signal(Dictionary<int, ulong> family, int sig)
    {
        foreach (var (pid, start) in family)
        {
            if (ProcessTree.Stat(pid) is not { IsZombie: false } s || s.StartTime != start) continue;
            Native.kill(pid, sig);
            if (sig == Native.SIGTERM) Native.kill(pid, Native.SIGCONT);
        }
    }

    private static List<int> Alive(Dictionary<int, ulong> family) =>
        family.Where(f => ProcessTree.Stat(f.Key) is { IsZombie: false } s && s.StartTime == f.Value).Select(f => f.Key).ToList();

    // OpenSSH's PROTOCOL.mux, version 4: each message a uint32 length then its body, big-endian words.
    private const uint MuxHello = 0x00000001;
    private const uint MuxAliveCheck = 0x10000004;
    private const uint MuxAlive = 0x80000005;
    private const uint MuxVersion = 4;

    /// <summary>
    /// The alive check of <c>ssh -O check</c>, spoken here on the master's control socket (PROTOCOL.mux: hello both
    /// ways, then MUX_C_ALIVE_CHECK, answered MUX_S_ALIVE with the master's pid) instead of starting ssh: in the guest a
    /// fork and exec of ssh cost 2-3 s, three links at once under load, on the restart's critical path. The master
    /// answers by itself, without a word to host_B. A stopped master accepts the connection (the kernel's backlog) but
    /// never answers: the timeout says so. Returns the master's pid, or null when nothing answers in time.
    /// </summary>
    public static async Task<int?> AliveAsync(string controlPath, TimeSpan timeout, CancellationToken ct = default)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(controlPath), limit.Token).ConfigureAwait(false);
            await SendAsync(socket, [MuxHello, MuxVersion], limit.Token).ConfigureAwait(false);
            if (await ReceiveAsync(socket, limit.Token).ConfigureAwait(false) is not [MuxHello, MuxVersion, ..]) return null;
            var request = (uint)Random.Shared.Next();
            await SendAsync(socket, [MuxAliveCheck, request], limit.Token).ConfigureAwait(false);
            return await ReceiveAsync(socket, limit.Token).ConfigureAwait(false) is [MuxAlive, var id, var pid, ..] && id == request ? (int)pid : null;
        }
        catch (System.Net.Sockets.SocketException) { return null; } // no socket, nobody listening, connection reset
        catch (EndOfStreamException) { return null; }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { return null; } // frozen: no answer in time
    }

    private static async Task SendAsync(System.Net.Sockets.Socket socket, uint[] words, CancellationToken ct)
    {
        var message = new byte[4 + 4 * words.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(message, (uint)(4 * words.Length));
        for (var i = 0; i < words.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4 + 4 * i), words[i]);
        await socket.SendAsync(message, System.Net.Sockets.SocketFlags.None, ct).ConfigureAwait(false);
    }

    /// <summary>One message's leading words (an extension's strings after them are skipped).</summary>
    private static async Task<uint[]> ReceiveAsync(System.Net.Sockets.Socket socket, CancellationToken ct)
    {
        var header = await ReceiveExactlyAsync(socket, 4, ct).ConfigureAwait(false);
        var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length is < 4 or > 256 * 1024) throw new EndOfStreamException($"a mux message of {length} bytes");
        var body = await ReceiveExactlyAsync(socket, (int)length, ct).ConfigureAwait(false);
        var words = new uint[Math.Min(body.Length / 4, 3)];
        for (var i = 0; i < words.Length; i++) words[i] = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(4 * i));
        return words;
    }

    private static async Task<byte[]> ReceiveExactlyAsync(System.Net.Sockets.Socket socket, int count, CancellationToken ct)
    {
        var buffer = new byte[count];
        for (var done = 0; done < count;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(done), System.Net.Sockets.SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0) throw new EndOfStreamException("the master closed the control connection");
            done += n;
        }
        return buffer;
    }

    private const int ReadOnly = 0;
    private const int WriteOnly = 1;

    /// <summary>The pipe ends among a process's open descriptors: the pipe's inode and the end's access mode.</summary>
    private static HashSet<(ulong Inode, int Mode)> Pipes(int pid)
    {
        var set = new HashSet<(ulong, int)>();
        IEnumerable<string> entries;
        try { entries = Directory.GetFiles($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/fd"); }
        catch (IOException) { return set; }
        catch (UnauthorizedAccessException) { return set; }
        foreach (var e in entries)
            if (int.TryParse(Path.GetFileName(e), NumberStyles.None, CultureInfo.InvariantCulture, out var fd) && PipeOf(pid, fd) is { } end) set.Add(end);
        return set;
    }

    /// <summary>Descriptor <paramref name="fd"/> of a process when it is a pipe: its inode and access mode (fdinfo's flags &amp; 3).</summary>
    private static (ulong Inode, int Mode)? PipeOf(int pid, int fd)
    {
        var p = pid.ToString(CultureInfo.InvariantCulture);
        var f = fd.ToString(CultureInfo.InvariantCulture);
        try
        {
            var target = new FileInfo($"/proc/{p}/fd/{f}").LinkTarget;
            if (target is null || !target.StartsWith("pipe:[", StringComparison.Ordinal) || !target.EndsWith(']')
                || !ulong.TryParse(target.AsSpan(6, target.Length - 7), NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
                return null;
            foreach (var line in File.ReadLines($"/proc/{p}/fdinfo/{f}"))
                if (line.StartsWith("flags:", StringComparison.Ordinal))
                    return (inode, (int)(Convert.ToUInt32(line[6..].Trim(), 8) & 3));
            return null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        catch (FormatException) { return null; }
    }
}
