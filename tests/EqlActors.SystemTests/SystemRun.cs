using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace EqlActors.SystemTests;

/// <summary>Runs <c>tests/system/run ARGS</c>, streaming its output to the test's, and returns its last JSON line and its exit code.</summary>
internal static class SystemRun
{
    public static async Task<(string LastLine, int ExitCode)> RunAsync(ITestOutputHelper output, TimeSpan limit, params string[] args)
    {
        var root = RepoRoot();
        var script = Path.Combine(root, "tests", "system", "run");
        Assert.True(File.Exists(script), $"no {script}");
        var psi = new ProcessStartInfo(script) { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = new Process { StartInfo = psi };
        var lastLine = "";
        var gate = new object();
        void Line(string? line, bool stdout)
        {
            if (line is null) return;
            lock (gate)
            {
                if (stdout && line.TrimStart().StartsWith('{')) lastLine = line;
                try { output.WriteLine(line); } catch (InvalidOperationException) { } // after the test ended
            }
        }
        process.OutputDataReceived += (_, e) => Line(e.Data, true);
        process.ErrorDataReceived += (_, e) => Line(e.Data, false);
        Assert.True(process.Start());
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM: run forwards it to run-guest, which kills qemu and cleans up.
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]);
            kill?.WaitForExit();
            await process.WaitForExitAsync(CancellationToken.None);
            Assert.Fail($"tests/system/run {string.Join(' ', args)} did not finish within {limit}");
        }
        process.WaitForExit(); // flushes the output events
        Assert.False(string.IsNullOrEmpty(lastLine), $"tests/system/run {string.Join(' ', args)} printed no JSON summary");
        return (lastLine, process.ExitCode);
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EqlActors.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no EqlActors.sln above {AppContext.BaseDirectory}");
    }
}
