using System.Runtime.Versioning;
using System.Text.Json;
using EqlActors.Configuration;
using EqlActors.Host.Cli;
using EqlActors.Host.Doctor;
using EqlActors.Host.Doctor.Checks;
using EqlActors.Tests.Configuration;
using EqlActors.Tests.Fixtures;

namespace EqlActors.Tests.Doctor;

/// <summary>The doctor against real OpenSSH servers (see <see cref="SshdFixture"/>) and this machine's kernel.</summary>
[SupportedOSPlatform("linux")]
public sealed class DoctorTests(SshdFixture sshd) : IClassFixture<SshdFixture>
{
    private static async Task<DoctorReport> Doctor(BundleConfig config, params IDoctorCheck[] checks)
    {
        var context = new DoctorContext(config, new LinuxLocalSystem(), new SshRemoteInspector(config));
        return await DoctorRunner.RunAsync(context, checks.Length == 0 ? DoctorRunner.AllChecks() : checks);
    }

    private static CheckResult Find(DoctorReport report, string id) => Assert.Single(report.Results, r => r.Id == id);

    private static IDoctorCheck[] RemoteChecks => [new SshHopsCheck(), new SlirpCheck(), new RcFilesCheck(), new MtuCheck()];

    private static bool KernelLacksPppAndEql(string release) =>
        !Directory.Exists($"/lib/modules/{release}") && !(File.Exists("/proc/modules") && File.ReadAllText("/proc/modules").Contains("ppp_generic"))
        && !Directory.Exists("/sys/module/ppp_generic") && !Directory.Exists("/sys/module/eql");

    [Fact]
    public async Task On_this_kernel_missing_ppp_and_eql_support_is_reported_with_the_fix()
    {
        var local = new LinuxLocalSystem();
        if (!KernelLacksPppAndEql(local.KernelRelease)) return; // a kernel with PPP: covered by the fixture-root tests below
        var report = await Doctor(new BundleConfig(), new PppKernelCheck(), new DevPppCheck(), new EqlKernelCheck());
        foreach (var id in new[] { "kernel.ppp", "dev.ppp", "kernel.eql" })
        {
            var r = Find(report, id);
            Assert.Equal(CheckStatus.Failure, r.Status);
            Assert.Contains("install a kernel with CONFIG_PPP", r.Fix);
            Assert.Contains("or load the modules", r.Fix);
        }
        Assert.Contains("this kernel has no loadable modules", Find(report, "kernel.ppp").Detail);
        Assert.Contains("ppp_async", Find(report, "kernel.ppp").Detail);
        Assert.Contains("modprobe eql", Find(report, "kernel.eql").Fix);
        Assert.True(report.Blocked);
    }

    [Fact]
    public async Task Loaded_built_in_and_loadable_modules_are_told_apart_under_a_fixture_root()
    {
        using var root = new TempDir("eqla-doctor-root-");
        const string rel = "6.1.0-99-amd64";
        Directory.CreateDirectory(root.File("proc"));
        File.WriteAllText(root.File("proc/modules"), "ppp_generic 45056 0 - Live 0x0000000000000000\nslhc 16384 1 ppp_generic, Live 0x0\n");
        Directory.CreateDirectory(root.File($"lib/modules/{rel}"));
        File.WriteAllText(root.File($"lib/modules/{rel}/modules.builtin"), "kernel/drivers/net/ppp/ppp_async.ko\n");
        File.WriteAllText(root.File($"lib/modules/{rel}/modules.dep"), "kernel/drivers/net/eql.ko.xz:\n");
        var local = new LinuxLocalSystem(root.Path, euid: 0, kernelRelease: rel);

        Assert.Equal(ModuleState.Loaded, (await KernelModules.FindAsync(local, "ppp_generic", default)).State);
        Assert.Equal(ModuleState.BuiltIn, (await KernelModules.FindAsync(local, "ppp_async", default)).State);
        Assert.Equal(ModuleState.Loadable, (await KernelModules.FindAsync(local, "eql", default)).State);
        Assert.Equal(ModuleState.Missing, (await KernelModules.FindAsync(local, "bonding", default)).State);

        var context = new DoctorContext(new BundleConfig(), local, new SshRemoteInspector(new BundleConfig()));
        var report = await DoctorRunner.RunAsync(context, [new RootCheck(), new PppKernelCheck(), new EqlKernelCheck(), new DevPppCheck()]);
        Assert.All(report.Results.Where(r => r.Id != "dev.ppp"), r => Assert.Equal(CheckStatus.Ok, r.Status));
        var dev = Find(report, "dev.ppp"); // no dev/ppp under the fixture root, ppp_generic loaded
        Assert.Equal(CheckStatus.Failure, dev.Status);
        Assert.Contains("mknod /dev/ppp c 108 0", dev.Fix);

        var notRoot = await DoctorRunner.RunAsync(new DoctorContext(new BundleConfig(), new LinuxLocalSystem(root.Path, euid: 1000, kernelRelease: rel), context.Remote), [new RootCheck()]);
        Assert.Equal(CheckStatus.Failure, Find(notRoot, "root").Status);
    }

