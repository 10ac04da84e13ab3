using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace EqlActors.SystemTests;

/// <summary>
/// Issue 5, the system test: <c>tests/system/run</c> publishes the daemon, boots the qemu guest (real pppd, ssh -t
/// through a jump host, multi-unit slirp, Debian's eql driver) and runs guest/product.sh with its faults. Needs
/// root; the script installs the packages and builds the guest it needs. ~10 min on a loaded 2-core host.
/// </summary>
[Collection(QemuGuestCollection.Name)]
public class ProductScenarioTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(40);

    [Fact]
    public async Task The_product_brings_up_heals_every_fault_balances_uploads_and_tears_down_clean_in_the_guest()
    {
        var root = RepoRoot();
        var script = Path.Combine(root, "tests", "system", "run");
        Assert.True(File.Exists(script), $"no {script}");

        var psi = new ProcessStartInfo(script) { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("--product");
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
        using var cts = new CancellationTokenSource(Limit);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM: run forwards it to run-guest, which kills qemu and cleans up.
            Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])?.WaitForExit();
            await process.WaitForExitAsync(CancellationToken.None);
            Assert.Fail($"tests/system/run did not finish within {Limit}");
        }
        process.WaitForExit(); // flushes the output events

        Assert.False(string.IsNullOrEmpty(lastLine), "tests/system/run printed no JSON summary");
        using var summary = JsonDocument.Parse(lastLine);
        var s = summary.RootElement;
        Assert.False(s.TryGetProperty("error", out var error), $"tests/system/run: {error}");
        Assert.Equal(3, s.GetProperty("linksEnslaved").GetInt32());
        Assert.True(s.GetProperty("transferVerified").GetBoolean(), "a transfer through the bundle failed its check");
        var faults = s.GetProperty("faults").EnumerateObject().ToList();
        Assert.NotEmpty(faults);
        Assert.All(faults, f => Assert.True(f.Value.GetString() == "recovered", $"fault {f.Name}: {f.Value.GetString()}"));
        Assert.True(s.GetProperty("teardownClean").GetBoolean(), "something was left after the final SIGTERM");
        var shares = s.GetProperty("uploadShares").EnumerateArray().Select(e => e.GetDouble()).ToList();
        Assert.Equal(3, shares.Count);
        var equal = 100.0 / shares.Count;
        Assert.All(shares, share => Assert.InRange(share, equal * 0.85, equal * 1.15));
        Assert.Equal(0, process.ExitCode);
    }

    /// <summary>The repository root: the first ancestor of the test assembly with EqlActors.sln.</summary>
    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EqlActors.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no EqlActors.sln above {AppContext.BaseDirectory}");
    }
}
