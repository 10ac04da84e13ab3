using System.Collections;
using System.Text.Json;
using EqlActors.Configuration;
using EqlActors.Host.Configuration;
using static EqlActors.Tests.Configuration.ConfigTestSupport;

namespace EqlActors.Tests.Configuration;

/// <summary>A value given under a secret-looking key, known or misspelt, never appears in an error message.</summary>
public class SecretMaskingTests
{
    private const string Secret = "hunter2-Sekr1t";

    [Theory]
    [InlineData("""{ "remote": { "tcpPasword": "hunter2-Sekr1t" } }""")]
    [InlineData("""{ "remote": { "password": "hunter2-Sekr1t" } }""")]
    [InlineData("""{ "remote": { "tcpPassword": { "x": "hunter2-Sekr1t" } } }""")]
    [InlineData("""{ "remote": { "attach": "tcp", "tcpPassword": "hunter2-Sekr1t with space" } }""")]
    [InlineData("""{ "secret": "hunter2-Sekr1t" }""")]
    [InlineData("""{ "remote": { "apiToken": "hunter2-Sekr1t" } }""")]
    [InlineData("""{ "remote": { "privateKey": "hunter2-Sekr1t" } }""")]
    [InlineData("""{ "remote": { "passwrd": "hunter2-Sekr1t" } }""")]
    [InlineData("""{ "remote": { "scret": "hunter2-Sekr1t" } }""")]
    [InlineData("""{ "remote": { "tcpPwd": "hunter2-Sekr1t" } }""")]
    public void A_secret_in_the_file_is_masked_in_every_error(string json)
    {
        var result = LoadJson(json);
        Assert.False(result.IsValid);
        var text = string.Join("\n", result.Errors);
        Assert.DoesNotContain("hunter2", text);
    }

    [Theory]
    [InlineData("remote.password=hunter2-Sekr1t")]
    [InlineData("remote.tcpPasword=hunter2-Sekr1t")]
    [InlineData("remote.token=hunter2-Sekr1t")]
    [InlineData("remote.key=hunter2-Sekr1t")]
    [InlineData("remote.tcpPassword=hunter2-Sekr1t\n")]
    [InlineData("remote..password=hunter2-Sekr1t")]
    public void A_secret_given_with_set_is_masked(string set)
    {
        var result = LoadSets("remote.attach=tcp", set);
        Assert.False(result.IsValid);
        Assert.DoesNotContain("hunter2", string.Join("\n", result.Errors));
    }

    [Theory]
    [InlineData("EQLACTORS__REMOTE__PASSWORD")]
    [InlineData("EQLACTORS__REMOTE__TCPPASWORD")]
    [InlineData("EQLACTORS__REMOTE__SECRET_")]
    public void A_secret_in_the_environment_is_masked(string variable)
    {
        var result = ConfigLoader.Load(null, [], new Hashtable { [variable] = Secret }, defaultPath: null);
        Assert.False(result.IsValid);
        Assert.DoesNotContain("hunter2", string.Join("\n", result.Errors));
    }

    [Fact]
    public async Task The_cli_masks_a_misspelt_secret_and_still_suggests_the_key()
    {
        var (exit, _, err) = await Run("config", "validate", "--set", "remote.tcpPasword=" + Secret);
        Assert.Equal(2, exit);
        Assert.DoesNotContain("hunter2", err);
        Assert.Contains("did you mean remote.tcpPassword?", err);
    }

    [Fact]
    public void An_rc_line_assigning_a_secret_is_masked()
    {
        var import = RcImporter.Import("PASSWORD=\"$(cat /x)hunter2\"\nLINKS=\"0 1\"\n");
        Assert.DoesNotContain("hunter2", string.Join("\n", import.Problems.Select(p => p.Message)));
    }

    [Fact]
    public void Only_the_password_among_the_known_keys_looks_secret()
    {
        // Masking must not hide the values an operator needs to see to fix an ordinary key.
        var keys = new List<string>();
        void Walk(JsonElement e, string prefix)
        {
            foreach (var p in e.EnumerateObject())
            {
                var path = prefix + p.Name;
                if (p.Value.ValueKind == JsonValueKind.Object && path != "eql.linkPriorities") Walk(p.Value, path + ".");
                else keys.Add(path);
            }
        }
        using var doc = JsonDocument.Parse(ConfigJson.Write(new BundleConfig()));
        Walk(doc.RootElement, "");
        Assert.True(keys.Count > 30);
        Assert.Equal(["remote.tcpPassword"], keys.Where(k => Secrets.LooksSecret(k)));
    }

    [Fact]
    public void A_long_value_is_cut_in_an_error()
    {
        var result = LoadSets("ppp.mtu=" + new string('9', 100_000));
        var text = string.Join("\n", result.Errors);
        Assert.Contains("ppp.mtu", text);
        Assert.True(text.Length < 400, text.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("(100000 characters)", text);
    }
}
