using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace EqlActors.Tests.Doctor;

/// <summary>docs/README.md links every document, and every relative link in the docs this branch owns resolves (or is a document being written elsewhere).</summary>
public class DocsIndexTests
{
    private static string DocsDir([CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "..", "docs");

    // Written on other branches at the same time; linked from the index already.
    private static readonly string[] Pending = ["operations.md", "benchmarks.md"];

    [Fact]
    public void The_index_links_every_document()
    {
        var index = File.ReadAllText(Path.Combine(DocsDir(), "README.md"));
        foreach (var doc in Directory.GetFiles(DocsDir(), "*.md").Select(Path.GetFileName).Where(n => n != "README.md").Concat(Pending))
            Assert.Contains($"]({doc})", index);
    }

    [Theory]
    [InlineData("README.md")]
    [InlineData("migration.md")]
    [InlineData("troubleshooting.md")]
    public void Relative_links_resolve(string doc)
    {
        var text = File.ReadAllText(Path.Combine(DocsDir(), doc));
        foreach (Match m in Regex.Matches(text, @"\]\(([^)#:]+\.md)(#[^)]*)?\)"))
        {
            var target = m.Groups[1].Value;
            Assert.True(File.Exists(Path.Combine(DocsDir(), target)) || Pending.Contains(target), $"{doc} links {target}, which does not exist");
        }
    }
}
