using System.Collections;
using System.Collections.Immutable;
using EqlActors.Configuration;
using Microsoft.Extensions.Configuration;

namespace EqlActors.Host.Configuration;

/// <summary>
/// Loads the effective configuration. Sources, later ones winning: the defaults of <see cref="BundleConfig"/>, one JSON
/// file, environment variables <c>EQLACTORS__SECTION__KEY</c>, then <c>--set key.path=value</c>. The sources are merged by
/// Microsoft.Extensions.Configuration; the merged tree is then walked key by key (no binder: it appends to default lists
/// and throws on the first bad value), every value converted with a precise error, every unknown key reported, and the
/// result validated by <see cref="ConfigValidator"/>.
/// </summary>
public static class ConfigLoader
{
    public const string DefaultPath = "/etc/eqlactors/eqlactors.json";
    public const string EnvironmentPrefix = "EQLACTORS__";

    /// <summary>Variables of ours that are not configuration keys (no hint about a missing underscore for them).</summary>
    public static readonly string[] OwnVariables = ["EQLACTORS_LOG_STYLE", StartOverrides.Variable];

    /// <summary>
    /// Loads and validates. <paramref name="file"/> is <c>--config</c> (a missing explicit file is an error); without it
    /// <paramref name="defaultPath"/> is read when it exists. <paramref name="sets"/> are <c>--set</c> values
    /// (<c>key.path=value</c>), <paramref name="environment"/> usually <see cref="Environment.GetEnvironmentVariables()"/>.
    /// </summary>
    public static ConfigResult Load(FileInfo? file, IReadOnlyList<string> sets, IDictionary environment, string? defaultPath = DefaultPath)
    {
        var errors = new List<ConfigError>();
        var path = file?.FullName ?? (defaultPath is not null && File.Exists(defaultPath) ? defaultPath : null);
        byte[]? json = null;
        if (file is not null && !file.Exists)
            errors.Add(new ConfigError("--config", file.FullName, Directory.Exists(file.FullName) ? "is a directory, not a file" : "no such file"));
        else if (path is not null)
        {
            // A regular file of at most 1 MiB: /dev/zero, a FIFO or a 50 MB file is refused before it is read.
            try { json = Host.Linux.BoundedFile.ReadAllBytes(path); }
            catch (Host.Linux.BoundedFileException ex) { errors.Add(new ConfigError("--config", path, ex.Message)); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                errors.Add(new ConfigError("--config", path, "cannot be read: " + ex.Message));
            }
        }
        return Build(json is null ? null : path, json, sets, environment, errors);
    }

    /// <summary>Loads JSON text alone over the defaults (no environment, no default file): what <c>import-rc</c> checks its output with.</summary>
    public static ConfigResult FromJson(string json, string name = "json") =>
        Build(name, System.Text.Encoding.UTF8.GetBytes(json), [], new Hashtable(), []);

    /// <summary>
    /// Loads a configuration like a daemon's (a file with the usual keys, nothing from the environment or
    /// <c>--set</c>), to compile the loader's code on a second thread before <c>run</c> needs it
    /// (<see cref="Hosting.StartWarmUp"/>). Only what a daemon's load runs: every other path (the environment's and
    /// <c>--set</c>'s parsing, the priority map) would be work the daemon does not need, on a CPU it shares with that
    /// load (measured: 100 more methods compiled). Reads no file and no environment variable.
    /// </summary>
    internal static ConfigResult WarmUp() => Build("warm-up", WarmUpJson, [], new Hashtable(), []);

    private static readonly byte[] WarmUpJson = """
        {
          "links": [0, 1, 2],
          "remote": { "account": "user@host:22", "jumpHosts": ["user@jump"], "slirpCommand": "bin/slirp", "attach": "unix",
                      "identityFile": "/nonexistent/id", "knownHostsFile": "/nonexistent/known_hosts", "connectTimeoutSeconds": 60 },
          "ppp": { "pppdPath": "/usr/sbin/pppd", "mtu": 1500 },
          "eql": { "address": "10.0.0.1", "netmask": "255.255.255.0", "mtu": 1500 },
          "routes": { "remoteLans": ["10.0.1.0/24"] },
          "supervision": { "linkUpTimeoutSeconds": 120 }
        }
        """u8.ToArray();

