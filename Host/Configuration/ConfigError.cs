using EqlActors.Configuration;

namespace EqlActors.Host.Configuration;

/// <summary>
/// One configuration problem: the key path (as in <c>--set</c>, e.g. <c>remote.account</c>), the offending value as
/// given (null when the value is missing or not a single value) and what is wrong with it.
/// </summary>
public sealed record ConfigError(string Path, string? Value, string Message)
{
    /// <summary>Where the value came from (a file, <c>environment</c>, <c>--set</c>), when known.</summary>
    public string? Source { get; init; }

    /// <summary>Longest part of a value quoted in a message; the rest is counted, not printed.</summary>
    public const int MaxQuoted = 80;

    /// <summary>
    /// One line, control characters escaped, long values cut: <c>remote.account = "a;b@h": ... (from --set)</c>.
    /// The value of a key that looks like a secret (<see cref="Secrets.LooksSecret"/>, misspellings included) is masked.
    /// </summary>
    public override string ToString()
    {
        var value = Value is null ? "" : $" = {Shown(Path, Value)}";
        var source = Source is null ? "" : $" (from {Source})";
        return $"{Path}{value}: {Message}{source}";
    }

    /// <summary>The value as a message may show it: masked for a secret-looking key, else quoted and cut.</summary>
    public static string Shown(string path, string value)
    {
        if (path == "--set") return Quote(Secrets.MaskAssignment(value));
        return Secrets.LooksSecret(path) ? Secrets.Mask : Quote(value);
    }

    /// <summary>
    /// Quotes a value for a one-line message: newlines, NUL, escapes and other control characters are made visible,
    /// and a value longer than <paramref name="max"/> characters is cut (a 50 MB value is not echoed whole).
    /// </summary>
    public static string Quote(string value, int max = MaxQuoted)
    {
        var sb = new System.Text.StringBuilder(Math.Min(value.Length, max) + 2).Append('"');
        foreach (var c in value.Length > max ? value[..max] : value)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\0' => "\\0",
                _ when char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }
        sb.Append('"');
        if (value.Length > max) sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"... ({value.Length} characters)");
        return sb.ToString();
    }
}

/// <summary>The outcome of <see cref="ConfigLoader.Load"/>: a validated configuration, or every error found.</summary>
public sealed record ConfigResult
{
    /// <summary>The validated configuration; null when <see cref="Errors"/> is not empty.</summary>
    public BundleConfig? Config { get; init; }

    public IReadOnlyList<ConfigError> Errors { get; init; } = [];

    /// <summary>The JSON file read, if any (explicit <c>--config</c> or the default path when present).</summary>
    public string? SourceFile { get; init; }

    /// <summary>Every source that contributed a value, in order: the file, <c>environment</c>, <c>--set</c>.</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];

    /// <summary>Legal but probably unintended settings (e.g. an EQL priority too small to ever decay).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    public bool IsValid => Config is not null && Errors.Count == 0;

    /// <summary>"built-in defaults", or the sources joined: <c>/etc/eqlactors/eqlactors.json, environment, --set</c>.</summary>
    public string DescribeSources() => Sources.Count == 0 ? "built-in defaults" : string.Join(", ", Sources);
}