    [Fact]
    public async Task A_missing_slirp_fails_and_offers_provision()
    {
        var config = sshd.Config(sshd.KnownHosts(sshd.BothHostLines()), jumps: 1, slirp: "bin/no-such-slirp");
        var report = await Doctor(config, RemoteChecks);
        Assert.Equal(CheckStatus.Ok, Find(report, "ssh.jump1").Status);
        Assert.Equal(CheckStatus.Ok, Find(report, "ssh.host_b").Status);
        var slirp = Find(report, "slirp");
        Assert.Equal(CheckStatus.Failure, slirp.Status);
        Assert.Contains("bin/no-such-slirp not found", slirp.Detail);
        Assert.Contains("eqlactors provision --build-slirp", slirp.Fix);
        Assert.True(report.Blocked);
    }

    [Fact]
    public async Task A_single_unit_slirp_cannot_bundle()
    {
        sshd.Install("bin/slirp-stock", "#!/bin/sh\nif [ \"$1\" = -l ]; then echo '0 Unit out of range (must be between 0 and 0, inclusive)'; exit 1; fi\nexec sleep 10\n");
        var config = sshd.Config(sshd.KnownHosts(sshd.BothHostLines()), slirp: "bin/slirp-stock");
        var report = await Doctor(config, RemoteChecks);
        var slirp = Find(report, "slirp");
        Assert.Equal(CheckStatus.Failure, slirp.Status);
        Assert.Contains("single-unit build (MAX_INTERFACES=1", slirp.Detail);
        Assert.Contains("needs MAX_INTERFACES=4", slirp.Detail);
        Assert.Contains("provision --build-slirp", slirp.Fix);

        // Single-link mode needs one unit only.
        var single = await Doctor(config with { SingleLink = true }, RemoteChecks);
        Assert.Equal(CheckStatus.Ok, Find(single, "slirp").Status);
    }

    [Fact]
    public async Task A_multi_unit_slirp_of_unknown_origin_is_a_warning_about_link_down()
    {
        sshd.Install("bin/slirp-multi", "#!/bin/sh\nif [ \"$1\" = -l ]; then exit 0; fi\nexec sleep 10\n");
        var config = sshd.Config(sshd.KnownHosts(sshd.BothHostLines()), slirp: "bin/slirp-multi");
        var report = await Doctor(config, RemoteChecks);
        Assert.Equal(CheckStatus.Ok, Find(report, "slirp").Status);
        var fix = Find(report, SlirpCheck.BuildId);
        Assert.Equal(CheckStatus.Warning, fix.Status);
        Assert.Contains("unknown origin", fix.Detail);
        Assert.False(report.Blocked);
    }

