using System.Collections.Immutable;
using System.Reflection;
using System.Text.RegularExpressions;

namespace EqlActors.Host.Provision;

/// <summary>One patch of <c>Host/Provision/slirp-patches</c> (embedded): its file name, <c>Feature:</c> word and text.</summary>
public sealed record SlirpPatch(string Name, string Feature, string Text);

/// <summary>
/// A feature of the patched slirp: its word in the binary's <c>eqlactors-slirp-features:</c> marker and what a build
/// without it misses. One table: the doctor, provision and the tests read it.
/// </summary>
public sealed record SlirpFeature(string Word, string Gives, string StockMisses);

/// <summary>
/// The patches <c>eqlactors provision --build-slirp</c> applies to Debian's slirp 1.0.17 source (tests/system's
/// <c>build-guest</c> applies the same files), and the features a patched build names in its binary.
/// </summary>
public static partial class SlirpPatches
{
    /// <summary>The literal a patched binary carries, followed by its comma-separated feature words.</summary>
    public const string MarkerPrefix = "eqlactors-slirp-features: ";

    /// <summary>The <c>Feature:</c> word of a patch that adds no feature (the marker itself).</summary>
    public const string NoFeature = "none";

    public static readonly ImmutableArray<SlirpFeature> Features =
    [
        new("link-down-fix", "link_down() closes its own unit",
            "a link going down closes unit 0's IPCP too, so link 0 drops with it"),
        new("fair-download", "downloads spread over every unit that is up, whole frames in turn, no process-wide sleeps",
            "every download rides the first writable link (three links download as fast as one), and one slow link's u_sleep() stalls all"),
        new("big-buffers", "64 KiB per-connection buffers",
            "8 KiB per-connection buffers: one TCP flow cannot fill more than about one link"),
        new("attach-takeover", "no 10 s attach lockout; an attach takes over a unit whose holder is gone",
            "a restarted link whose old ssh chain is not gone yet gets \"Unit already attached\" and then a 10 s lockout of every attach"),
        new("kill-handler-fix", "the detach request frees no unit it then reads",
            "a unit's detach request reads freed memory (use after free) and may crash the slirp that serves every link"),
        new("loopback-attach", "the TCP attach socket listens on 127.0.0.1 only",
            "the TCP attach socket (remote.attach tcp) listens on every interface of host_B"),
    ];

    public static ImmutableArray<SlirpPatch> All { get; } = Load();

    /// <summary>The features the applied patches add, in patch order, each once (the marker's list).</summary>
    public static string FeatureList(IEnumerable<SlirpPatch> applied) =>
        string.Join(",", applied.Select(p => p.Feature).Where(f => f != NoFeature).Distinct());

    /// <summary>
    /// The feature words in the first <c>eqlactors-slirp-features: ...</c> of <paramref name="text"/> (what
    /// <c>grep -ao</c> finds in a binary); null when there is no marker (a stock build).
    /// </summary>
    public static ImmutableArray<string>? ParseMarker(string text)
    {
        var m = MarkerGrammar().Match(text);
        if (!m.Success) return null;
        return [.. m.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries)];
    }

    private static ImmutableArray<SlirpPatch> Load()
    {
        var asm = typeof(SlirpPatches).Assembly;
        const string prefix = "slirp-patches/";
        return [.. asm.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            .Select(n => Read(asm, n, n[prefix.Length..]))];
    }

    private static SlirpPatch Read(Assembly asm, string resource, string name)
    {
        using var s = asm.GetManifestResourceStream(resource) ?? throw new InvalidOperationException($"embedded {resource} missing");
        using var r = new StreamReader(s);
        var text = r.ReadToEnd();
        var feature = FeatureGrammar().Match(text);
        if (!feature.Success) throw new InvalidOperationException($"slirp patch {name} has no 'Feature:' header line");
        return new SlirpPatch(name, feature.Groups[1].Value, text);
    }

    [GeneratedRegex(@"^Feature: *([a-z-]+) *$", RegexOptions.Multiline)]
    private static partial Regex FeatureGrammar();

    [GeneratedRegex(@"eqlactors-slirp-features: ([a-z,-]*)")]
    private static partial Regex MarkerGrammar();
}
