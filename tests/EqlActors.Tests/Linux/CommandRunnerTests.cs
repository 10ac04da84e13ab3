using System.Runtime.Versioning;
using EqlActors.Host.Linux;
using EqlActors.Ports;

namespace EqlActors.Tests.Linux;

/// <summary>
/// The daemon runs short commands (`ip`, `sysctl`) every few seconds for as long as it runs: each must give back its
/// pipes when it returns, not when the GC finalizes them. Alone in the "fd-count" collection so that other tests'
/// pipes do not blur the count.
/// </summary>
[Collection("fd-count")]
[SupportedOSPlatform("linux")]
public sealed class CommandRunnerTests
{
    private static int OpenPipes() =>
        new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos()
            .Count(f => { try { return f.LinkTarget?.StartsWith("pipe:", StringComparison.Ordinal) == true; } catch (IOException) { return false; } });

    [Fact]
    public async Task Each_command_closes_its_pipes_when_it_returns()
    {
        await CommandRunner.RunAsync(["/bin/sh", "-c", "echo warm"]); // first use: the runtime's own SIGCHLD plumbing
        var before = OpenPipes();
        for (var i = 0; i < 10; i++)
        {
            // no collection between the runs: a pipe left to the finalizer stays counted
            var r = await CommandRunner.RunAsync(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"]);
            Assert.Equal((3, "out\n", "err\n"), (r.ExitCode, r.Stdout, r.Stderr));
            Assert.True(OpenPipes() <= before, $"run {i + 1}: {OpenPipes()} pipes open, {before} before the runs");
        }
    }

    [Fact]
    public async Task A_command_that_times_out_is_killed_and_closes_its_pipes()
    {
        await CommandRunner.RunAsync(["/bin/sh", "-c", "echo warm"]);
        var before = OpenPipes();
        var e = await Assert.ThrowsAsync<PortException>(() =>
            CommandRunner.RunAsync(["/bin/sh", "-c", "echo started; exec sleep 60"], timeout: TimeSpan.FromMilliseconds(300)));
        Assert.Contains("timed out", e.Message);
        Assert.True(OpenPipes() <= before, $"{OpenPipes()} pipes open after the timeout, {before} before");
    }
}
