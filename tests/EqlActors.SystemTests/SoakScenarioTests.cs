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
/// resources after each. Nothing may leak: no zombie at any sample, the daemon's fds at the end within 5 of the
/// start, anonymous RSS after the first 8 faults growing at most 5 MiB per 100 faults.
/// </summary>
[Collection(QemuGuestCollection.Name)]
public class SoakScenarioTests(ITestOutputHelper output)
{
    private const int Faults = 25;
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(40);

    [Fact]
    public async Task Twenty_five_real_faults_recover_and_leak_no_zombies_descriptors_or_memory()
    {
        var (lastLine, exitCode) = await SystemRun.RunAsync(output, Limit, "--soak", "--faults", Faults.ToString(CultureInfo.InvariantCulture));
        using var summary = JsonDocument.Parse(lastLine);
        var s = summary.RootElement;
        Assert.False(s.TryGetProperty("error", out var error), $"tests/system/run --soak: {error}");
        Assert.Equal(Faults, s.GetProperty("faults").GetInt32());
        Assert.True(s.GetProperty("allRecovered").GetBoolean(), $"not every fault recovered: {s.GetProperty("faultStatus")}");
        Assert.Equal(Faults + 1, s.GetProperty("samples").GetInt32());
        Assert.Equal(0, s.GetProperty("maxZombies").GetInt32());
        var fds = (Start: s.GetProperty("fdsStart").GetInt32(), End: s.GetProperty("fdsEnd").GetInt32());
        Assert.True(Math.Abs(fds.End - fds.Start) <= 5, $"the daemon's open fds went {fds.Start} -> {fds.End}");
        var anon = s.GetProperty("rssAnonMiBPer100FaultsAfter8").GetDouble();
        Assert.True(anon <= 5, $"anonymous RSS grows {anon} MiB per 100 faults after the first 8");
        Assert.True(s.GetProperty("teardownClean").GetBoolean(), "something was left after the final SIGTERM");
        Assert.Equal(0, exitCode);
    }

}
