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
        var root = Root();
        root.Subcommands.Add(RunCommand.Build());
        foreach (var verb in ControlCommands.Build()) root.Subcommands.Add(verb);
        root.Subcommands.Add(SimulateCommand.Build());
        root.Subcommands.Add(DoctorCommand.Build());
        root.Subcommands.Add(ProvisionCommand.Build());

        var config = ConfigCommand.Build();
        root.Subcommands.Add(config);
        return root;
    }

    private static RootCommand Root()
    {
        var root = new RootCommand(
            "EqlActors: a self-healing bundle of pppd <-> ssh <-> slirp links balanced by the Linux EQL driver.");
        root.Options.Add(ConfigOption);
        root.Options.Add(SetOption);
        return root;
    }

    /// <summary>
    /// <c>run</c> is how the daemon starts (systemd, <c>eqlactors start</c>), and the links fork only after this parse:
    /// building every verb first costs start time in a slow machine (docs/benchmarks.md, section 32). So <c>run</c>'s
    /// command line is parsed first against a root that has only <c>run</c>, and that parse is kept only when it went
    /// cleanly to <c>run</c>'s own action. Anything else (an error, <c>--help</c>, a directive) is parsed again with the
    /// whole tree: help and error lines are exactly those of the full command line. Null: not kept.
    /// </summary>
    internal static ParseResult? ParseRunAlone(string[] args)
    {
        if (args.Length == 0 || args[0] != "run") return null;
        var root = Root();
        var run = RunCommand.Build();
        root.Subcommands.Add(run);
        var parse = root.Parse(args);
        return parse.Errors.Count == 0 && parse.CommandResult.Command == run && parse.Action == run.Action ? parse : null;
    }

    /// <summary>
    /// Parses and runs, the way every entry point must: a usage error (unknown verb or option, a value of the wrong
    /// kind, a missing argument) is one plain line on stderr and exit 2, never the full help and never exit 1, which
    /// for <c>status</c> means "EQL down". Help is printed only when asked for (<c>--help</c>).
    /// </summary>
    public static async Task<int> InvokeAsync(string[] args, InvocationConfiguration? configuration = null)
    {
        configuration ??= new InvocationConfiguration();
        var parse = ParseRunAlone(args) ?? Build().Parse(args);
        if (parse.Errors.Count == 0) return await parse.InvokeAsync(configuration);
        var verb = string.Join(' ', Path(parse.CommandResult));
        var problems = parse.Errors.Select(e => Plain(e.Message, parse.CommandResult.Command)).Distinct().ToList();
        // "stauts": the unknown word says more than "Required command was not provided".
        if (problems.Count > 1) problems.RemoveAll(p => p.StartsWith("Required command", StringComparison.Ordinal));
        var line = $"eqlactors{(verb.Length == 0 ? "" : " " + verb)}: {string.Join("; ", problems)} (see eqlactors{(verb.Length == 0 ? "" : " " + verb)} --help)";
        configuration.Error.WriteLine(line.Length <= 300 ? line : line[..300] + "...");
        return ExitCodes.Usage;
    }

    public static int Invoke(string[] args, InvocationConfiguration? configuration = null) =>
        InvokeAsync(args, configuration).GetAwaiter().GetResult();

    private static IEnumerable<string> Path(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new List<string>();
        for (var r = result; r is not null && r.Parent is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, r.Command.Name);
        return names;
    }

    /// <summary>System.CommandLine's message in an operator's words: no .NET type names; a misspelt verb gets a suggestion.</summary>
    internal static string Plain(string message, Command command)
    {
        var m = System.Text.RegularExpressions.Regex.Match(message, @"^Cannot parse argument '(.*)' for (option|command) '(.*)' as expected type '([^']+)'\.?$", System.Text.RegularExpressions.RegexOptions.Singleline);
        if (m.Success)
            return $"{m.Groups[3].Value} expects {Kind(m.Groups[4].Value)}, not {Configuration.ConfigError.Quote(m.Groups[1].Value)}";
        m = System.Text.RegularExpressions.Regex.Match(message, @"^Unrecognized command or argument '(.*)'\.?$", System.Text.RegularExpressions.RegexOptions.Singleline);
        if (m.Success)
        {
            var token = m.Groups[1].Value;
            if (token.StartsWith('-')) return $"unknown option {Configuration.ConfigError.Quote(token)}";
            var near = command.Subcommands.Select(c => c.Name).OrderBy(n => Configuration.EditDistance.Between(n, token)).FirstOrDefault();
            return command.Subcommands.Count == 0 ? $"unexpected argument {Configuration.ConfigError.Quote(token)}"
                : $"unknown command {Configuration.ConfigError.Quote(token)}" + (near is not null && Configuration.EditDistance.Between(near, token) <= 2 ? $"; did you mean {near}?" : "");
        }
        return message.TrimEnd('.');
    }

    private static string Kind(string type) => type switch
    {
        "System.Int32" or "System.Int64" => "a whole number",
        "System.Double" => "a number",
        "System.Boolean" => "true or false",
        "System.IO.FileInfo" => "a file name",
        _ => "another kind of value",
    };


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
