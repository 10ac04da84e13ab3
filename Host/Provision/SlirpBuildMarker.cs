using System.Globalization;
using System.Text;

namespace EqlActors.Host.Provision;

/// <summary>What the <c>link_down()</c> step found in <c>ppp/auth.c</c>.</summary>
public enum LinkDownFix
{
    /// <summary><c>ipcp_close(0)</c>/<c>ccp_close(0)</c> replaced by <c>unit</c>.</summary>
    Applied,
    /// <summary>The source already closed <c>unit</c>.</summary>
    AlreadyFixed,
    /// <summary>Neither form was found: the source was left as it was, and nobody knows.</summary>
    NotFound,
}

/// <summary>
/// <c>SLIRP.eqlactors-build</c>, written next to the binary by <c>eqlactors provision --build-slirp</c>. A compiled
/// slirp cannot tell whether its <c>link_down()</c> closes unit 0 or its own unit (the difference is two
/// constants; neither <c>strings</c> nor a probe sees it without taking links down), so the doctor trusts this
/// record, and only while the binary's <c>cksum</c> still matches the one recorded.
/// </summary>
public sealed record SlirpBuildMarker(
    DateTimeOffset Built, string Source, int MaxInterfaces, int MaxPppInterfaces, bool FullBolt, LinkDownFix LinkDown, string BinaryCksum,
    string Features = "")
{
    public const string Suffix = ".eqlactors-build";
    public const string Header = "eqlactors-slirp-build 1";

    public string Render()
    {
        var sb = new StringBuilder(Header).Append('\n');
        sb.Append("built=").Append(Built.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("source=").Append(Source).Append('\n');
        sb.Append("max_interfaces=").Append(MaxInterfaces.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("max_ppp_interfaces=").Append(MaxPppInterfaces.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("full_bolt=").Append(FullBolt ? "yes" : "no").Append('\n');
        sb.Append("link_down_fix=").Append(Name(LinkDown)).Append('\n');
        sb.Append("features=").Append(Features).Append('\n');
        sb.Append("binary_cksum=").Append(BinaryCksum).Append('\n');
        return sb.ToString();
    }

    public static string Name(LinkDownFix fix) => fix switch
    {
        LinkDownFix.Applied => "applied",
        LinkDownFix.AlreadyFixed => "already-fixed",
        _ => "not-found",
    };

    /// <summary>Reads a marker; null when the text is not one (a stranger's file of the same name).</summary>
    public static SlirpBuildMarker? Parse(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0 || lines[0] != Header) return null;
        var kv = lines.Skip(1).Select(l => l.Split('=', 2)).Where(p => p.Length == 2).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1]);
        string Get(string k) => kv.TryGetValue(k, out var v) ? v : "";
        int Int(string k) => int.TryParse(Get(k), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        var fix = Get("link_down_fix") switch { "applied" => LinkDownFix.Applied, "already-fixed" => LinkDownFix.AlreadyFixed, _ => LinkDownFix.NotFound };
        DateTimeOffset.TryParse(Get("built"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var built);
        return new SlirpBuildMarker(built, Get("source"), Int("max_interfaces"), Int("max_ppp_interfaces"), Get("full_bolt") == "yes", fix, Get("binary_cksum"), Get("features"));
    }
}
