using EqlActors.Host.Cli;

namespace EqlActors.Tests.Cli;

public class CliTests
{
    [Theory]
    [InlineData("run")]
    [InlineData("start")]
    [InlineData("stop")]
    [InlineData("restart")]
    [InlineData("status")]
    [InlineData("simulate")]
    [InlineData("doctor")]
    [InlineData("provision")]
    [InlineData("config")]
    [InlineData("restart-link")]
    [InlineData("restart-parked")]
    [InlineData("logs")]
    public void Every_verb_of_the_cli_is_present(string verb)
    {
        var root = EqlActorsCli.Build();
        Assert.Contains(root.Subcommands, c => c.Name == verb);
    }

    [Fact]
    public void Unknown_verb_is_an_error()
    {
        var result = EqlActorsCli.Build().Parse(["frobnicate"]);
        Assert.NotEmpty(result.Errors);
    }
}
