using System.Net;
using EqlActors.Configuration;
using EqlActors.Host.Configuration;
using static EqlActors.Tests.Configuration.ConfigTestSupport;

namespace EqlActors.Tests.Configuration;

public class RcImportTests
{
    private static BundleConfig Loaded(RcImport import)
    {
        Assert.NotNull(import.Json);
        var result = ConfigLoader.FromJson(import.Json!);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Config!;
    }

    [Fact]
    public void The_HOWTOs_general_configuration_block_is_imported()
    {
        var import = RcImporter.Import(File.ReadAllText(Fixture("howto-general-configuration.rc")));
        var c = Loaded(import);

        Assert.Equal([0, 1, 2], c.Links.ToArray());
        Assert.False(c.SingleLink);
        Assert.Equal("user@remotehost", c.Remote.Account.ToString());
        Assert.Equal("fireman@firewall", Assert.Single(c.Remote.JumpHosts).ToString());
        Assert.Equal(1500, c.Ppp.Mtu);
        Assert.Equal(1500, c.Eql.Mtu);
        Assert.Equal(IPAddress.Parse("10.0.2.15"), c.Ppp.LocalAddress);
        Assert.Equal(IPAddress.Parse("10.0.2.2"), c.Ppp.RemoteAddress);
        Assert.Empty(c.Ppp.ExtraOptions);
        Assert.Equal(IPAddress.Parse("172.16.1.1"), c.Eql.Address);
        Assert.Equal("192.168.1.0/24", Assert.Single(c.Routes.RemoteLans).ToString());
        Assert.Equal("bin/slirp", c.Remote.SlirpCommand);
        Assert.Equal("/usr/sbin/pppd", c.Ppp.PppdPath);

        // The block's two lines of shell logic are the HOWTO's own idioms: understood and noted, so the unedited
        // block imports completely (exit 0).
        Assert.Empty(import.Problems);
        Assert.Contains(import.Notes, n => n.Line == 10 && n.Message.Contains("FastDownload_SlowUpload is not set"));
        Assert.Contains(import.Notes, n => n.Line == 26 && n.Message.Contains("run import-rc on that file too"));
        Assert.Contains(import.Notes, n => n.Line == 19 && n.Message.Contains("updetach dropped"));
        Assert.Contains(import.Notes, n => n.Message.Contains("CFG_FILE"));
        Assert.Equal(0, import.ExitCode);
    }

    [Fact]
    public void The_HOWTOs_single_link_switch_uncommented_imports_link_0_alone()
    {
        var text = File.ReadAllText(Fixture("howto-general-configuration.rc")).Replace("#FastDownload_SlowUpload=yes", "FastDownload_SlowUpload=yes");
        var import = RcImporter.Import(text);
        Assert.Equal(0, import.ExitCode);
        var c = Loaded(import);
        Assert.True(c.SingleLink);
        Assert.Equal([0], c.Links.ToArray());
        Assert.Contains(import.Notes, n => n.Line == 10 && n.Message.Contains("LINKS=0"));
    }

    [Theory]
    [InlineData("[ $FastDownload_SlowUpload ] && rm -rf /")]
    [InlineData("[ $FastDownload_SlowUpload ] && LINKS=0; rm -rf /")]
    [InlineData("test -f $CFG_FILE && . /etc/shadow")]
    public void Only_the_exact_idioms_are_understood(string line)
    {
        var import = RcImporter.Import("FastDownload_SlowUpload=yes\n" + line + "\n");
        Assert.Single(import.Problems);
        Assert.Equal(1, import.ExitCode);
    }

