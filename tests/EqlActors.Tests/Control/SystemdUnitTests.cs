using System.Runtime.Versioning;
using EqlActors.Tests.Fixtures;

namespace EqlActors.Tests.Control;

/// <summary>The systemd unit and the installer: keys that matter, systemd's own verifier, a DESTDIR install.</summary>
[SupportedOSPlatform("linux")]
public sealed class SystemdUnitTests
{
    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EqlActors.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("EqlActors.sln not found above the test assembly");
    }

    private static string Unit => Path.Combine(RepoRoot(), "Host", "systemd", "eqlactors.service");

    private static Dictionary<string, string> ServiceKeys() =>
        File.ReadAllLines(Unit)
            .SkipWhile(l => l.Trim() != "[Service]").Skip(1).TakeWhile(l => !l.StartsWith('['))
            .Where(l => l.Contains('=') && !l.TrimStart().StartsWith('#'))
            .Select(l => l.Split('=', 2)).GroupBy(kv => kv[0].Trim()).ToDictionary(g => g.Key, g => string.Join(" ", g.Select(kv => kv[1].Trim())));

    [Fact]
    public void The_unit_notifies_adopts_links_after_a_crash_and_waits_for_teardown()
    {
        var keys = ServiceKeys();
        Assert.Equal("notify", keys["Type"]);
        Assert.Equal("/usr/local/bin/eqlactors run", keys["ExecStart"]);
        Assert.Equal("process", keys["KillMode"]);   // systemd must not kill the pppd chains the next daemon adopts
        Assert.Equal("on-failure", keys["Restart"]);
        Assert.True(keys.ContainsKey("RestartSec"));
        Assert.Equal("2", keys["RestartPreventExitStatus"]);
        Assert.EndsWith("s", keys["TimeoutStopSec"]);
        var stop = int.Parse(keys["TimeoutStopSec"].TrimEnd('s'));
        Assert.True(stop > Host.Hosting.ServiceHost.TeardownTimeout.TotalSeconds, "TimeoutStopSec must exceed the daemon's teardown bound");
        Assert.Equal("eqlactors", keys["RuntimeDirectory"]);
        Assert.Equal("0700", keys["RuntimeDirectoryMode"]);
        Assert.Contains("WantedBy=multi-user.target", File.ReadAllText(Unit));
    }

    [Fact]
    public void The_unit_arms_the_watchdog_and_serves_metrics_on_loopback()
    {
        var keys = ServiceKeys();
        Assert.EndsWith("s", keys["WatchdogSec"]);
        Assert.True(int.Parse(keys["WatchdogSec"].TrimEnd('s')) >= 10, "the watchdog must leave a slow reconcile time to answer");
        Assert.Contains("EQLACTORS__METRICS__LISTEN=127.0.0.1:9477", keys["Environment"]);
        // The same value must pass the daemon's own validation.
        Assert.Null(Host.Configuration.ConfigValidator.MetricsListenError("127.0.0.1:9477", out _));
    }

    [Fact]
    public void The_unit_and_the_system_test_start_the_daemon_with_its_runtime_settings()
    {
        var unit = ServiceKeys()["Environment"].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // the system test measures the daemon as the unit starts it
        var product = File.ReadAllLines(Path.Combine(RepoRoot(), "tests", "system", "guest", "product.sh"));
        var start = Assert.Single(product, l => l.Contains("exec \"$PRODUCT\" run"));
        Assert.All(Host.Hosting.DaemonRuntime.Environment, kv =>
        {
            Assert.Contains($"{kv.Key}={kv.Value}", unit);
            Assert.Contains($" {kv.Key}={kv.Value} ", start);
        });
    }

    [Fact]
    public void Systemd_analyze_verifies_the_unit()
    {
        // .ci/run installs systemd; a host without systemd-analyze fails here rather than pass without checking.
        Assert.True(File.Exists("/usr/bin/systemd-analyze"), "systemd-analyze is missing: apt-get install systemd");
        using var dir = new TempDir("eqla-unit-");
        // verify checks that ExecStart exists: point it at the apphost built next to this assembly.
        var apphost = Path.Combine(AppContext.BaseDirectory, "eqlactors");
        var text = File.ReadAllText(Unit).Replace("ExecStart=/usr/local/bin/eqlactors", "ExecStart=" + apphost);
        File.WriteAllText(dir.File("eqlactors.service"), text);
        var (code, stdout, stderr) = Run.Argv(["systemd-analyze", "verify", dir.File("eqlactors.service")]);
        Assert.True(code == 0 && stderr.Trim().Length == 0, $"systemd-analyze verify: exit {code}\n{stdout}{stderr}");
    }

    [Fact]
    public void Install_sh_installs_into_destdir_without_touching_the_system()
    {
        using var dir = new TempDir("eqla-install-");
        var publish = Directory.CreateDirectory(dir.File("publish")).FullName;
        File.WriteAllText(Path.Combine(publish, "eqlactors.dll"), "stub");
        File.WriteAllText(Path.Combine(publish, "eqlactors"), "#!/bin/sh\n");
        var dest = dir.File("root");
        var (code, stdout, stderr) = Run.Argv(
            ["/bin/sh", Path.Combine(RepoRoot(), "Host", "systemd", "install.sh"), "--publish-dir", publish],
            new Dictionary<string, string> { ["DESTDIR"] = dest, ["PREFIX"] = "/opt/eqla" });
        Assert.True(code == 0, $"install.sh: exit {code}\n{stdout}{stderr}");

        Assert.True(File.Exists(Path.Combine(dest, "opt/eqla/lib/eqlactors/eqlactors.dll")));
        var link = new FileInfo(Path.Combine(dest, "opt/eqla/bin/eqlactors"));
        Assert.Equal("/opt/eqla/lib/eqlactors/eqlactors", link.LinkTarget);
        var unit = File.ReadAllText(Path.Combine(dest, "etc/systemd/system/eqlactors.service"));
        Assert.Contains("ExecStart=/opt/eqla/bin/eqlactors run", unit);
        Assert.True(Directory.Exists(Path.Combine(dest, "etc/eqlactors")));
        Assert.True(File.Exists(Path.Combine(dest, "opt/eqla/share/doc/eqlactors/operations.md")));

        // Again, as an upgrade: the lib directory is replaced whole, nothing stale is left.
        File.WriteAllText(Path.Combine(dest, "opt/eqla/lib/eqlactors/stale.dll"), "old");
        Assert.Equal(0, Run.Argv(["/bin/sh", Path.Combine(RepoRoot(), "Host", "systemd", "install.sh"), "--publish-dir", publish],
            new Dictionary<string, string> { ["DESTDIR"] = dest, ["PREFIX"] = "/opt/eqla" }).Code);
        Assert.False(File.Exists(Path.Combine(dest, "opt/eqla/lib/eqlactors/stale.dll")));
    }
}
