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
        var (lastLine, exitCode) = await SystemRun.RunAsync(output, Limit, "--product");
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
        // the patched slirp spreads a download over every link (stock: 100% over the first); the rates themselves
        // are benchmarks (docs/benchmarks.md), not pass/fail: only that each was measured and verified
        var down = s.GetProperty("downloadShares").EnumerateArray().Select(e => e.GetDouble()).ToList();
        Assert.Equal(3, down.Count);
        Assert.All(down, share => Assert.InRange(share, equal * 0.85, equal * 1.15));
        foreach (var direction in new[] { "upload", "download" })
        {
            var rates = s.GetProperty("throughput").GetProperty(direction);
            foreach (var links in new[] { "1", "2", "3" })
                Assert.True(rates.TryGetProperty(links, out var r) && r.GetDouble() > 0, $"no {direction} throughput with {links} links");
        }
        // the baselines of the same run (issue 10): one bare pppd link, the same links at once and the HOWTO script's own start were
        // measured; how the product compares with them is a benchmark (docs/benchmarks.md), not pass/fail
        foreach (var baseline in new[] { "bareLinkSeconds", "bareLinksAtOnceSeconds", "howtoScriptSeconds" })
            Assert.True(s.GetProperty(baseline).ValueKind == JsonValueKind.Number, $"{baseline} was not measured: {s.GetProperty(baseline)}");
        Assert.Equal(0, exitCode);
    }

}