    [Fact]
    public async Task The_features_a_binary_names_are_reported_and_a_stock_build_is_told_what_it_misses()
    {
        // Stand-ins that serve 4 units; the patched one carries the marker the build embeds (grep -a finds it in any file).
        const string serve = "if [ \"$1\" = -l ]; then exit 0; fi\nexec sleep 10\n";
        sshd.Install("bin/slirp-plain", "#!/bin/sh\n" + serve);
        sshd.Install("bin/slirp-patched", "#!/bin/sh\n# eqlactors-slirp-features: link-down-fix,fair-download,big-buffers,attach-takeover,kill-handler-fix,loopback-attach\n" + serve);
        sshd.Install("bin/slirp-partial", "#!/bin/sh\n# eqlactors-slirp-features: link-down-fix,big-buffers\n" + serve);

        var stock = await Doctor(sshd.Config(sshd.KnownHosts(sshd.BothHostLines()), slirp: "bin/slirp-plain"), RemoteChecks);
        var s = Find(stock, SlirpCheck.FeaturesId);
        Assert.Equal(CheckStatus.Warning, s.Status);
        Assert.StartsWith("stock build", s.Detail);
        foreach (var f in EqlActors.Host.Provision.SlirpPatches.Features) Assert.Contains($"{f.Word}: {f.StockMisses}", s.Detail);
        Assert.Contains("provision --build-slirp", s.Fix);
        Assert.False(stock.Blocked);

        var patched = await Doctor(sshd.Config(sshd.KnownHosts(sshd.BothHostLines()), slirp: "bin/slirp-patched"), RemoteChecks);
        Assert.Equal(CheckStatus.Ok, Find(patched, SlirpCheck.FeaturesId).Status);
        Assert.Equal("patched build: link-down-fix, fair-download, big-buffers, attach-takeover, kill-handler-fix, loopback-attach", Find(patched, SlirpCheck.FeaturesId).Detail);
        // the binary vouches for its link_down() fix even without a build record next to it
        Assert.Equal(CheckStatus.Ok, Find(patched, SlirpCheck.BuildId).Status);

        var partial = Find(await Doctor(sshd.Config(sshd.KnownHosts(sshd.BothHostLines()), slirp: "bin/slirp-partial"), RemoteChecks), SlirpCheck.FeaturesId);
        Assert.Equal(CheckStatus.Warning, partial.Status);
        Assert.StartsWith("patched build with link-down-fix, big-buffers; it misses fair-download: ", partial.Detail);
        Assert.DoesNotContain("big-buffers:", partial.Detail);
    }

    [Fact]
    public async Task An_unknown_host_key_stops_at_host_B_and_skips_the_remote_checks()
    {
        var kh = sshd.KnownHosts(sshd.Jump.KnownHostsLine);
        var config = sshd.Config(kh, jumps: 1);
        var report = await Doctor(config, [new KnownHostsCheck(), .. RemoteChecks]);
        var known = Find(report, "ssh.known_hosts");
        Assert.Equal(CheckStatus.Failure, known.Status);
        Assert.Contains($"no key for [127.0.0.1]:{sshd.Target.Port}", known.Detail);
        Assert.Contains($"ssh-keyscan -p {sshd.Target.Port} 127.0.0.1", known.Fix);
        Assert.Equal(CheckStatus.Ok, Find(report, "ssh.jump1").Status);
        var hostB = Find(report, "ssh.host_b");
        Assert.Equal(CheckStatus.Failure, hostB.Status);
        Assert.Contains("permanent", hostB.Detail);
        Assert.Contains(sshd.Target.Fingerprint, hostB.Detail);
        Assert.Contains("verify the fingerprint", hostB.Fix);
        Assert.Equal(CheckStatus.Skipped, Find(report, "slirp").Status);
        Assert.Equal(CheckStatus.Skipped, Find(report, "slirp.rc").Status);
    }

