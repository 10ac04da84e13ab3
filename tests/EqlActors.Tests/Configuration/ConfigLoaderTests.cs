using System.Collections;
using System.Net;
using EqlActors.Configuration;
using EqlActors.Host.Configuration;
using static EqlActors.Tests.Configuration.ConfigTestSupport;

namespace EqlActors.Tests.Configuration;

public class ConfigLoaderTests
{
    /// <summary>The HOWTO's own setup, written as the JSON configuration (docs/configuration.md's example).</summary>
    public const string HowtoJson = """
        {
          "links": [0, 1, 2],
          "remote": {
            "account": "user@remotehost",
            "jumpHosts": ["fireman@firewall"],
            "slirpCommand": "bin/slirp"
          },
          "ppp": { "mtu": 1500, "localAddress": "10.0.2.15", "remoteAddress": "10.0.2.2" },
          "eql": { "address": "172.16.1.1", "netmask": "255.255.255.0", "mtu": 1500 },
          "routes": { "remoteLans": ["192.168.1.0/24"], "tcpReordering": 127 }
        }
        """;

    /// <summary>
    /// The start's warm-up (Hosting/StartWarmUp.cs) loads this to compile the loader's code on a second thread: were it
    /// invalid, the warm-up would stop at the first error and leave part of that code to the daemon's main thread.
    /// </summary>
    [Fact]
    public void The_start_warm_up_s_configuration_is_valid_and_a_file_alone()
    {
        var result = ConfigLoader.WarmUp();
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(["warm-up"], result.Sources);
        Assert.Equal([0, 1, 2], result.Config!.Links.ToArray());
    }

    [Fact]
    public void The_defaults_validate()
    {
        Assert.Empty(ConfigValidator.Validate(new BundleConfig()));
        var result = LoadSets();
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(new BundleConfig().Links.ToArray(), result.Config!.Links.ToArray());
        Assert.Equal("built-in defaults", result.DescribeSources());
    }

    [Fact]
    public void The_HOWTOs_own_settings_validate()
    {
        var result = LoadJson(HowtoJson);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var c = result.Config!;
        Assert.Equal([0, 1, 2], c.Links.ToArray());
        Assert.Equal(new SshEndpoint("user", "remotehost"), c.Remote.Account);
        Assert.Equal([new SshEndpoint("fireman", "firewall")], c.Remote.JumpHosts.ToArray());
        Assert.Equal(1500, c.Ppp.Mtu);
        Assert.Equal(IPAddress.Parse("172.16.1.1"), c.Eql.Address);
        Assert.Equal("192.168.1.0/24", Assert.Single(c.Routes.RemoteLans).ToString());
    }

    [Fact]
    public void Later_sources_win_file_then_environment_then_set()
    {
        var env = new Hashtable { ["EQLACTORS__PPP__MTU"] = "1400", ["EQLACTORS__EQL__MTU"] = "1400", ["EQLACTORS__PPP__LCPECHOINTERVAL"] = "7" };
        var result = LoadJson("""{ "ppp": { "mtu": 1300, "lcpEchoFailure": 9 }, "eql": { "mtu": 1300 } }""", env, "ppp.lcpEchoInterval=8");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(1400, result.Config!.Ppp.Mtu);     // environment over file
        Assert.Equal(9, result.Config.Ppp.LcpEchoFailure); // file over default
        Assert.Equal(8, result.Config.Ppp.LcpEchoInterval); // --set over environment
        Assert.Equal(3, result.Sources.Count);
    }

    [Theory]
    [InlineData("links=0 1 2")]
    [InlineData("links=0,1,2")]
    [InlineData("links=0, 1 ,2")]
    public void A_list_may_be_one_string(string set) =>
        Assert.Equal([0, 1, 2], LoadSets(set).Config!.Links.ToArray());

