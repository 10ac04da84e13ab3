using System.Text.Json;
using EqlActors.Host.Cli;
using EqlActors.Simulation;

namespace EqlActors.Tests.Simulation;

[CollectionDefinition("console", DisableParallelization = true)]
public class ConsoleCollection;

/// <summary>The simulate verb's contract: exit code and the JSON object on stdout.</summary>
[Collection("console")]
public class SimulateCommandTests
{
    private static (int Exit, string Out) Invoke(params string[] args)
    {
        var (exit, output, _) = InvokeWithErrors(args);
        return (exit, output);
    }

    private static (int Exit, string Out, string Err) InvokeWithErrors(params string[] args)
    {
        var (previous, previousError) = (Console.Out, Console.Error);
        var writer = new StringWriter();
        var error = new StringWriter();
        Console.SetOut(writer);
        Console.SetError(error);
        try
        {
            var exit = EqlActorsCli.Invoke(args, new System.CommandLine.InvocationConfiguration { Output = writer, Error = error });
            return (exit, writer.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(previous);
            Console.SetError(previousError);
        }
    }

    [Theory]
    [InlineData("do not fit in --duration 90s", "--faults", "200", "--duration", "90s")]
    [InlineData("at most 10000", "--faults", "100000")]
    [InlineData("--set is not read by simulate", "--set", "ppp.mtu=1400")]
    [InlineData("--config is not read by simulate", "--config", "/etc/eqlactors/eqlactors.json")]
    [InlineData("--seed expects a whole number", "--seed", "abc")]
    public void An_option_it_cannot_honour_is_refused_before_running(string expected, params string[] args)
    {
        var (exit, output, error) = InvokeWithErrors(["simulate", .. args]);
        Assert.Equal(2, exit);
        Assert.Equal("", output); // nothing ran
        Assert.Contains(expected, error);
    }

    [Fact]
    public void A_json_run_reports_its_progress_on_stderr()
    {
        var previous = SimulateCommand.ProgressInterval;
        SimulateCommand.ProgressInterval = TimeSpan.Zero;
        try
        {
            var (exit, output, error) = InvokeWithErrors("simulate", "--faults", "4", "--duration", "10m", "--json");
            Assert.Equal(0, exit);
            using var json = JsonDocument.Parse(output); // stdout stays one JSON object
            Assert.Contains("eqlactors simulate: 4/4 faults injected", error);
        }
        finally
        {
            SimulateCommand.ProgressInterval = previous;
        }
    }

    [Fact]
    public void Json_output_is_one_object_with_the_documented_fields()
    {
        var (exit, output) = Invoke("simulate", "--links", "3", "--faults", "45", "--seed", "42", "--duration", "1h", "--json");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal(45, root.GetProperty("faultsInjected").GetInt32());
        Assert.Equal(45, root.GetProperty("faultsRecovered").GetInt32());
        var kinds = root.GetProperty("faultKinds");
        Assert.All(Enum.GetNames<FaultKind>(), k => Assert.Equal(3, kinds.GetProperty(k).GetInt32()));
        Assert.True(root.GetProperty("maxRecoverySeconds").GetDouble() >= root.GetProperty("meanRecoverySeconds").GetDouble());
        Assert.InRange(root.GetProperty("availability").GetDouble(), 0.01, 1);
        var leaks = root.GetProperty("leaks");
        Assert.Equal(0, leaks.GetProperty("processes").GetInt32());
        Assert.Equal(0, leaks.GetProperty("slaves").GetInt32());
        Assert.Equal(0, leaks.GetProperty("routes").GetInt32());
        Assert.True(root.GetProperty("success").GetBoolean());
    }

    [Fact]
    public void Without_arguments_it_prints_a_timeline_and_succeeds()
    {
        var (exit, output) = Invoke("simulate");

        Assert.Equal(0, exit);
        Assert.Contains("[00:00:00.0] bundle: bundle starting", output);
        Assert.Contains("bundle: EQL ready", output);
        Assert.Contains("FAULT #1", output);
        Assert.Contains("recovered from fault #30", output);
        Assert.EndsWith("OK", output.TrimEnd());
    }

    [Theory]
    [InlineData("--links", "5")]
    [InlineData("--duration", "soon")]
    [InlineData("--bundles", "0")]
    public void Bad_options_are_refused_with_exit_2(string option, string value)
    {
        var (exit, _) = Invoke("simulate", option, value);

        Assert.Equal(EqlActorsCli.InvalidConfiguration, exit);
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("15m", 900)]
    [InlineData("2h", 7200)]
    [InlineData("1.5d", 129600)]
    public void Durations_read_like_people_write_them(string text, double seconds)
    {
        Assert.True(SimulateCommand.TryParseDuration(text, out var span));
        Assert.Equal(seconds, span.TotalSeconds);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_same_seed_prints_the_same_bytes_and_writes_the_same_trace_file(bool json)
    {
        var dir = Directory.CreateTempSubdirectory("eqlactors-replay-");
        try
        {
            (string Out, string Trace) Once(string name)
            {
                var trace = Path.Combine(dir.FullName, name);
                string[] args = ["simulate", "--links", "3", "--faults", "60", "--seed", "5", "--duration", "1h", "--trace", trace];
                var (exit, output, error) = InvokeWithErrors(json ? [.. args, "--json"] : args);
                Assert.Equal(0, exit);
                // The wall time differs from run to run, so it goes to stderr, never into what replays.
                Assert.Contains(SimulateCommand.WallPrefix, error);
                Assert.DoesNotContain(SimulateCommand.WallPrefix, output);
                Assert.DoesNotContain("s wall)", output);
                Assert.DoesNotContain("wallSeconds", output);
                return (output, File.ReadAllText(trace));
            }

            var a = Once("a.trace");
            var b = Once("b.trace");

            Assert.Contains("FAULT #60", a.Trace);
            Assert.Equal(a.Out, b.Out);
            Assert.Equal(a.Trace, b.Trace);
            if (json) Assert.Equal(60, System.Text.Json.Nodes.JsonNode.Parse(a.Out)!["faultsInjected"]!.GetValue<int>());
            else Assert.Contains("FAULT #60", a.Out);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
