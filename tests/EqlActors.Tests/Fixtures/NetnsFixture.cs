using System.Runtime.Versioning;

namespace EqlActors.Tests.Fixtures;

/// <summary>
/// A network namespace of the test's own (<c>eqla-test-RANDOM</c>), deleted on dispose with everything in it.
/// Tests send traffic only inside it.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class NetnsFixture : IDisposable
{
    public string Name { get; } = $"eqla-test-{Guid.NewGuid().ToString("N")[..10]}";

    private readonly string _claim;

    public NetnsFixture()
    {
        _claim = Janitor.Claim(Janitor.Kind.Netns, Name);
        Run.Checked("ip", "netns", "add", Name);
    }

    /// <summary>Runs <c>ip -n NAME ARGS...</c> and fails on error.</summary>
    public string Ip(params string[] args) => Run.Checked(["ip", "-n", Name, .. args]);

    public void Dispose()
    {
        // Deleting the namespace destroys every device in it (veth peers included).
        Run.Argv(["ip", "netns", "del", Name]);
        Janitor.Release(_claim);
    }
}
