namespace EqlActors.Tests.Cli;

using static EqlActors.Tests.Configuration.ConfigTestSupport;

/// <summary>Every usage error: exit 2 (never 1, which status uses for "EQL down"), one plain line, no help dump.</summary>
public class UsageErrorTests
{
    [Theory]
    [InlineData("unknown option \"--bogus\"", "status", "--bogus")]
    [InlineData("--seed expects a whole number, not \"abc\"", "simulate", "--seed", "abc")]
    [InlineData("unknown command \"stauts\"; did you mean status?", "stauts")]
    [InlineData("unknown command \"validat\"; did you mean validate?", "config", "validat")]
    [InlineData("import-rc", "config", "import-rc")]
    [InlineData("--timeout", "start", "--timeout")]
    [InlineData("--links expects a whole number", "simulate", "--links", "many")]
    [InlineData("unexpected argument \"extra\"", "stop", "extra")]
    public async Task A_usage_error_is_one_plain_line_and_exit_2(string expected, params string[] args)
    {
        var (exit, output, error) = await Run(args);
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Contains(expected, error);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain("System.", error);
        Assert.DoesNotContain("Usage:", error);
        Assert.Contains("--help", error);
    }

    [Fact]
    public async Task Help_is_printed_when_asked_for()
    {
        var (exit, output, _) = await Run("status", "--help");
        Assert.Equal(0, exit);
        Assert.Contains("Usage:", output);
    }
}
