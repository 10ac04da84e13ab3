using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace EqlActors.SystemTests;

/// <summary>Both scenarios boot the qemu guest: one at a time (two TCG guests on a 2-core host starve each other).</summary>
[CollectionDefinition(Name)]
public sealed class QemuGuestCollection
{
    public const string Name = "qemu guest";
}

/// <summary>
/// Issue 15, the soak: <c>tests/system/run --soak --faults 25</c> runs the daemon in the guest as the product test
/// does and injects 25 rotating real faults (pppd SIGKILL, ssh kill, one remote slirp unit killed, a link set down,
/// the remote LAN's route deleted), a verified transfer after each, sampling the daemon's and both hosts'
/// resources after each. Nothing may leak: no zombie at any sample, the daemon's fds at the end within 5 of the start
/// and without an upward trend (slope per 100 faults, sockets flat, the pipes' median not rising), and anonymous RSS not growing like a leak. That
/// grew 81-91 MiB per 100 faults after the first 8 before the daemon gave freed memory back after each recovery
/// (MemoryTrimmer) and stopped tiered recompilation; the idle 25-fault soak since measured -10.1 (issue 15's goal:
/// at most +5). A slope fitted over 17 samples that move by the GC's gen0 budget (~8-10 MiB) between trims is
/// noisy, so the bound judged here is 25 MiB per 100 faults: a leak of the old kind fails it by far, while the
/// measured figure and its split by owner (GC, glibc heap and arenas, stacks) are printed for the benchmarks.
/// </summary>
[Collection(QemuGuestCollection.Name)]
public class SoakScenarioTests(ITestOutputHelper output)
{
    private const int Faults = 25;
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(40);
    private const double MaxAnonMiBPer100Faults = 25;

    [Fact]
    public async Task Twenty_five_real_faults_recover_and_leak_no_zombies_or_descriptors()
    {
        var (lastLine, exitCode) = await SystemRun.RunAsync(output, Limit, "--soak", "--faults", Faults.ToString(CultureInfo.InvariantCulture));
        using var summary = JsonDocument.Parse(lastLine);
        var s = summary.RootElement;
        Assert.False(s.TryGetProperty("error", out var error), $"tests/system/run --soak: {error}");
        Assert.Equal(Faults, s.GetProperty("faults").GetInt32());
        Assert.True(s.GetProperty("allRecovered").GetBoolean(), $"not every fault recovered: {s.GetProperty("faultStatus")}");
        Assert.Equal(Faults + 1, s.GetProperty("samples").GetInt32());
        Assert.Equal(0, s.GetProperty("maxZombies").GetInt32());
        var (fdsStart, fdsEnd) = (s.GetProperty("fdsStart").GetInt32(), s.GetProperty("fdsEnd").GetInt32());
        Assert.True(Math.Abs(fdsEnd - fdsStart) <= 5, $"the daemon's open fds went from {fdsStart} to {fdsEnd} (fd targets that differ: {s.GetProperty("fdTargetsDiff")})");
        var fdSlope = s.GetProperty("fdsSlopePer100Faults").GetDouble();
        Assert.True(fdSlope <= 10, $"the daemon's open fds trend up: {fdSlope} per 100 faults ({s.GetProperty("fdsStart")} -> {s.GetProperty("fdsEnd")})");
        Assert.True(s.GetProperty("fdSocketGrowth").GetInt32() <= 2, $"the daemon's sockets grew: {s.GetProperty("metrics").GetProperty("fdSocket")}");
        var pipes = (First: s.GetProperty("pipeMedianFirstHalf").GetInt32(), Second: s.GetProperty("pipeMedianSecondHalf").GetInt32());
        Assert.True(pipes.Second <= pipes.First + 4, $"the pipes' median rose from {pipes.First} to {pipes.Second}");
        var anonSlope = s.GetProperty("rssAnonMiBPer100FaultsAfter8").GetDouble();
        output.WriteLine($"anonymous RSS: {s.GetProperty("metrics").GetProperty("RssAnon")}, {anonSlope} MiB per 100 faults after the first 8; by owner: {s.GetProperty("anonMiBPer100FaultsAfter8")}");
        Assert.True(anonSlope <= MaxAnonMiBPer100Faults, $"the daemon's anonymous memory grows like a leak: {anonSlope} MiB per 100 faults after the first 8 (by owner: {s.GetProperty("anonMiBPer100FaultsAfter8")})");
        Assert.True(s.GetProperty("teardownClean").GetBoolean(), "something was left after the final SIGTERM");
        // No soak fault implicates a link's path: a kept ssh connection that ends costs its link a fresh login.
        Assert.True(s.GetProperty("keptConnectionsLost").GetInt32() == 0, $"faults {s.GetProperty("lostIn")} ended a link's kept ssh connection (masters/N in the results)");
        Assert.Equal(0, exitCode);
    }

}
