using System.CommandLine;
using System.Reflection;

namespace EqlActors.Host.Cli;

/// <summary>The <c>eqlactors</c> command line: one verb per file, wired here.</summary>
public static class EqlActorsCli
{
    // Exit codes shared by every verb, so scripts can tell bad input from a failed run: see ExitCodes.
    public const int Ok = ExitCodes.Ok;
    public const int Failed = ExitCodes.Failed;
    public const int InvalidConfiguration = ExitCodes.Usage;
    public const int NoDaemon = ExitCodes.NoDaemon;
    public const int NotImplemented = ExitCodes.NotImplemented;

    public static readonly Option<FileInfo?> ConfigOption = new("--config", "-c")
    {
        Description = "JSON configuration file (default: /etc/eqlactors/eqlactors.json when present)",
        Recursive = true,
    };

    /// <summary>Overrides one configuration key, after the file and the environment: <c>--set ppp.mtu=1400</c> (repeatable).</summary>
    public static readonly Option<string[]> SetOption = new("--set")
    {
        Description = "Override a configuration key: --set key.path=value (repeatable; see docs/configuration.md)",
        HelpName = "key.path=value",
        Recursive = true,
        AllowMultipleArgumentsPerToken = false,
    };

    public static RootCommand Build()
    {
        var root = new RootCommand(
            "EqlActors: a self-healing bundle of pppd <-> ssh <-> slirp links balanced by the Linux EQL driver.");
        root.Options.Add(ConfigOption);
        root.Options.Add(SetOption);

        root.Subcommands.Add(RunCommand.Build());
        foreach (var verb in ControlCommands.Build()) root.Subcommands.Add(verb);
        root.Subcommands.Add(SimulateCommand.Build());
        root.Subcommands.Add(DoctorCommand.Build());
        root.Subcommands.Add(ProvisionCommand.Build());

        var config = ConfigCommand.Build();
        root.Subcommands.Add(config);
        return root;
    }

    public static string Version =>
        typeof(EqlActorsCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? "unknown";

    // A verb whose issue has not landed says so and fails: none pretends to work.
    private static Command NotYet(string name, string description, int issue)
    {
        var command = new Command(name, description + " [not implemented yet]");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine($"eqlactors {name}: not implemented yet (tracked in issue {issue}).");
            return NotImplemented;
        });
        return command;
    }
}