    [Fact]
    public void A_list_replaces_the_default_and_earlier_sources_instead_of_appending()
    {
        var result = LoadJson("""{ "links": [3], "remote": { "jumpHosts": ["a@b", "c@d"] } }""",
            new Hashtable { ["EQLACTORS__REMOTE__JUMPHOSTS__0"] = "e@f" });
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal([3], result.Config!.Links.ToArray());
        Assert.Equal([new SshEndpoint("e", "f")], result.Config.Remote.JumpHosts.ToArray());
    }

    [Theory]
    [InlineData("""{ "remote": { "jumpHosts": [] } }""")]
    [InlineData("""{ "remote": { "jumpHosts": "" } }""")]
    public void An_empty_list_means_no_jump_host(string json) =>
        Assert.Empty(LoadJson(json).Config!.Remote.JumpHosts);

    [Fact]
    public void Link_priorities_time_spans_and_nullable_values_are_read()
    {
        var result = LoadJson("""
            { "eql": { "linkPriorities": { "1": 28800 } },
              "supervision": { "minBackoffSeconds": 0.5, "maxBackoffSeconds": 60 },
              "remote": { "attach": "tcp", "tcpPassword": "s3cret" },
              "routes": { "tcpReordering": null },
              "control": { "logFile": null, "logLevel": "debug" } }
            """);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var c = result.Config!;
        Assert.Equal(28800, c.Eql.PriorityOf(1));
        Assert.Equal(c.Eql.Priority, c.Eql.PriorityOf(0));
        Assert.Equal(TimeSpan.FromMilliseconds(500), c.Supervision.MinBackoff);
        Assert.Equal(TimeSpan.FromMinutes(1), c.Supervision.MaxBackoff);
        Assert.Equal(SlirpAttach.Tcp, c.Remote.Attach);
        Assert.Equal("s3cret", c.Remote.TcpPassword);
        Assert.Null(c.Routes.TcpReordering);
        Assert.Equal("Debug", c.Control.LogLevel);
    }

    [Fact]
    public void Link_priorities_can_be_set_per_link_from_the_command_line()
    {
        var c = LoadSets("eql.linkPriorities.2=5000000", "remote.jumpHosts=", "remote.account=u@[2001:db8::1]:2222").Config!;
        Assert.Equal(5_000_000, c.Eql.PriorityOf(2));
        Assert.Empty(c.Remote.JumpHosts);
        Assert.Equal(new SshEndpoint("u", "[2001:db8::1]", 2222), c.Remote.Account);
    }

    [Fact]
    public void The_shown_configuration_loads_back_to_the_same_configuration()
    {
        var original = LoadJson(HowtoJson, null, "eql.linkPriorities.1=28800", "ppp.extraOptions=debug mru 1400", "control.logFile=/var/log/eqlactors.log").Config!;
        var again = LoadJson(ConfigJson.Write(original)).Config!;
        Assert.Equal(ConfigJson.Write(original), ConfigJson.Write(again));
    }

    [Fact]
    public void Unknown_keys_are_errors_with_a_suggestion()
    {
        var result = LoadJson("""{ "remote": { "acount": "u@h" }, "ppp": { "mtu": 1500, "mrtu": 1 }, "frobnicate": true }""",
            new Hashtable { ["EQLACTORS__EQL__MTUU"] = "1", ["PATH"] = "/bin" });
        Assert.Null(result.Config);
        Assert.Contains(result.Errors, e => e.Path == "remote.acount" && e.Message.Contains("did you mean remote.account?"));
        Assert.Contains(result.Errors, e => e.Path == "ppp.mrtu" && e.Message.Contains("unknown key"));
        Assert.Contains(result.Errors, e => e.Path == "frobnicate");
        Assert.Contains(result.Errors, e => e.Path.Equals("eql.mtuu", StringComparison.OrdinalIgnoreCase) && e.Source == "environment variable EQLACTORS__EQL__MTUU");
        Assert.Equal(4, result.Errors.Count);
    }

