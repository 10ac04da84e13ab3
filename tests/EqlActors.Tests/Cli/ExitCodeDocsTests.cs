using System.Runtime.CompilerServices;
using EqlActors.Host.Cli;

namespace EqlActors.Tests.Cli;

/// <summary>docs/operations.md's exit-code table is <see cref="ExitCodes.Table"/>, row for row.</summary>
public class ExitCodeDocsTests
{
    private static string Repo([CallerFilePath] string here = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));

    [Fact]
    public void The_documented_exit_codes_are_the_codes_table()
    {
        var doc = File.ReadAllText(Path.Combine(Repo(), "docs", "operations.md"));
        var section = doc[doc.IndexOf("## Exit codes", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 3, StringComparison.Ordinal)];
        var rows = section.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\| \d+ \|")).ToList();
        Assert.Equal(ExitCodes.Table.Select(t => $"| {t.Code} | {t.Meaning} |"), rows);
    }

    [Fact]
    public void No_file_in_the_repository_cites_a_document_outside_it()
    {
        var root = Repo();
        var offenders = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                        && !f.Contains($"{Path.DirectorySeparatorChar}.git") && !f.Contains($"{Path.DirectorySeparatorChar}.cache{Path.DirectorySeparatorChar}")
                        && Path.GetExtension(f) is ".cs" or ".md" or ".sh" or ".patch" or ".csproj" or ".props" or ".json" or ".py" or ".service" or "")
            .Where(f => new FileInfo(f).Length < 1 << 20)
            .Where(f => File.ReadAllText(f) is var t && (t.Contains("DESIGN" + ".md", StringComparison.Ordinal) || t.Contains("/work/" + "shared", StringComparison.Ordinal) || t.Contains("../" + "shared", StringComparison.Ordinal)))
            .Select(f => Path.GetRelativePath(root, f))
            .ToList();
        Assert.Empty(offenders);
    }

    [Fact]
    public void The_docs_name_one_rc_file()
    {
        var docs = Directory.EnumerateFiles(Path.Combine(Repo(), "docs"), "*.md").Append(Path.Combine(Repo(), "README.md"));
        Assert.DoesNotContain(docs, f => System.Text.RegularExpressions.Regex.IsMatch(File.ReadAllText(f), @"~/\.eqlrc\b"));
    }
}
