using EqlActors.Host.Linux;

namespace EqlActors.Tests.Linux;

public sealed class ProcessTreeTests
{
    [Theory]
    [InlineData("4242 (ssh) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 99 0 0", "ssh", 1, 4242, 99UL)]
    // comm may hold spaces and parentheses: the last ')' ends it
    [InlineData("77 (a) b (c)) R 5 6 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0", "a) b (c)", 5, 7, 12345UL)]
    public void A_stat_line_gives_the_command_name_with_the_fields_after_it(string line, string comm, int parent, int session, ulong start)
    {
        var stat = ProcessTree.Parse(line)!;
        Assert.Equal((comm, parent, session, start), (stat.Comm, stat.ParentPid, stat.Session, stat.StartTime));
    }

    [Fact]
    public void This_process_s_own_stat_names_it_as_its_comm_file_does()
    {
        var pid = Environment.ProcessId;
        var comm = File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n');
        Assert.Equal(comm, ProcessTree.Stat(pid)!.Comm);
    }

    /// <summary>
    /// A child sh of this process with <c>count</c> sleeps of its own, each already exec'd (a child is listed from its
    /// fork, still named sh until it execs sleep). Disposing kills the sleeps first: sh's wait then reaps them and sh
    /// exits by itself, leaving no orphan.
    /// </summary>
    private sealed class ShellWithSleeps : IDisposable
    {
        private readonly System.Diagnostics.Process _sh;

        private ShellWithSleeps(System.Diagnostics.Process sh) => _sh = sh;

        public int Pid => _sh.Id;

        public static async Task<ShellWithSleeps> StartAsync(int count)
        {
            var psi = new System.Diagnostics.ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            foreach (var a in new[] { "-c", string.Concat(Enumerable.Repeat("sleep 60 & ", count)) + "wait" }) psi.ArgumentList.Add(a);
            var shell = new ShellWithSleeps(System.Diagnostics.Process.Start(psi)!);
            try
            {
                await Fixtures.Wait.UntilAsync(
                    () => ProcessTree.Children(shell.Pid) is { } kids && kids.Count == count && kids.All(pid => ProcessTree.Stat(pid)?.Comm == "sleep"),
                    TimeSpan.FromSeconds(20), $"sh to fork {count} sleep(s) and each to exec sleep");
                return shell;
            }
            catch
            {
                shell.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            foreach (var pid in ProcessTree.Children(_sh.Id)) Native.kill(pid, Native.SIGKILL);
            if (!_sh.WaitForExit(20_000)) _sh.Kill();
            _sh.WaitForExit();
            _sh.Dispose();
        }
    }

    [Fact]
    public async Task Descendants_are_found_through_the_children_lists_grandchildren_included()
    {
        // sh forks two sleeps and waits for them: a child of this process with two children of its own.
        using var sh = await ShellWithSleeps.StartAsync(2);
        var below = ProcessTree.Descendants(Environment.ProcessId);
        var sleeps = ProcessTree.Children(sh.Pid);
        Assert.Contains(below, p => p.Pid == sh.Pid && p.ParentPid == Environment.ProcessId);
        Assert.All(sleeps, pid => Assert.Contains(below, p => p.Pid == pid && p.ParentPid == sh.Pid && p.Comm == "sleep"));
        Assert.DoesNotContain(below, p => p.Pid == Environment.ProcessId || p.Pid == 1);
        // The same members as the chain found in a scan of every process.
        Assert.Equal(ProcessTree.Chain(sh.Pid).Select(p => p.Pid).Order(), ProcessTree.Chain(sh.Pid, below).Select(p => p.Pid).Order());
    }

