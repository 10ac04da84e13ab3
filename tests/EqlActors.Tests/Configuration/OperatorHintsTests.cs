using System.Collections;
using EqlActors.Host.Configuration;
using static EqlActors.Tests.Configuration.ConfigTestSupport;

namespace EqlActors.Tests.Configuration;

/// <summary>What a new user gets wrong first: placeholders left in, one underscore, a misspelt section.</summary>
public class OperatorHintsTests
{
    [Fact]
    public async Task Validate_warns_about_the_HOWTOs_placeholder_hosts()
    {
        var (exit, output, error) = await Run("config", "validate");
        Assert.Equal(0, exit);
        Assert.StartsWith("configuration OK", output);
        Assert.Contains("warning: remote.account is user@remotehost, the HOWTO's placeholder", error);
        Assert.Contains("warning: remote.jumpHosts holds fireman@firewall", error);

        var (_, _, real) = await Run("config", "validate", "--set", "remote.account=alice@lab.example", "--set", "remote.jumpHosts=");
        Assert.DoesNotContain("placeholder", real);
    }

    [Theory]
    [InlineData("EQLACTORS_PPP_MTU", "EQLACTORS__PPP__MTU")]
    [InlineData("EQLACTORS_REMOTE_ACCOUNT", "EQLACTORS__REMOTE__ACCOUNT")]
    [InlineData("eqlactors_eql_mtu", "EQLACTORS__EQL__MTU")]
    public void An_environment_variable_with_one_underscore_gets_a_hint(string variable, string meant)
    {
        var result = ConfigLoader.Load(null, [], new Hashtable { [variable] = "1400" }, defaultPath: null);
        Assert.Contains(result.Warnings, w => w.Contains(variable) && w.Contains(meant, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Our_own_variables_get_no_hint()
    {
        var result = ConfigLoader.Load(null, [], new Hashtable { ["EQLACTORS_LOG_STYLE"] = "file", [StartOverrides.Variable] = "[]" }, defaultPath: null);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("EQLACTORS_"));
    }

    [Theory]
    [InlineData("remot.account=alice@lab")]
    [InlineData("Remote.acount=alice@lab")]
    public void A_misspelt_section_still_gets_a_did_you_mean(string set)
    {
        var result = LoadSets(set);
        Assert.Contains(result.Errors, e => e.ToString().Contains("did you mean remote.account?"));
    }

    [Fact]
    public void A_misspelt_section_in_the_file_gets_a_did_you_mean()
    {
        var result = LoadJson("""{ "remot": { "account": "alice@lab", "jumpHosts": [] } }""");
        var text = string.Join("\n", result.Errors);
        Assert.Contains("did you mean remote.account?", text);
        Assert.Contains("did you mean remote.jumpHosts?", text);
    }
}