    private static ConfigResult Build(string? jsonName, byte[]? json, IReadOnlyList<string> sets, IDictionary environment, List<ConfigError> errors)
    {
        var builder = new ConfigurationBuilder();
        var sources = new List<Source>();
        string? sourceFile = null;
        if (jsonName is not null && json is not null)
        {
            // Parsed on its own first, so that a broken file is one error and the other sources still load. The stream
            // provider is then added directly (not chained: a chained provider hides empty and null values).
            try
            {
                new ConfigurationBuilder().AddJsonStream(new MemoryStream(json)).Build();
                builder.AddJsonStream(new MemoryStream(json));
                sources.Add(new Source(jsonName, null));
                sourceFile = jsonName;
            }
            catch (Exception ex) when (ex is FormatException or InvalidDataException or System.Text.Json.JsonException)
            {
                errors.Add(new ConfigError("--config", jsonName, "is not a valid JSON configuration: " + Innermost(ex)));
            }
        }

        var warnings = new List<string>();
        var env = EnvironmentValues(environment, errors, warnings);
        if (env.Count > 0)
        {
            builder.AddInMemoryCollection(env.ToDictionary(kv => kv.Key, kv => (string?)kv.Value.Value, StringComparer.OrdinalIgnoreCase));
            sources.Add(new Source("environment", env.ToDictionary(kv => kv.Key, kv => kv.Value.Name, StringComparer.OrdinalIgnoreCase)));
        }

        var setValues = SetValues(sets, errors);
        if (setValues.Count > 0)
        {
            builder.AddInMemoryCollection(setValues);
            sources.Add(new Source("--set", null));
        }

        var reader = new Reader(builder.Build(), sources, errors);
        var config = reader.Read();
        reader.ReportUnknownKeys();

        // Validate even after conversion errors, so that every problem is reported at once; a key that failed to
        // convert kept its default, so the validator's opinion of that key is skipped.
        var failed = errors.Select(e => e.Path).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var loadErrors = errors.Count;
        foreach (var error in ConfigValidator.Validate(config))
            if (loadErrors == 0 || !failed.Any(f => f.StartsWith(Root(error.Path), StringComparison.OrdinalIgnoreCase)
                                       || error.Message.Contains(Root(f), StringComparison.OrdinalIgnoreCase)))
                errors.Add(error with { Source = reader.SourceOf(error.Path) });

        return new ConfigResult
        {
            Config = errors.Count == 0 ? config : null,
            Errors = errors,
            SourceFile = sourceFile,
            Sources = [.. sources.Select(s => s.Name)],
            Warnings = [.. warnings, .. errors.Count == 0 ? ConfigValidator.Warnings(config) : []],
        };
    }

