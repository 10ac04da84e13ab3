using System.Collections;
using System.CommandLine;
using System.Runtime.CompilerServices;
using EqlActors.Host.Cli;
using EqlActors.Host.Configuration;

namespace EqlActors.Tests.Configuration;

internal static class ConfigTestSupport
{
    /// <summary>Loads with no file, no environment and the given --set values.</summary>
    public static ConfigResult LoadSets(params string[] sets) => ConfigLoader.Load(null, sets, new Hashtable(), defaultPath: null);

    public static ConfigResult LoadJson(string json, IDictionary? env = null, params string[] sets)
    {
        using var file = new TempFile(json);
        return ConfigLoader.Load(new FileInfo(file.Path), sets, env ?? new Hashtable(), defaultPath: null);
    }

    public static string Fixture(string name, [CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "Fixtures", name);

    /// <summary>Runs the CLI in-process, capturing its output and error streams.</summary>
    public static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await EqlActorsCli.InvokeAsync(args, new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }
}

internal sealed class TempFile : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"eqlactors-test-{Guid.NewGuid():N}.json");

    public TempFile(string content) => File.WriteAllText(Path, content);

    public void Dispose() => File.Delete(Path);
}