    [Theory]
    [InlineData("""{ "remote": "x" }""", "remote", "section")]
    [InlineData("""{ "ppp": { "mtu": [1500] } }""", "ppp.mtu", "single value")]
    [InlineData("""{ "ppp": { "mtu": 1500.0 } }""", "ppp.mtu", "integer")]
    [InlineData("""{ "ppp": { "mtu": "" } }""", "ppp.mtu", "empty")]
    [InlineData("""{ "ppp": { "mtu": null } }""", "ppp.mtu", "not null")]
    [InlineData("""{ "ppp": { "mtu": {} } }""", "ppp.mtu", "not null or {}")]
    [InlineData("""{ "links": { "a": 1 } }""", "links.a", "numbered")]
    [InlineData("""{ "singleLink": "yes" }""", "singleLink", "true or false")]
    [InlineData("""{ "eql": { "linkPriorities": { "x": 1 } } }""", "eql.linkPriorities.x", "link number")]
    [InlineData("""{ "supervision": { "minBackoffSeconds": "1s" } }""", "supervision.minBackoffSeconds", "seconds")]
    [InlineData("""{ "supervision": { "minBackoffSeconds": -1 } }""", "supervision.minBackoffSeconds", "negative")]
    [InlineData("""{ "remote": { "attach": "pipe" } }""", "remote.attach", "unix or tcp")]
    public void Values_of_the_wrong_shape_are_reported_with_their_key(string json, string path, string message)
    {
        var result = LoadJson(json);
        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.Path);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var result = LoadSets("ppp.mtu=x", "remote.account=a;b@h", "links=9", "eql.priority=0", "health.target=nohost");
        Assert.Null(result.Config);
        Assert.Equal(["eql.priority", "health.target", "links", "ppp.mtu", "remote.account"],
            result.Errors.Select(e => e.Path).Distinct().Order(StringComparer.Ordinal));
        Assert.All(result.Errors, e => Assert.Equal("--set", e.Source));
    }

    [Fact]
    public void A_missing_explicit_file_is_an_error_but_a_missing_default_file_is_not()
    {
        var missing = ConfigLoader.Load(new FileInfo("/nonexistent/eqlactors.json"), [], new Hashtable(), defaultPath: null);
        Assert.Equal("--config", Assert.Single(missing.Errors).Path);
        Assert.True(ConfigLoader.Load(null, [], new Hashtable(), defaultPath: "/nonexistent/eqlactors.json").IsValid);
    }

    [Fact]
    public void The_default_file_is_read_when_present()
    {
        using var file = new TempFile("""{ "links": [1] }""");
        var result = ConfigLoader.Load(null, [], new Hashtable(), defaultPath: file.Path);
        Assert.Equal([1], result.Config!.Links.ToArray());
        Assert.Equal(file.Path, result.SourceFile);
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("[1, 2]")]
    [InlineData("""{ "links": [0], "LINKS": [1] }""")]
    public void A_file_that_is_not_a_json_object_is_reported(string json)
    {
        var error = Assert.Single(LoadJson(json).Errors);
        Assert.Equal("--config", error.Path);
        Assert.Contains("JSON", error.Message);
    }

    [Theory]
    [InlineData("ppp.mtu")]
    [InlineData("=1")]
    [InlineData("ppp..mtu=1")]
    [InlineData("ppp mtu=1")]
    public void A_malformed_set_is_reported(string set) =>
        Assert.Equal("--set", Assert.Single(LoadSets(set).Errors).Path);

    [Fact]
    public void A_malformed_environment_variable_is_reported_and_others_are_ignored()
    {
        var result = ConfigLoader.Load(null, [], new Hashtable { ["EQLACTORS__PPP____MTU"] = "1", ["EQLACTORS_X"] = "1", ["HOME"] = "/root" }, defaultPath: null);
        Assert.Equal("EQLACTORS__PPP____MTU", Assert.Single(result.Errors).Path);
    }

    [Fact]
    public void A_tiny_eql_priority_is_a_warning_not_an_error()
    {
        var result = LoadSets("eql.priority=1");
        Assert.True(result.IsValid);
        Assert.Contains(result.Warnings, w => w.Contains("decays only 0 bytes/s"));
    }
}
