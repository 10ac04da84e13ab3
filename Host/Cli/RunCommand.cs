using System.CommandLine;
using EqlActors.Host.Configuration;
using EqlActors.Host.Hosting;

namespace EqlActors.Host.Cli;

/// <summary><c>eqlactors run [--simulated]</c>: the service in the foreground, as systemd runs it.</summary>
public static class RunCommand
{
    public static readonly Option<bool> SimulatedOption = new("--simulated")
    {
        Description = "Run on the built-in simulated system (in real time) instead of pppd, eql and ssh",
    };

    public static Command Build()
    {
        var command = new Command("run",
            "Run the service in the foreground, as systemd does (exit 0: stopped cleanly, 1: failed, 2: invalid configuration)");
        command.Options.Add(SimulatedOption);
        command.SetAction(async (parse, _) =>
        {
            StartClock.CommandLine = StartClock.Mark();
            // Overrides from `eqlactors start` arrive in the environment (not argv, where ps shows them to everyone).
            if (StartOverrides.Take() is not { } inherited)
            {
                parse.InvocationConfiguration.Error.WriteLine($"eqlactors run: {StartOverrides.Variable} is not a JSON list of key=value strings");
                return EqlActorsCli.InvalidConfiguration;
            }
            var config = ConfigCommand.LoadOrReport(parse, inherited);
            if (config is null) return EqlActorsCli.InvalidConfiguration;
            if (!OperatingSystem.IsLinux())
            {
                parse.InvocationConfiguration.Error.WriteLine("eqlactors run: the service runs on Linux only");
                return EqlActorsCli.Failed;
            }
            return await ServiceHost.RunAsync(config, parse.GetValue(SimulatedOption));
        });
        return command;
    }
}