    private static Dictionary<string, (string Name, string Value)> EnvironmentValues(IDictionary environment, List<ConfigError> errors, List<string> warnings)
    {
        var values = new Dictionary<string, (string Name, string Value)>(StringComparer.OrdinalIgnoreCase);
        // Ours only, by name (ordinal), so that the messages come in a stable order. A loop and a List<string>, not
        // LINQ: LINQ over DictionaryEntry (a value type) is code that the ReadyToRun image lacks, compiled at every
        // daemon start (docs/benchmarks.md, section 32).
        var names = new List<string>();
        foreach (DictionaryEntry entry in environment)
            if (entry.Key is string key && key.StartsWith("EQLACTORS_", StringComparison.OrdinalIgnoreCase)) names.Add(key);
        names.Sort(StringComparer.Ordinal);
        foreach (var name in names)
        {
            // EQLACTORS_PPP_MTU: one underscore where two are meant; ignored, but not without a word.
            if (!name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase)
                && !OwnVariables.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                var meant = EnvironmentPrefix + string.Join("__", name["EQLACTORS_".Length..].Split('_', StringSplitOptions.RemoveEmptyEntries));
                warnings.Add($"environment variable {name} is ignored: configuration variables separate their parts with two underscores (did you mean {meant}?)");
                continue;
            }
            if (!name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase)) continue;
            var rest = name[EnvironmentPrefix.Length..];
            var value = environment[name] as string ?? "";
            if (rest.Length == 0 || !rest.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || rest.Split("__").Any(s => s.Length == 0))
            {
                errors.Add(new ConfigError(name, value, "not a configuration variable: expected EQLACTORS__SECTION__KEY (letters, digits, '__' between parts)") { Source = "environment" });
                continue;
            }
            var key = rest.Replace("__", ":");
            if (values.TryGetValue(key, out var other))
                errors.Add(new ConfigError(name, value, $"sets the same key as {other.Name}") { Source = "environment" });
            else values[key] = (name, value);
        }
        return values;
    }

    private static Dictionary<string, string?> SetValues(IReadOnlyList<string> sets, List<ConfigError> errors)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var set in sets)
        {
            var eq = set.IndexOf('=');
            var key = eq < 0 ? set : set[..eq];
            if (eq < 0 || key.Length == 0 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_') || key.Split('.').Any(s => s.Length == 0))
            {
                errors.Add(new ConfigError("--set", set, "expected key.path=value, e.g. --set ppp.mtu=1500"));
                continue;
            }
            values[key.Replace('.', ':')] = set[(eq + 1)..]; // a repeated --set: the last one wins
        }
        return values;
    }

    private static string Root(string path) => path.IndexOf('[') is var b and >= 0 ? path[..b] : path;

    private static string Innermost(Exception ex)
    {
        var messages = new List<string>();
        for (var e = ex; e is not null; e = e.InnerException) messages.Add(e.Message);
        return messages[^1];
    }

    internal sealed record Source(string Name, Dictionary<string, string>? VariableNames);

    /// <summary>Walks the merged tree: one call per key, each returning the configured value or the current default.</summary>
    private sealed class Reader(IConfigurationRoot root, List<Source> sources, List<ConfigError> errors) : IKeyReader
    {
        private readonly IConfigurationProvider[] providers = [.. root.Providers];
        private readonly HashSet<string> scalars = new(StringComparer.OrdinalIgnoreCase);
        private readonly HashSet<string> collections = new(StringComparer.OrdinalIgnoreCase);
        private readonly HashSet<string> sections = new(StringComparer.OrdinalIgnoreCase);

        /// <summary>Every key of <see cref="ConfigKeys.All"/>, each returning the configured value or the current default.</summary>
        public BundleConfig Read()
        {
            foreach (var section in ConfigKeys.Sections) Section(section);
            var config = new BundleConfig();
            foreach (var key in ConfigKeys.All) config = key.Read(this, config);
            return config;
        }

        private void Section(string path) => sections.Add(path);

        private static string Key(string dotted) => dotted.Replace('.', ':');

        public T Scalar<T>(string path, T current, Func<string, (T Value, string? Error)> parse)
        {
            scalars.Add(path);
            var section = root.GetSection(Key(path));
            if (section.GetChildren().Any())
            {
                Error(path, null, "expects a single value, not a list or an object");
                return current;
            }
            if (section.Value is not { } text)
            {
                if (Exists(Key(path))) Error(path, null, "expects a value, not null or {}");
                return current;
            }
            if (text.Length == 0) { Error(path, text, "is empty"); return current; }
            var (value, error) = parse(text);
            if (error is null) return value;
            Error(path, text, error);
            return current;
        }

        /// <summary>A value that may be absent: an empty string (or JSON null) means "none".</summary>
        public string? Nullable(string path, string? current)
        {
            var raw = root.GetSection(Key(path));
            if (raw.Value is null or "" && Exists(Key(path)) && !raw.GetChildren().Any()) { scalars.Add(path); return null; }
            return Scalar<string?>(path, current, s => (s, null));
        }

        public int? NullableInt(string path, int? current)
        {
            var raw = root.GetSection(Key(path));
            if (raw.Value is null or "" or "null" && Exists(Key(path)) && !raw.GetChildren().Any()) { scalars.Add(path); return null; }
            return Scalar<int?>(path, current, s => { var (v, e) = ConfigParse.Int(s); return (v, e); });
        }

        /// <summary>
        /// A list is taken whole from the last source that sets it or any element of it (never merged element by element,
        /// never appended to the default). It is either elements (JSON array, <c>KEY__0</c>, <c>key.0</c>) or one string
        /// split at spaces and commas; an empty string or <c>[]</c> is the empty list.
        /// </summary>
        public ImmutableArray<T> List<T>(string path, ImmutableArray<T> current, Func<string, (T Value, string? Error)> parse)
        {
            collections.Add(path);
            if (Winner(Key(path)) is not { } provider) return current;
            var children = provider.GetChildKeys([], Key(path)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            IReadOnlyList<string> items;
            if (children.Count == 0)
            {
                provider.TryGet(Key(path), out var text);
                items = ConfigParse.SplitList(text ?? "");
            }
            else
            {
                var indexes = new List<(int Index, string Value)>();
                foreach (var child in children)
                {
                    var childKey = $"{Key(path)}:{child}";
                    if (!int.TryParse(child, out var index) || index < 0 || child != index.ToString(System.Globalization.CultureInfo.InvariantCulture))
                        Error($"{path}.{child}", null, $"{path} is a list: its elements are numbered 0, 1, 2...");
                    else if (provider.GetChildKeys([], childKey).Any() || !provider.TryGet(childKey, out var v) || v is null)
                        Error($"{path}[{index}]", null, "a list element must be a single value");
                    else indexes.Add((index, v));
                }
                indexes.Sort((a, b) => a.Index.CompareTo(b.Index));
                for (var i = 0; i < indexes.Count; i++)
                    if (indexes[i].Index != i) { Error($"{path}[{indexes[i].Index}]", indexes[i].Value, $"elements of {path} must be numbered 0, 1, 2... without gaps"); return current; }
                items = [.. indexes.Select(x => x.Value)];
            }
            var result = ImmutableArray.CreateBuilder<T>();
            var ok = true;
            for (var i = 0; i < items.Count; i++)
            {
                if (items[i].Length == 0) { Error($"{path}[{i}]", items[i], "is empty"); ok = false; continue; }
                var (value, error) = parse(items[i]);
                if (error is null) result.Add(value);
                else { Error($"{path}[{i}]", items[i], error); ok = false; }
            }
            return ok ? result.ToImmutable() : current;
        }

        /// <summary><c>eql.linkPriorities</c>: link number to priority, taken whole from the last source that sets any of it.</summary>
        public ImmutableDictionary<int, long> Map(string path, ImmutableDictionary<int, long> current)
        {
            collections.Add(path);
            if (Winner(Key(path)) is not { } provider) return current;
            var children = provider.GetChildKeys([], Key(path)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            if (children.Count == 0)
            {
                provider.TryGet(Key(path), out var text);
                if (string.IsNullOrEmpty(text)) return ImmutableDictionary<int, long>.Empty;
                Error(path, text, $"expects an object of link numbers, e.g. {{\"1\": 28800}}; with --set: {path}.1=28800");
                return current;
            }
            var result = ImmutableDictionary.CreateBuilder<int, long>();
            foreach (var child in children)
            {
                var childKey = $"{Key(path)}:{child}";
                provider.TryGet(childKey, out var v);
                var (link, linkError) = ConfigParse.Int(child);
                if (linkError is not null) { Error($"{path}.{child}", v, "the key must be a link number 0-3"); continue; }
                if (provider.GetChildKeys([], childKey).Any() || string.IsNullOrEmpty(v)) { Error($"{path}.{child}", v, "expects a priority (an integer)"); continue; }
                var (priority, error) = ConfigParse.Long(v);
                if (error is not null) Error($"{path}.{child}", v, error);
                else result[link] = priority;
            }
            return result.ToImmutable();
        }

        private bool Exists(string key) => providers.Any(p => p.TryGet(key, out _) || p.GetChildKeys([], key).Any());

        /// <summary>The last provider that sets the key itself or anything below it.</summary>
        private IConfigurationProvider? Winner(string key) =>
            providers.LastOrDefault(p => p.TryGet(key, out _) || p.GetChildKeys([], key).Any());

        /// <summary>Names the source of the value at an error path (<c>remote.jumpHosts[1]</c> is looked up as remote.jumpHosts).</summary>
        public string? SourceOf(string path)
        {
            var bracket = path.IndexOf('[');
            var key = Key(bracket < 0 ? path : path[..bracket]);
            for (var i = providers.Length - 1; i >= 0; i--)
            {
                if (!(providers[i].TryGet(key, out _) || providers[i].GetChildKeys([], key).Any())) continue;
                var source = sources[i];
                if (source.VariableNames is { } names)
                    return names.TryGetValue(key, out var name) ? $"environment variable {name}"
                        : names.Where(n => n.Key.StartsWith(key + ":", StringComparison.OrdinalIgnoreCase)).Select(n => $"environment variable {n.Value}").FirstOrDefault() ?? "environment";
                return source.Name;
            }
            return null;
        }

        private void Error(string path, string? value, string message) =>
            errors.Add(new ConfigError(path, value, message) { Source = SourceOf(path) });

        /// <summary>Every key of the merged tree that no reader asked for is an error: a typo must not be silently ignored.</summary>
        public void ReportUnknownKeys() => Walk(root.GetChildren(), "");

        private void Walk(IEnumerable<IConfigurationSection> children, string prefix)
        {
            foreach (var child in children)
            {
                var path = prefix + child.Key;
                if (scalars.Contains(path) || collections.Contains(path)) continue;
                if (sections.Contains(path))
                {
                    if (!string.IsNullOrEmpty(child.Value))
                        Error(path, child.Value, $"{path} is a section of settings (e.g. {path}.{KnownKeys.First(k => k.StartsWith(path + ".", StringComparison.OrdinalIgnoreCase))[(path.Length + 1)..]}), not a value");
                    Walk(child.GetChildren(), path + ".");
                    continue;
                }
                var suggestion = Suggest(path);
                // "remot": {"account": ...}: the keys below a misspelt section are compared whole (remot.account).
                if (suggestion is null && child.GetChildren().Any()) { Walk(child.GetChildren(), path + "."); continue; }
                Error(path, child.Value, "unknown key" + (suggestion is null ? "" : $"; did you mean {suggestion}?"));
            }
        }

        private IEnumerable<string> KnownKeys => scalars.Concat(collections).Order(StringComparer.Ordinal);

        private string? Suggest(string path)
        {
            var best = KnownKeys.Select(k => (Key: k, Distance: EditDistance.Between(k.ToLowerInvariant(), path.ToLowerInvariant())))
                .OrderBy(x => x.Distance).First();
            if (best.Distance <= Math.Max(2, path.Length / 5)) return best.Key;
            var leaf = path[(path.LastIndexOf('.') + 1)..];
            var sameLeaf = KnownKeys.Where(k => k.EndsWith("." + leaf, StringComparison.OrdinalIgnoreCase) || k.Equals(leaf, StringComparison.OrdinalIgnoreCase)).ToList();
            return sameLeaf.Count > 0 ? string.Join(" or ", sameLeaf) : null;
        }

    }
}