    [Theory]
    [InlineData("unquoted")]
    [InlineData("double-quoted")]
    [InlineData("single-quoted")]
    [InlineData("unclosed-braces")]
    [InlineData("unterminated-quotes")]
    [InlineData("comments")]
    public async Task Import_is_linear_in_its_input(string shape)
    {
        static string Input(string shape, int n) => shape switch
        {
            "unquoted" => "REMOTE_ACCOUNT=" + new string('a', n),
            "double-quoted" => "REMOTE_ACCOUNT=\"" + new string('a', n) + "\"",
            "single-quoted" => "REMOTE_ACCOUNT='" + new string('a', n) + "'",
            "unclosed-braces" => string.Concat(Enumerable.Repeat("X=${a\n", n / 6)),
            "unterminated-quotes" => string.Concat(Enumerable.Repeat("X=\"a\n", n / 5)),
            _ => string.Concat(Enumerable.Repeat("# a comment line\n", n / 17)),
        };
        // Bytes allocated, a deterministic operation count: linear input growth x4 gives about x4, quadratic x16.
        static long Allocated(string text)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            RcImporter.Import(text);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Allocated(Input(shape, 1000)); // JIT and static tables out of the way
        var small = Allocated(Input(shape, 100_000));
        var large = Allocated(Input(shape, 400_000));
        Assert.True(large < 8 * small, $"{shape}: {small} bytes for 100 KB, {large} for 400 KB");

        // And a generous wall-clock bound on the largest file accepted (1 MiB): linear takes well under a second,
        // the quadratic importer took over 13 CPU-minutes on 50 MB and minutes on 1 MB.
        var run = Task.Run(() => RcImporter.Import(Input(shape, 1 << 20)));
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60))) == run, $"{shape}: 1 MiB not imported within 60 s");
    }

    [Fact]
    public void A_file_of_assignments_only_imports_completely()
    {
        var import = RcImporter.Import("""
            # my rc
            export FastDownload_SlowUpload=yes
            LINKS='0 1'   # two links
            REMOTE_ACCOUNT="bob@hostb.example.org"
            VIA="ssh -q -t a@jump1 ssh -q -t -p 2022 b@jump2"
            MTU=1400 EQL_IP=10.9.0.1
            PPPD=/usr/local/sbin/pppd
            PPPD_OPTS="local 10.0.2.15:10.0.2.2 mtu ${MTU} passive noauth debug mru 1400 \
              lcp-echo-interval 10 nodefaultroute idle 0"
            REMOTE_LANS="10.1.0.0/16 10.2.0.0/16"
            REMOTE_SLIRP=/home/bob/bin/slirp
            """);
        Assert.Empty(import.Problems);
        Assert.Equal(0, import.ExitCode);
        var c = Loaded(import);
        Assert.True(c.SingleLink);
        Assert.Equal([0, 1], c.Links.ToArray());
        Assert.Equal(["a@jump1", "b@jump2:2022"], c.Remote.JumpHosts.Select(h => h.ToString()).ToArray());
        Assert.Equal(1400, c.Ppp.Mtu);
        Assert.Equal(1400, c.Eql.Mtu);
        Assert.Equal(["debug", "mru", "1400"], c.Ppp.ExtraOptions.ToArray());
        Assert.Equal(10, c.Ppp.LcpEchoInterval);
        Assert.Equal("/usr/local/sbin/pppd", c.Ppp.PppdPath);
        Assert.Equal(2, c.Routes.RemoteLans.Length);
        Assert.Equal("/home/bob/bin/slirp", c.Remote.SlirpCommand);
    }

    [Fact]
    public void An_empty_VIA_means_a_direct_connection()
    {
        var c = Loaded(RcImporter.Import("VIA=\"\"\n"));
        Assert.Empty(c.Remote.JumpHosts);
    }

    [Theory]
    [InlineData("LINKS=`seq 0 2`", 1, "backticks")]
    [InlineData("LINKS=$(seq 0 2)", 1, "$(...)")]
    [InlineData("[ $X ] && LINKS=0", 1, "'&'")]
    [InlineData("LINKS=0; rm -rf /", 1, "';'")]
    [InlineData("echo hello", 1, "not a variable assignment")]
    [InlineData("LINKS=0 sh", 1, "not a variable assignment")]
    [InlineData("LINKS=0\nREMOTE_SLIRP=~/bin/slirp", 2, "tilde")]
    [InlineData("REMOTE_SLIRP=$HOME/bin/slirp", 1, "$HOME")]
    [InlineData("LINKS=\"0 1", 1, "unterminated")]
    [InlineData("FOO=bar", 1, "not one of the HOWTO's configuration variables")]
    [InlineData("VIA=\"ssh -o ProxyCommand=x a@b\"", 1, "-o")]
    [InlineData("VIA=\"nc fw 22\"", 1, "expected 'ssh'")]
    [InlineData("VIA=\"ssh -q -t firewall\"", 1, "no user")]
    [InlineData("PPPD_OPTS=\"persist\"", 1, "restarts failed links")]
    [InlineData("PPPD_OPTS=\"connect /bin/evil\"", 1, "never allowed")]
    [InlineData("PPPD=\"sudo pppd\"", 1, "absolute path")]
    public void Lines_that_cannot_be_represented_are_reported_with_their_line(string rc, int line, string message)
    {
        var import = RcImporter.Import(rc);
        Assert.NotEmpty(import.Problems);
        Assert.All(import.Problems, p => Assert.Equal(line, p.Line));
        Assert.Contains(import.Problems, p => p.Message.Contains(message, StringComparison.Ordinal));
        Assert.Equal(1, import.ExitCode);
        Loaded(import); // what was imported still loads and validates
    }

    [Theory]
    [InlineData("REMOTE_ACCOUNT='a;b@host'", "remote.account")]
    [InlineData("MTU=1500\nPPPD_OPTS=\"mtu 1400\"", "eql.mtu")]
    [InlineData("LINKS=\"0 1 9\"", "links")]
    [InlineData("REMOTE_LANS=192.168.1.1/24", "routes.remoteLans")]
    [InlineData("EQL_IP='1.2.3.4 ; reboot'", "eql.address")]
    public void Values_that_do_not_validate_give_no_json_and_exit_2(string rc, string key)
    {
        var import = RcImporter.Import(rc);
        Assert.Null(import.Json);
        Assert.Equal(2, import.ExitCode);
        Assert.Contains(import.Errors, e => e.Message.Contains(key) && e.Line > 0);
    }

    [Fact]
    public void Quotes_escapes_references_and_continuations_follow_the_shell()
    {
        var rc = ShellRc.Parse("""
            A=one
            B="$A two"'$A'\ three
            C=${A}x\
            y
            D="multi
            line" # comment
            """);
        Assert.Empty(rc.Problems);
        Assert.Equal(["one", "one two$A three", "onexy", "multi\nline"], rc.Assignments.Select(a => a.Value).ToArray());
        Assert.Equal([1, 2, 3, 5], rc.Assignments.Select(a => a.Line).ToArray());
    }

    [Fact]
    public void A_later_assignment_wins()
    {
        var c = Loaded(RcImporter.Import("LINKS=\"0 1 2\"\nLINKS=0\n"));
        Assert.Equal([0], c.Links.ToArray());
    }
}