    [Fact]
    public async Task An_unreachable_jump_host_is_named_and_the_hops_after_it_are_skipped()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var closed = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        var config = sshd.Config(sshd.KnownHosts(sshd.BothHostLines()), jumps: 2);
        config = config with { Remote = config.Remote with { JumpHosts = [config.Remote.JumpHosts[0], new SshEndpoint(sshd.User, "127.0.0.1", closed)] } };
        var report = await Doctor(config, RemoteChecks);
        Assert.Equal(CheckStatus.Ok, Find(report, "ssh.jump1").Status);
        var jump2 = Find(report, "ssh.jump2");
        Assert.Equal(CheckStatus.Failure, jump2.Status);
        Assert.Contains($"jump host 2/2 {sshd.User}@127.0.0.1:{closed}", jump2.Title);
        Assert.Contains("transient", jump2.Detail);
        Assert.Contains($"port {closed} is reachable from {sshd.User}@127.0.0.1:{sshd.Jump.Port}", jump2.Fix);
        Assert.Equal(CheckStatus.Skipped, Find(report, "ssh.host_b").Status);
        Assert.Equal(CheckStatus.Skipped, Find(report, "slirp").Status);
    }

    [Fact]
    public async Task Rc_files_and_mtu_are_compared_with_the_configuration()
    {
        var config = sshd.Config(sshd.KnownHosts(sshd.BothHostLines()), slirp: "bin/slirp-multi");
        sshd.Install("bin/slirp-multi", "#!/bin/sh\nif [ \"$1\" = -l ]; then exit 0; fi\nexec sleep 10\n");
        foreach (var f in Directory.GetFiles(sshd.Home, ".slirprc*")) File.Delete(f);
        var missing = await Doctor(config, RemoteChecks);
        Assert.Equal(CheckStatus.Warning, Find(missing, "slirp.rc").Status);
        Assert.Contains("~/.slirprc is missing", Find(missing, "slirp.rc").Detail);
        Assert.Equal("eqlactors provision (writes ~/.slirprc and ~/.slirprc-N now)", Find(missing, "slirp.rc").Fix);

        await new EqlActors.Host.Remote.SshRemoteHost(config with { Ppp = config.Ppp with { Mtu = 1400 } }).WriteRcFilesAsync([0, 1, 2]);
        var stale = await Doctor(config, RemoteChecks);
        Assert.Equal(CheckStatus.Ok, Find(stale, "slirp.rc").Status);
        Assert.Equal(CheckStatus.Warning, Find(stale, "mtu").Status);
        Assert.Contains("mtu 1400, mru 1400", Find(stale, "mtu").Detail);

        var split = await Doctor(config with { Eql = config.Eql with { Mtu = 1400 } }, new MtuCheck());
        Assert.Equal(CheckStatus.Failure, Find(split, "mtu").Status);
    }

    [Fact]
    public async Task The_identity_file_must_be_private_and_its_public_part_present()
    {
        using var dir = new TempDir("eqla-doctor-key-");
        var key = dir.File("id");
        Run.Checked("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key);
        var config = new BundleConfig { Remote = new RemoteConfig { IdentityFile = key } };
        Assert.All((await Doctor(config, new IdentityCheck())).Results, r => Assert.Equal(CheckStatus.Ok, r.Status));

        File.Delete(key + ".pub");
        var noPub = await Doctor(config, new IdentityCheck());
        Assert.Equal(CheckStatus.Warning, Find(noPub, "ssh.identity.pub").Status);
        Assert.Contains($"ssh-keygen -y -f {key} > {key}.pub", Find(noPub, "ssh.identity.pub").Fix);

        File.SetUnixFileMode(key, (UnixFileMode)0b110_100_100);
        var open = Find(await Doctor(config, new IdentityCheck()), "ssh.identity");
        Assert.Equal(CheckStatus.Failure, open.Status);
        Assert.Contains("mode 0644", open.Detail);
        Assert.Equal($"chmod 600 {key}", open.Fix);

        File.Delete(key);
        Assert.Equal(CheckStatus.Failure, Find(await Doctor(config, new IdentityCheck()), "ssh.identity").Status);
    }

    [Fact]
    public async Task The_cli_prints_json_that_parses_and_exits_non_zero_when_a_start_would_fail()
    {
        var kh = sshd.KnownHosts(sshd.BothHostLines());
        string[] sets =
        [
            "--set", $"remote.account={sshd.User}@127.0.0.1:{sshd.Target.Port}",
            "--set", $"remote.jumpHosts={sshd.User}@127.0.0.1:{sshd.Jump.Port}",
            "--set", $"remote.identityFile={sshd.KeyEd25519}",
            "--set", $"remote.knownHostsFile={kh}",
            "--set", "remote.slirpCommand=bin/no-such-slirp",
        ];
        var (exit, output, _) = await ConfigTestSupport.Run(["doctor", "--json", .. sets]);
        Assert.Equal(EqlActorsCli.Failed, exit);
        using var json = JsonDocument.Parse(output);
        Assert.False(json.RootElement.GetProperty("ok").GetBoolean());
        var checks = json.RootElement.GetProperty("checks").EnumerateArray().ToList();
        var slirp = checks.Single(c => c.GetProperty("id").GetString() == "slirp");
        Assert.Equal("failure", slirp.GetProperty("status").GetString());
        Assert.Contains("provision", slirp.GetProperty("fix").GetString());
        Assert.Equal("ok", checks.Single(c => c.GetProperty("id").GetString() == "ssh.host_b").GetProperty("status").GetString());
        Assert.True(json.RootElement.GetProperty("failures").GetInt32() >= 1);

        var (textExit, text, _) = await ConfigTestSupport.Run(["doctor", .. sets]);
        Assert.Equal(EqlActorsCli.Failed, textExit);
        Assert.Contains("✗ remote slirp (bin/no-such-slirp)", text);
        Assert.Contains("    fix: eqlactors provision --build-slirp", text);
        Assert.Contains("✓ host_B", text);
        Assert.Contains("a start would fail", text);
    }
}
