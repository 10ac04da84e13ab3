using System.Runtime.CompilerServices;
using System.Text.Json;
using EqlActors.Configuration;
using EqlActors.Host.Configuration;

namespace EqlActors.Tests.Configuration;

/// <summary>docs/configuration.md must document every key, with the default the code has.</summary>
public class ConfigDocsTests
{
    private static string Docs([CallerFilePath] string here = "") =>
        File.ReadAllText(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "..", "docs", "configuration.md"));

    /// <summary>Every key of the one key table, with its default as config show writes it.</summary>
    public static TheoryData<string, string> Keys()
    {
        var data = new TheoryData<string, string>();
        var defaults = new BundleConfig();
        foreach (var key in ConfigKeys.All)
        {
            using var stream = new MemoryStream();
            using (var w = new Utf8JsonWriter(stream))
            {
                w.WriteStartObject();
                key.Write(w, "v", defaults, false);
                w.WriteEndObject();
            }
            using var doc = JsonDocument.Parse(stream.ToArray());
            var v = doc.RootElement.GetProperty("v");
            data.Add(key.Path, v.ValueKind == JsonValueKind.Array
                ? "[" + string.Join(", ", v.EnumerateArray().Select(x => x.GetRawText())) + "]"
                : v.ValueKind == JsonValueKind.Object ? "{}" : v.GetRawText());
        }
        return data;
    }

    [Fact]
    public void The_key_table_drives_reading_and_writing()
    {
        // Every key config show writes is one the loader knows (no unknown-key error on its own output), and the
        // JSON holds exactly the table's keys.
        var json = ConfigJson.Write(new BundleConfig(), revealSecrets: true);
        Assert.True(ConfigLoader.FromJson(json).IsValid, string.Join("\n", ConfigLoader.FromJson(json).Errors));
        var written = new List<string>();
        void Walk(JsonElement e, string prefix)
        {
            foreach (var p in e.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.Object && prefix + p.Name != "eql.linkPriorities") Walk(p.Value, prefix + p.Name + ".");
                else written.Add(prefix + p.Name);
        }
        using (var doc = JsonDocument.Parse(json)) Walk(doc.RootElement, "");
        Assert.Equal(ConfigKeys.All.Select(k => k.Path), written);
        // A key outside the table is unknown.
        Assert.Contains(ConfigLoader.FromJson("""{ "ppp": { "mtux": 1 } }""").Errors, e => e.Message.Contains("did you mean ppp.mtu?"));
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void Every_key_is_documented_with_its_default(string key, string defaultJson) =>
        Assert.Contains($"| `{key}` | `{defaultJson}` |", Docs());

    [Fact]
    public void Every_pppd_word_of_the_allow_list_and_the_deny_list_is_documented()
    {
        var docs = Docs();
        var words = PppdOptions.Allowed.Keys.Concat(PppdOptions.Dangerous.Where(w => !w.EndsWith("-script", StringComparison.Ordinal)))
            .Concat(PppdOptions.OwnedElsewhere.Keys);
        Assert.All(words, w => Assert.Contains($"`{w}", docs));
    }

    [Fact]
    public void The_documented_example_validates()
    {
        var docs = Docs();
        var start = docs.IndexOf("```json", StringComparison.Ordinal) + "```json".Length;
        var json = docs[start..docs.IndexOf("```", start, StringComparison.Ordinal)];
        var result = ConfigLoader.FromJson(json);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
    }
}
