using System.Collections;
using System.CommandLine;
using EqlActors.Configuration;
using EqlActors.Host.Configuration;

namespace EqlActors.Host.Cli;

/// <summary>
/// <c>eqlactors config validate|show|import-rc</c>, and the loading helper every other verb uses:
/// <code>
/// var config = ConfigCommand.LoadOrReport(parseResult);
/// if (config is null) return EqlActorsCli.InvalidConfiguration;
/// </code>
/// </summary>
public static class ConfigCommand
{
    /// <summary>Loads from the parse result's <c>--config</c> and <c>--set</c> and the process environment (or <paramref name="environment"/>).</summary>
    /// <paramref name="inheritedSets"/> come before the command line's own <c>--set</c> values, which win.
    public static ConfigResult Load(ParseResult parse, IDictionary? environment = null, IReadOnlyList<string>? inheritedSets = null) =>
        ConfigLoader.Load(
            parse.GetValue(EqlActorsCli.ConfigOption),
            [.. inheritedSets ?? [], .. parse.GetValue(EqlActorsCli.SetOption) ?? []],
            environment ?? Environment.GetEnvironmentVariables());

    /// <summary>
    /// Loads and validates; on failure prints every error on its own line to the invocation's stderr
    /// (<c>eqlactors: config: remote.account = "a;b@h": ...</c>) and returns null: the verb then returns
    /// <see cref="EqlActorsCli.InvalidConfiguration"/> (2) without starting anything. Warnings are printed either way.
    /// </summary>
    public static BundleConfig? LoadOrReport(ParseResult parse, IReadOnlyList<string>? inheritedSets = null)
    {
        var result = Load(parse, null, inheritedSets);
        Report(result, parse.InvocationConfiguration.Error);
        return result.Config;
    }

    /// <summary>Prints the errors and warnings of a load, one line each.</summary>
    public static void Report(ConfigResult result, TextWriter error)
    {
        foreach (var e in result.Errors) error.WriteLine($"eqlactors: config: {e}");
        foreach (var w in result.Warnings) error.WriteLine($"eqlactors: config: warning: {w}");
    }

    public static Command Build()
    {
        var config = new Command("config", "Validate, show or import configuration");

        var validate = new Command("validate", "Validate the effective configuration (exit 0: valid, 2: invalid)");
        validate.SetAction(parse =>
        {
            var result = Load(parse);
            Report(result, parse.InvocationConfiguration.Error);
            if (!result.IsValid) return EqlActorsCli.InvalidConfiguration;
            foreach (var w in ConfigValidator.PlaceholderWarnings(result.Config!)) parse.InvocationConfiguration.Error.WriteLine($"eqlactors: config: warning: {w}");
            parse.InvocationConfiguration.Output.WriteLine($"configuration OK (source: {result.DescribeSources()})");
            return EqlActorsCli.Ok;
        });

        var show = new Command("show", "Print the effective configuration as JSON, secrets masked (exit 2 if invalid)");
        show.SetAction(parse =>
        {
            var result = Load(parse);
            Report(result, parse.InvocationConfiguration.Error);
            if (result.Config is not { } c) return EqlActorsCli.InvalidConfiguration;
            parse.InvocationConfiguration.Output.WriteLine(ConfigJson.Write(c));
            return EqlActorsCli.Ok;
        });

        var file = new Argument<FileInfo>("file") { Description = "The rc file the HOWTO script sources (shell variable assignments)" };
        var importRc = new Command("import-rc",
            "Translate the HOWTO script's rc file into JSON configuration without executing it " +
            "(exit 0: complete, 1: JSON printed but some lines were not imported, 2: nothing usable)");
        importRc.Arguments.Add(file);
        importRc.SetAction(parse =>
        {
            var (output, error) = (parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            var rcFile = parse.GetRequiredValue(file);
            string text;
            try { text = System.Text.Encoding.UTF8.GetString(Linux.BoundedFile.ReadAllBytes(rcFile.FullName)); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"eqlactors: import-rc: {rcFile.FullName}: {ex.Message}");
                return EqlActorsCli.InvalidConfiguration;
            }
            var import = RcImporter.Import(text);
            var name = rcFile.Name;
            var lines = import.Notes.Select(n => (n.Line, Text: "note: " + n.Message))
                .Concat(import.Problems.Select(p => (p.Line, Text: p.Message)))
                .Concat(import.Errors.Select(e => (e.Line, Text: "invalid: " + e.Message)))
                .OrderBy(m => m.Line); // stable: a line's notes, then its problems
            foreach (var (line, message) in lines) error.WriteLine($"eqlactors: import-rc: {name}:{line}: {message}");
            if (import.Json is not null) output.Write(import.Json);
            if (import.ExitCode == ExitCodes.Failed)
                error.WriteLine("eqlactors: import-rc: the JSON above is valid but incomplete: review the lines reported as not imported");
            return import.ExitCode;
        });

        config.Subcommands.Add(validate);
        config.Subcommands.Add(show);
        config.Subcommands.Add(importRc);
        return config;
    }
}
