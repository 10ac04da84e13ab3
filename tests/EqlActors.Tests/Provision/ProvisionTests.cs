using System.Runtime.Versioning;
using EqlActors.Configuration;
using EqlActors.Host.Doctor;
using EqlActors.Host.Doctor.Checks;
using EqlActors.Host.Provision;
using EqlActors.Tests.Fixtures;

namespace EqlActors.Tests.Provision;

/// <summary>
/// <c>provision</c> against a real OpenSSH server (see <see cref="SshdFixture"/>): rc files, and a small source tree
/// shaped like Debian's slirp (<c>slirp-9.9/src</c> with configure, Makefile.in, config.h.in and ppp/auth.c whose
/// <c>link_down()</c> closes unit 0) built by the fixture user with the machine's cc and make.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ProvisionTests(SshdFixture sshd) : IClassFixture<SshdFixture>
{
    private const string ConfigHIn = """
        /* Define to MAX interfaces you expect to use at once */
        #define MAX_INTERFACES 1
        #define MAX_PPP_INTERFACES 1

        /* Define this if you want slirp to write to the tty as fast as it can */
        #undef FULL_BOLT
        """;

    // Like autoconf's config.status: "#undef X" becomes a comment; Makefile.in is copied.
    private const string Configure = "#!/bin/sh\nsed 's|^#undef \\(.*\\)|/* #undef \\1 */|' config.h.in > config.h\ncp Makefile.in Makefile\necho 'creating config.h'\n";

    private const string MakefileIn =
        "slirp: main.o ppp/auth.o\n\t$(CC) -o slirp main.o ppp/auth.o\n" +
        "main.o: main.c config.h\n\t$(CC) $(CFLAGS) -c main.c -o main.o\n" +
        "ppp/auth.o: ppp/auth.c config.h\n\t$(CC) $(PPPCFLAGS) -c ppp/auth.c -o ppp/auth.o\n";

    private const string MainC = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <unistd.h>
        #include "config.h"
        extern int closed_ipcp, closed_ccp;
        void link_down();
        int main(int argc, char **argv)
        {
            const char *fb = "no";
        #ifdef FULL_BOLT
            fb = "yes";
        #endif
            if (argc > 2 && strcmp(argv[1], "-l") == 0) {
                int n = atoi(argv[2]);
                if (n >= MAX_INTERFACES) { printf("0 Unit out of range (must be between 0 and %d, inclusive)\n", MAX_INTERFACES - 1); return 1; }
                printf("unit %d\n", n);
                return 0;
            }
            if (argc > 1 && strcmp(argv[1], "--info") == 0) {
                link_down(2);
                printf("MAX_INTERFACES=%d MAX_PPP_INTERFACES=%d FULL_BOLT=%s link_down(2) closes %d %d\n", MAX_INTERFACES, MAX_PPP_INTERFACES, fb, closed_ipcp, closed_ccp);
                return 0;
            }
            sleep(30);
            return 0;
        }
        """;

    private const string AuthC = """
        #include "../config.h"
        int closed_ipcp = -1, closed_ccp = -1;
        static void ipcp_close(int unit) { closed_ipcp = unit; }
        static void ccp_close(int unit) { closed_ccp = unit; }

        /*
         * LCP has gone down; it will either die or try to re-establish.
         */
        void
        link_down(unit)
            int unit;
        {
            ipcp_close(0);
            ccp_close(0);
        }
        """;

    /// <summary>Writes the fake tree under a fresh directory and packs it as <c>slirp-9.9.tar.gz</c>.</summary>
    private static string Tarball(TempDir dir, string authC = AuthC)
    {
        var src = Path.Combine(dir.Path, "tree", "slirp-9.9", "src");
        Directory.CreateDirectory(Path.Combine(src, "ppp"));
        File.WriteAllText(Path.Combine(src, "config.h.in"), ConfigHIn + "\n");
        File.WriteAllText(Path.Combine(src, "configure"), Configure);
        File.SetUnixFileMode(Path.Combine(src, "configure"), (UnixFileMode)0b111_101_101);
        File.WriteAllText(Path.Combine(src, "Makefile.in"), MakefileIn);
        File.WriteAllText(Path.Combine(src, "main.c"), MainC + "\n");
        File.WriteAllText(Path.Combine(src, "ppp", "auth.c"), authC + "\n");
        var tarball = dir.File("slirp-9.9.tar.gz");
        Run.Checked("tar", "-czf", tarball, "-C", Path.Combine(dir.Path, "tree"), "slirp-9.9");
        return tarball;
    }

    private BundleConfig Config(string slirp) => sshd.Config(sshd.KnownHosts(sshd.BothHostLines()), jumps: 1, slirp: slirp);

    private List<string> OurTempDirs() =>
        Directory.GetDirectories("/tmp", "eqlactors-slirp.*").Where(d => Run.Checked("stat", "-c", "%u", d).Trim() == sshd.Uid.ToString()).ToList();

    [Fact]
    public async Task Rc_files_are_written_through_the_jump_host()
    {
        foreach (var f in Directory.GetFiles(sshd.Home, ".slirprc*")) File.Delete(f);
        var lines = new List<string>();
        var config = Config("bin/slirp") with { Links = [0, 1, 3] };
        Assert.Null(await new Provisioner(config, lines.Add).RunAsync(null));
        Assert.Equal("socket\nmtu 1500\nmru 1500\n", File.ReadAllText(Path.Combine(sshd.Home, ".slirprc")));
        foreach (var n in new[] { 0, 1, 3 }) Assert.Equal("ppp\n", File.ReadAllText(Path.Combine(sshd.Home, $".slirprc-{n}")));
        Assert.False(File.Exists(Path.Combine(sshd.Home, ".slirprc-2")));
        Assert.Contains(lines, l => l.StartsWith("[1/1] write ~/.slirprc", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Build_slirp_applies_the_defines_and_the_link_down_fix_and_doctor_trusts_the_result()
    {
        using var dir = new TempDir("eqla-provision-");
        var tarball = Tarball(dir);
        var config = Config("bin/slirp-built");
        var lines = new List<string>();

        var outcome = await new Provisioner(config, lines.Add).RunAsync(new FileInfo(tarball));

        Assert.NotNull(outcome);
        Assert.Equal(LinkDownFix.Applied, outcome.LinkDown);
        Assert.Equal("src/slirp-9.9/src", outcome.SourceDir);
        Assert.Equal(4, outcome.Probe.Units);
        var binary = Path.Combine(sshd.Home, "bin/slirp-built");
        Assert.Equal("MAX_INTERFACES=4 MAX_PPP_INTERFACES=4 FULL_BOLT=yes link_down(2) closes 2 2\n", Run.Checked(binary, "--info"));
        Assert.Equal(sshd.Uid.ToString(), Run.Checked("stat", "-c", "%u", binary).Trim());
        var marker = SlirpBuildMarker.Parse(File.ReadAllText(binary + SlirpBuildMarker.Suffix));
        Assert.NotNull(marker);
        Assert.Equal((4, 4, true, LinkDownFix.Applied, "slirp-9.9.tar.gz"), (marker.MaxInterfaces, marker.MaxPppInterfaces, marker.FullBolt, marker.LinkDown, marker.Source));
        Assert.Equal(Run.Checked("sh", "-c", "cksum < \"$0\"", binary).Trim(), marker.BinaryCksum);

        // One numbered line per step, the temporary directory gone.
        Assert.Equal(12, lines.Count(l => l.StartsWith('[')));
        // None of Debian's patches fits this tree: each is left out whole, and link_down() gets the fix by pattern.
        Assert.Contains(lines, l => l.Contains($"apply the {SlirpPatches.All.Length} slirp patches") && l.Contains($"0 of {SlirpPatches.All.Length} applied")
            && l.EndsWith("features: link-down-fix; link_down(): applied", StringComparison.Ordinal));
        Assert.Equal(SlirpPatches.All.Length, lines.Count(l => l.StartsWith("    warning: patch ", StringComparison.Ordinal)));
        Assert.Empty(outcome.AppliedPatches);
        Assert.Equal("link-down-fix", outcome.Features);
        Assert.Equal("link-down-fix", marker.Features);
        Assert.Contains(lines, l => l.StartsWith("[12/12] removed /tmp/eqlactors-slirp.", StringComparison.Ordinal));
        Assert.Empty(OurTempDirs());

        var context = new DoctorContext(config, new LinuxLocalSystem(), new SshRemoteInspector(config));
        var report = await DoctorRunner.RunAsync(context, [new SshHopsCheck(), new SlirpCheck()]);
        Assert.Equal(CheckStatus.Ok, report.Results.Single(r => r.Id == "slirp").Status);
        var fix = report.Results.Single(r => r.Id == SlirpCheck.BuildId);
        Assert.Equal(CheckStatus.Ok, fix.Status);
        Assert.Contains("link_down() closes its own unit (applied)", fix.Detail);

        // A binary replaced behind the record's back is no longer vouched for.
        File.AppendAllText(binary, "x");
        var changed = await DoctorRunner.RunAsync(new DoctorContext(config, new LinuxLocalSystem(), new SshRemoteInspector(config)), [new SshHopsCheck(), new SlirpCheck()]);
        Assert.Equal(CheckStatus.Warning, changed.Results.Single(r => r.Id == SlirpCheck.BuildId).Status);
        Assert.Contains("cksum differs", changed.Results.Single(r => r.Id == SlirpCheck.BuildId).Detail);
    }

    [Fact]
    public async Task A_source_that_does_not_compile_reports_the_compiler_error_and_cleans_up()
    {
        using var dir = new TempDir("eqla-provision-");
        var tarball = Tarball(dir, AuthC.Replace("ccp_close(0);", "ccp_close(0) this_is_not_c;"));
        var config = Config("bin/slirp-broken");
        var lines = new List<string>();

        var e = await Assert.ThrowsAsync<ProvisionException>(() => new Provisioner(config, lines.Add).RunAsync(new FileInfo(tarball)));

        Assert.StartsWith("make (CFLAGS", e.Message);
        Assert.Contains("make failed", e.Message);
        Assert.Contains("ppp/auth.c", e.Message);
        Assert.Contains("error:", e.Message);
        Assert.Contains("this_is_not_c", e.Message);
        Assert.Contains(lines, l => l.EndsWith(": FAILED", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("removed /tmp/eqlactors-slirp.", StringComparison.Ordinal));
        Assert.Empty(OurTempDirs());
        Assert.False(File.Exists(Path.Combine(sshd.Home, "bin/slirp-broken")));
    }

    [Fact]
    public async Task Hostile_paths_and_non_archives_are_refused_before_anything_runs_remotely()
    {
        using var dir = new TempDir("eqla-provision-");
        var notTar = dir.File("slirp.tar.gz");
        File.WriteAllText(notTar, "#!/bin/sh\necho not an archive\n");
        var e = await Assert.ThrowsAsync<ProvisionException>(() => new Provisioner(Config("bin/slirp"), _ => { }).RunAsync(new FileInfo(notTar)));
        Assert.Contains("is not a tar archive", e.Message);

        var bare = await Assert.ThrowsAsync<ProvisionException>(() => new Provisioner(Config("slirp"), _ => { }).RunAsync(new FileInfo(Tarball(dir))));
        Assert.Contains("bare name", bare.Message);
    }

    [Fact]
    public async Task The_cli_reports_a_failed_step_on_stderr_with_exit_1()
    {
        using var dir = new TempDir("eqla-provision-");
        var notTar = dir.File("x.tar.gz");
        File.WriteAllText(notTar, "nope");
        var (exit, _, err) = await EqlActors.Tests.Configuration.ConfigTestSupport.Run(
            "provision", "--build-slirp", notTar, "--set", $"remote.account={sshd.User}@127.0.0.1:{sshd.Target.Port}", "--set", "remote.jumpHosts=");
        Assert.Equal(1, exit);
        Assert.Contains("eqlactors provision: x.tar.gz is not a tar archive", err);
    }
}

/// <summary>
/// The real Debian slirp source, fetched exactly as the system test's guest build does
/// (<c>tests/system/fetch-slirp-source</c>: <c>apt-get source slirp</c> through a private apt configuration derived
/// from the system's own sources, cached under tests/system/.cache/slirp-source), tarred, and built on host_B
/// (the sshd fixture's user) by <c>provision</c>. It needs the network the first time, like the rest of CI's setup.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class DebianSlirpBuildTests(SshdFixture sshd) : IClassFixture<SshdFixture>
{
    private static readonly string AllFeatures = string.Join(",", SlirpPatches.Features.Select(f => f.Word));

    [Fact]
    public void Every_patch_applies_alone_to_pristine_Debian_source_with_exact_context()
    {
        var dir = FetchDebianSlirpSource();
        try
        {
            Assert.True(SlirpPatches.All.Length >= 8, $"embedded patches: {SlirpPatches.All.Length}");
            foreach (var patch in SlirpPatches.All)
            {
                var file = Path.Combine(dir, patch.Name);
                File.WriteAllText(file, patch.Text);
                var dry = Run.Argv(["patch", "-p1", "-F0", "--forward", "--batch", "--dry-run", "-d", Path.Combine(dir, "slirp", "src"), "-i", file]);
                Assert.True(dry.Code == 0, $"{patch.Name} does not apply alone: {dry.Stdout}{dry.Stderr}");
                Assert.Contains(patch.Feature, SlirpPatches.Features.Select(f => f.Word).Append(SlirpPatches.NoFeature));
            }
            // every feature of the table comes from some patch
            Assert.Equal(AllFeatures, SlirpPatches.FeatureList(SlirpPatches.All));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Debian_slirp_builds_with_four_units_and_every_patch()
    {
        var source = DebianSlirpSourceArchive();
        var config = sshd.Config(sshd.KnownHosts(sshd.BothHostLines()), slirp: "bin/slirp");
        var lines = new List<string>();
        Provisioner.BuildOutcome? outcome;
        try
        {
            outcome = await new Provisioner(config, lines.Add).RunAsync(new FileInfo(source));
        }
        finally
        {
            File.Delete(source);
        }
        Assert.True(outcome is not null, string.Join("\n", lines));
        Assert.Equal(LinkDownFix.Applied, outcome.LinkDown);
        Assert.Equal(SlirpPatches.All.Select(p => p.Name), outcome.AppliedPatches);
        Assert.Empty(outcome.SkippedPatches);
        Assert.Equal(AllFeatures, outcome.Features);
        Assert.Equal(4, outcome.Probe.Units);
        Assert.False(outcome.Probe.SelectBug, outcome.Probe.Detail);
        var binary = Path.Combine(sshd.Home, "bin/slirp");
        var auth = Run.Argv(["sh", "-c", "strings \"$0\" | grep -c 'Unit out of range'", binary]);
        Assert.Equal("1", auth.Stdout.Trim());
        // the contract with the probe: the binary names exactly the features applied
        var marker = Run.Argv(["grep", "-ao", "eqlactors-slirp-features: [a-z,-]*", binary]);
        Assert.Equal($"{SlirpPatches.MarkerPrefix}{AllFeatures}", marker.Stdout.Trim());
        Assert.Equal(AllFeatures, SlirpBuildMarker.Parse(File.ReadAllText(binary + SlirpBuildMarker.Suffix))!.Features);

        var report = await DoctorRunner.RunAsync(new DoctorContext(config, new LinuxLocalSystem(), new SshRemoteInspector(config)), [new SshHopsCheck(), new SlirpCheck()]);
        var features = report.Results.Single(r => r.Id == SlirpCheck.FeaturesId);
        Assert.Equal(CheckStatus.Ok, features.Status);
        Assert.Equal($"patched build: {AllFeatures.Replace(",", ", ")}", features.Detail);
    }

    /// <summary>tests/system/fetch-slirp-source into a temporary directory, then a .tar.gz of its unpacked tree.</summary>
    private static string DebianSlirpSourceArchive()
    {
        var dir = FetchDebianSlirpSource();
        var archive = Path.Combine(Path.GetTempPath(), $"{Path.GetFileName(dir)}.tar.gz");
        var tar = Run.Argv(["tar", "-czf", archive, "-C", dir, "slirp"]);
        Assert.True(tar.Code == 0, $"tar failed: {tar.Stderr}");
        Directory.Delete(dir, recursive: true);
        return archive;
    }

    /// <summary>tests/system/fetch-slirp-source into a new temporary directory (the tree is in its <c>slirp/</c>).</summary>
    private static string FetchDebianSlirpSource()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "EqlActors.sln"))) root = root.Parent;
        Assert.NotNull(root);
        var dir = Directory.CreateTempSubdirectory("eqla-slirp-src-").FullName;
        var fetch = Run.Argv([Path.Combine(root.FullName, "tests", "system", "fetch-slirp-source"), dir]);
        Assert.True(fetch.Code == 0, $"fetch-slirp-source failed ({fetch.Code}): {fetch.Stderr}");
        return dir;
    }
}