    [Fact]
    public async Task A_grandchild_is_below_this_process_and_its_parent_while_this_process_s_own_parent_is_not()
    {
        using var sh = await ShellWithSleeps.StartAsync(1);
        var sleep = Assert.Single(ProcessTree.Children(sh.Pid));
        var self = Environment.ProcessId;
        Assert.True(ProcessTree.IsBelow(sh.Pid, self), "a child is below its parent");
        Assert.True(ProcessTree.IsBelow(sleep, self), "a grandchild is below its grandparent");
        Assert.True(ProcessTree.IsBelow(sleep, sh.Pid));
        Assert.False(ProcessTree.IsBelow(sh.Pid, sleep), "a parent is not below its child");
        // What an earlier daemon left is like this process's own parent: no parent link leads here from it.
        Assert.False(ProcessTree.IsBelow(ProcessTree.Stat(self)!.ParentPid, self));
        Assert.False(ProcessTree.IsBelow(1, self), "init is below nothing");
        Assert.False(ProcessTree.IsBelow(int.MaxValue, self), "a process that is gone is below nothing");
    }

    [Fact]
    public void Looks_at_every_process_within_the_age_share_one_walk_and_an_older_one_is_walked_again()
    {
        var first = ProcessTree.AllShared(TimeSpan.FromHours(1));
        Assert.Contains(first, p => p.Pid == Environment.ProcessId);
        Assert.Same(first, ProcessTree.AllShared(TimeSpan.FromHours(1)));
        var fresh = ProcessTree.AllShared(TimeSpan.Zero);
        Assert.NotSame(first, fresh);
        Assert.Contains(fresh, p => p.Pid == Environment.ProcessId);
    }

    [Fact]
    public void A_grandchild_reparented_to_the_root_while_the_walk_runs_is_still_found()
    {
        // A /proc of three processes: root 1, its child 10, and 11, which moves from 10's children list to the root's
        // (10 ended, the root is a subreaper) after the walk read the root's list and before it read 10's. 10's list is
        // a FIFO: when the walk opens it, a thread moves 11 in the root's list, then closes the FIFO empty.
        var proc = Directory.CreateTempSubdirectory("proctree-").FullName;
        var rootList = Path.Combine(proc, "1", "task", "1", "children");
        var list10 = Path.Combine(proc, "10", "task", "10", "children");
        Thread? serve = null;
        try
        {
            foreach (var (pid, ppid) in new[] { (1, 0), (10, 1), (11, 1) })
            {
                Directory.CreateDirectory(Path.Combine(proc, $"{pid}", "task", $"{pid}"));
                File.WriteAllText(Path.Combine(proc, $"{pid}", "stat"), $"{pid} (p{pid}) S {ppid} {pid} {pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 {100 + pid} 0 0");
            }
            File.WriteAllText(rootList, "10 ");
            File.WriteAllText(Path.Combine(proc, "11", "task", "11", "children"), "");
            using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [list10])) mkfifo.WaitForExit();
            serve = new Thread(() =>
            {
                using var writer = new FileStream(list10, FileMode.Open, FileAccess.Write); // returns once the walk opens it
                File.WriteAllText(rootList, "10 11 ");
            }) { IsBackground = true };
            serve.Start();

            var below = ProcessTree.Descendants(1, proc).Select(p => p.Pid).Order().ToList();

            Assert.Equal([10, 11], below);
        }
        finally
        {
            // A walk that never read 10's list leaves the thread waiting for a reader: be that reader.
            if (serve is not null && !serve.Join(TimeSpan.FromSeconds(5)))
            {
                using (new FileStream(list10, FileMode.Open, FileAccess.Read)) { }
                serve.Join(TimeSpan.FromSeconds(10));
            }
            Directory.Delete(proc, true);
        }
    }

    [Fact]
    public void A_process_that_is_gone_has_no_children()
    {
        Assert.Empty(ProcessTree.Children(int.MaxValue));
    }

    [Fact]
    public void The_stop_s_warm_up_finds_this_process_s_own_pipe_ends()
    {
        // A pipe of our own: both its ends are descriptors of this process, which the warm-up must read as pipe ends.
        using var server = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.Out);
        using var client = new System.IO.Pipes.AnonymousPipeClientStream(System.IO.Pipes.PipeDirection.In, server.ClientSafePipeHandle);
        Assert.True(SshMasters.WarmUp() >= 2);
    }
}
