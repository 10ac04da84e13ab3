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

    [Theory]
    [InlineData("run")]
    [InlineData("run --simulated")]
    [InlineData("run --config /etc/x.json --set ppp.mtu=1400 --set eql.mtu=1400")]
    [InlineData("run -c /etc/x.json --simulated")]
    [InlineData("--config /etc/x.json run")]
    public void Run_parsed_alone_reads_what_the_whole_tree_reads(string line)
    {
        var args = line.Split(' ');
        var full = EqlActorsCli.Build().Parse(args);
        Assert.Empty(full.Errors);
        var alone = EqlActorsCli.ParseRunAlone(args);
        if (args[0] != "run")
        {
            Assert.Null(alone); // only a command line that starts with the verb takes the short way
            return;
        }
        Assert.NotNull(alone);
        Assert.Equal("run", alone.CommandResult.Command.Name);
        Assert.Equal(full.GetValue(EqlActorsCli.ConfigOption)?.FullName, alone.GetValue(EqlActorsCli.ConfigOption)?.FullName);
        Assert.Equal(full.GetValue(EqlActorsCli.SetOption), alone.GetValue(EqlActorsCli.SetOption));
        Assert.Equal(full.GetValue(RunCommand.SimulatedOption), alone.GetValue(RunCommand.SimulatedOption));
    }

    [Theory]
    [InlineData("run --help")]
    [InlineData("run -h")]
    [InlineData("run --bogus")]
    [InlineData("run extra")]
    [InlineData("run --set")]
    [InlineData("run status")]
    [InlineData("run --version")]
    [InlineData("status")]
    public void Help_errors_and_other_verbs_go_the_whole_tree_s_way(string line) =>
        Assert.Null(EqlActorsCli.ParseRunAlone(line.Split(' ')));

    [Theory]
    [InlineData("run --help")]
    [InlineData("run --bogus")]
    [InlineData("run extra")]
    [InlineData("run --set")]
    public async Task Run_s_help_and_errors_are_those_of_the_whole_tree(string line)
    {
        var args = line.Split(' ');
        var (viaCli, viaCliErr) = (new StringWriter(), new StringWriter());
        var code = await EqlActorsCli.InvokeAsync(args, new System.CommandLine.InvocationConfiguration { Output = viaCli, Error = viaCliErr });
        var (whole, wholeErr) = (new StringWriter(), new StringWriter());
        var parse = EqlActorsCli.Build().Parse(args);
        var expected = parse.Errors.Count == 0
            ? await parse.InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = whole, Error = wholeErr })
            : 2;
        Assert.Equal(expected, code);
        if (parse.Errors.Count == 0) Assert.Equal(whole.ToString(), viaCli.ToString());
        else Assert.StartsWith("eqlactors run: ", viaCliErr.ToString());
        Assert.NotEqual("", viaCli.ToString() + viaCliErr.ToString());
    }

    [Fact]
    public void Unknown_verb_is_an_error()
    {
        var result = EqlActorsCli.Build().Parse(["frobnicate"]);
        Assert.NotEmpty(result.Errors);
    }
}
