using static EqlActors.Tests.Configuration.ConfigTestSupport;

namespace EqlActors.Tests.Configuration;

/// <summary>The config verbs, run in-process through the real command line.</summary>
public class ConfigCommandTests
{
    [Fact]
    public async Task Validate_says_OK_and_names_the_source()
    {
        using var file = new TempFile(ConfigLoaderTests.HowtoJson);
        var (exit, output, error) = await Run("config", "validate", "--config", file.Path);
        Assert.Equal(0, exit);
        Assert.Equal($"configuration OK (source: {file.Path})", output.Trim());
        // The HOWTO's example hosts are valid, but placeholders: warned about, nothing else.
        Assert.All(error.TrimEnd('\n').Split('\n'), line => Assert.Contains("the HOWTO's placeholder", line));
    }

    [Fact]
    public async Task Set_is_accepted_before_and_after_the_verb()
    {
        var (exit, output, _) = await Run("--set", "ppp.mtu=1400", "config", "show", "--set", "eql.mtu=1400");
        Assert.Equal(0, exit);
        Assert.Contains("\"mtu\": 1400", output);
        Assert.DoesNotContain("\"mtu\": 1500", output);
    }

    [Fact]
    public async Task A_missing_config_file_exits_2()
    {
        var (exit, output, error) = await Run("config", "validate", "--config", "/nonexistent/eqlactors.json");
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.StartsWith("eqlactors: config: --config = \"/nonexistent/eqlactors.json\": no such file", error);
    }

    [Theory]
    [InlineData("remote.account=a;b@host", "remote.account")]
    [InlineData("remote.account=u@$(reboot)", "remote.account")]
    [InlineData("remote.account=u@h:99999", "remote.account")]
    [InlineData("remote.jumpHosts=fw@-oProxyCommand=sh", "remote.jumpHosts[0]")]
    [InlineData("remote.slirpCommand=bin/slirp`id`", "remote.slirpCommand")]
    [InlineData("remote.sshPath=/usr/bin/ssh\n-oProxyCommand=x", "remote.sshPath")]
    [InlineData("remote.tcpPassword=pass\"word", "remote.tcpPassword")]
    [InlineData("ppp.extraOptions=plugin evil.so", "ppp.extraOptions[0]")]
    [InlineData("ppp.localAddress=10.0.2.15'", "ppp.localAddress")]
    [InlineData("ppp.linkNamePrefix=x\0y", "ppp.linkNamePrefix")]
    [InlineData("links=0 1 1", "links")]
    [InlineData("ppp.mtu=1400", "eql.mtu")]
    [InlineData("routes.remoteLans=192.168.1.7/24", "routes.remoteLans[0]")]
    [InlineData("eql.netmask=255.255.0.255", "eql.netmask")]
    [InlineData("eql.device=eql;ip", "eql.device")]
    [InlineData("supervision.minBackoffSeconds=60", "supervision.maxBackoffSeconds")]
    [InlineData("supervision.randomFactor=2", "supervision.randomFactor")]
    [InlineData("eql.priority=-1", "eql.priority")]
    [InlineData("health.target=-x:22", "health.target")]
    [InlineData("control.logLevel=$(x)", "control.logLevel")]
    public async Task Validate_rejects_a_hostile_value_with_one_line_naming_its_key(string set, string key)
    {
        var (exit, output, error) = await Run("config", "validate", "--set", set);
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        var lines = error.TrimEnd('\n').Split('\n');
        Assert.Contains(lines, l => l.StartsWith($"eqlactors: config: {key} ", StringComparison.Ordinal));
        // A bad value names its source; a cross-key rule (eql.mtu vs ppp.mtu) names the key it reports on.
        if (set.StartsWith(key.Split('[')[0] + "=", StringComparison.Ordinal))
            Assert.Contains(lines, l => l.StartsWith($"eqlactors: config: {key} ", StringComparison.Ordinal) && l.EndsWith("(from --set)"));
    }

    [Fact]
    public async Task Show_prints_the_effective_configuration_with_the_password_masked()
    {
        var (exit, output, error) = await Run("config", "show", "--set", "remote.attach=tcp", "--set", "remote.tcpPassword=s3cret");
        Assert.Equal(0, exit);
        Assert.Contains("\"tcpPassword\": \"***\"", output);
        Assert.DoesNotContain("s3cret", output + error);
        using var doc = System.Text.Json.JsonDocument.Parse(output);
        Assert.Equal("fireman@firewall", doc.RootElement.GetProperty("remote").GetProperty("jumpHosts")[0].GetString());
    }

    [Fact]
    public async Task Show_refuses_an_invalid_configuration()
    {
        var (exit, output, error) = await Run("config", "show", "--set", "ppp.mtu=abc");
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Contains("eqlactors: config: ppp.mtu = \"abc\": expected an integer (from --set)", error);
    }

    [Fact]
    public async Task Import_rc_prints_json_that_validates_and_reports_lines_on_stderr()
    {
        var (exit, output, error) = await Run("config", "import-rc", Fixture("howto-general-configuration.rc"));
        Assert.Equal(0, exit); // the HOWTO's verbatim block imports completely
        Assert.Contains("howto-general-configuration.rc:10: note: the HOWTO's single-link switch", error);
        Assert.DoesNotContain("not imported", error);
        Assert.Contains("howto-general-configuration.rc:19: note: PPPD_OPTS: updetach dropped", error);

        using var file = new TempFile(output);
        var (validateExit, validateOutput, _) = await Run("config", "validate", "--config", file.Path);
        Assert.Equal(0, validateExit);
        Assert.StartsWith("configuration OK", validateOutput);
    }

    [Fact]
    public async Task Import_rc_of_a_missing_file_exits_2()
    {
        var (exit, _, error) = await Run("config", "import-rc", "/nonexistent/rc");
        Assert.Equal(2, exit);
        Assert.Contains("/nonexistent/rc", error);
    }
}
