using System.IO.Compression;

namespace EqlActors.Host.Doctor;

public enum ModuleState { Loaded, BuiltIn, Loadable, Missing }

/// <summary>Where a kernel feature comes from, and the evidence that says so.</summary>
public sealed record ModuleFinding(string Module, ModuleState State, string Evidence);

/// <summary>
/// Finds a kernel module for the running kernel, in the order a start would need it: loaded (<c>/proc/modules</c>),
/// built in (<c>/lib/modules/REL/modules.builtin</c>, the kernel config, or <c>/sys/module/NAME</c> without a
/// <c>/proc/modules</c> line), loadable (<c>modules.dep</c>, then <c>modprobe -n</c>). Anything else is missing.
/// </summary>
public static class KernelModules
{
    /// <summary>The kernel config option behind each module this product needs.</summary>
    public static string ConfigOption(string module) => module switch
    {
        "ppp_generic" => "CONFIG_PPP",
        "ppp_async" => "CONFIG_PPP_ASYNC",
        "eql" => "CONFIG_EQUALIZER",
        "slhc" => "CONFIG_SLHC",
        _ => "CONFIG_" + module.ToUpperInvariant(),
    };

    public static async Task<ModuleFinding> FindAsync(ILocalSystem local, string module, CancellationToken ct)
    {
        var rel = local.KernelRelease;
        var procModules = ReadLines(local.SystemPath("/proc/modules"));
        if (procModules.Any(l => l.StartsWith(module + " ", StringComparison.Ordinal)))
            return new(module, ModuleState.Loaded, "loaded (/proc/modules)");

        var modDir = local.SystemPath($"/lib/modules/{rel}");
        if (ReadLines(Path.Combine(modDir, "modules.builtin")).Any(l => IsModuleFile(l, module)))
            return new(module, ModuleState.BuiltIn, $"built into {rel} (modules.builtin)");

        var option = ConfigOption(module);
        var config = KernelConfig(local, rel, option);
        if (config.value == "y") return new(module, ModuleState.BuiltIn, $"built into {rel} ({option}=y in {config.source})");

        if (Directory.Exists(local.SystemPath($"/sys/module/{module}")))
            return new(module, ModuleState.BuiltIn, $"built into {rel} (/sys/module/{module})");

        if (ReadLines(Path.Combine(modDir, "modules.dep")).Any(l => IsModuleFile(l.Split(':')[0], module)))
            return new(module, ModuleState.Loadable, $"loadable, not loaded (in {modDir}/modules.dep)");

        if (Directory.Exists(modDir))
        {
            var probe = await local.RunAsync(["modprobe", "-n", "-q", module], ct).ConfigureAwait(false);
            if (probe is { ExitCode: 0 }) return new(module, ModuleState.Loadable, "loadable, not loaded (modprobe -n succeeds)");
        }

        var why = new List<string> { "not in /proc/modules", $"no /sys/module/{module}" };
        why.Add(Directory.Exists(modDir) ? $"not in {modDir}/modules.dep" : $"{modDir} does not exist (this kernel has no loadable modules)");
        if (config.source is not null) why.Add(config.value is null ? $"{option} not set in {config.source}" : $"{option}={config.value} in {config.source}");
        return new(module, ModuleState.Missing, string.Join(", ", why));
    }

    // "kernel/drivers/net/ppp/ppp_generic.ko" or ".ko.xz"/".ko.zst"/".ko.gz"; module names treat - and _ alike.
    private static bool IsModuleFile(string path, string module)
    {
        var name = Path.GetFileName(path.Trim());
        var dot = name.IndexOf(".ko", StringComparison.Ordinal);
        return dot > 0 && name[..dot].Replace('-', '_') == module;
    }

    /// <summary>The option's value in <c>/boot/config-REL</c> or <c>/proc/config.gz</c> (null: not set), and which file said so.</summary>
    private static (string? value, string? source) KernelConfig(ILocalSystem local, string rel, string option)
    {
        foreach (var (path, gz) in new[] { ($"/boot/config-{rel}", false), ("/proc/config.gz", true) })
        {
            var real = local.SystemPath(path);
            if (!File.Exists(real)) continue;
            string[] lines;
            try
            {
                if (!gz) lines = File.ReadAllLines(real);
                else
                {
                    using var s = new GZipStream(File.OpenRead(real), CompressionMode.Decompress);
                    lines = new StreamReader(s).ReadToEnd().Split('\n');
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException) { continue; }
            var line = lines.FirstOrDefault(l => l.StartsWith(option + "=", StringComparison.Ordinal));
            return (line?[(option.Length + 1)..].Trim(), path);
        }
        return (null, null);
    }

    private static string[] ReadLines(string path)
    {
        try { return File.Exists(path) ? File.ReadAllLines(path) : []; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }
}
