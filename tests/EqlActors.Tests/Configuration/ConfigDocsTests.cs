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

    public static TheoryData<string, string> Keys()
    {
        var data = new TheoryData<string, string>();
        using var doc = JsonDocument.Parse(ConfigJson.Write(new BundleConfig()));
        void Walk(JsonElement e, string prefix)
        {
            foreach (var p in e.EnumerateObject())
            {
                var path = prefix + p.Name;
                if (p.Value.ValueKind == JsonValueKind.Object && path != "eql.linkPriorities") Walk(p.Value, path + ".");
                else data.Add(path, p.Value.ValueKind == JsonValueKind.Array
                    ? "[" + string.Join(", ", p.Value.EnumerateArray().Select(x => x.GetRawText())) + "]"
                    : p.Value.ValueKind == JsonValueKind.Object ? "{}" : p.Value.GetRawText());
            }
        }
        Walk(doc.RootElement, "");
        return data;
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
