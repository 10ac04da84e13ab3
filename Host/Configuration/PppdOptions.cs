using System.Collections.Immutable;
using System.Globalization;

namespace EqlActors.Host.Configuration;

/// <summary>
/// The closed allow-list for <c>ppp.extraOptions</c>. Everything not listed is refused, in particular every option that
/// runs a program or reads a file (<c>pty</c>, <c>connect</c>, <c>init</c>, <c>plugin</c>, <c>file</c>, <c>call</c>,
/// <c>ip-up-script</c>...) and every option the service itself owns (<c>unit</c>, <c>linkname</c>, <c>mtu</c>,
/// <c>nodetach</c>, the addresses, LCP echo).
/// </summary>
public static class PppdOptions
{
    public enum Arg { None, Int, Hex }

    /// <summary>The HOWTO's words that every link's pppd gets anyway (with <c>nodetach</c>, <c>unit N</c>, <c>linkname</c>).</summary>
    public static readonly ImmutableArray<string> StandardWords =
        ["local", "passive", "noauth", "nodeflate", "novj", "novjccomp", "nodefaultroute", "idle", "0"];

    /// <summary>Allowed option, its argument kind and, for integers, the inclusive range.</summary>
    public static readonly ImmutableDictionary<string, (Arg Arg, long Min, long Max)> Allowed =
        new Dictionary<string, (Arg, long, long)>
        {
            ["debug"] = (Arg.None, 0, 0),
            ["kdebug"] = (Arg.Int, 0, 7),
            ["noaccomp"] = (Arg.None, 0, 0),
            ["nopcomp"] = (Arg.None, 0, 0),
            ["noccp"] = (Arg.None, 0, 0),
            ["nobsdcomp"] = (Arg.None, 0, 0),
            ["nopredictor1"] = (Arg.None, 0, 0),
            ["noipdefault"] = (Arg.None, 0, 0),
            ["nomagic"] = (Arg.None, 0, 0),
            ["noendpoint"] = (Arg.None, 0, 0),
            ["noproxyarp"] = (Arg.None, 0, 0),
            ["default-asyncmap"] = (Arg.None, 0, 0),
            ["receive-all"] = (Arg.None, 0, 0),
            ["lcp-echo-adaptive"] = (Arg.None, 0, 0),
            ["asyncmap"] = (Arg.Hex, 0, uint.MaxValue),
            ["mru"] = (Arg.Int, 68, 1500),
            ["vj-max-slots"] = (Arg.Int, 2, 16),
            ["lcp-max-configure"] = (Arg.Int, 1, 100),
            ["lcp-max-failure"] = (Arg.Int, 1, 100),
            ["lcp-max-terminate"] = (Arg.Int, 1, 100),
            ["lcp-restart"] = (Arg.Int, 1, 60),
            ["ipcp-max-configure"] = (Arg.Int, 1, 100),
            ["ipcp-max-failure"] = (Arg.Int, 1, 100),
            ["ipcp-max-terminate"] = (Arg.Int, 1, 100),
            ["ipcp-restart"] = (Arg.Int, 1, 60),
        }.ToImmutableDictionary();

    /// <summary>Options refused with a pointer to the setting that owns them.</summary>
    public static readonly ImmutableDictionary<string, string> OwnedElsewhere = new Dictionary<string, string>
    {
        ["mtu"] = "set ppp.mtu (and eql.mtu) instead",
        ["lcp-echo-interval"] = "set ppp.lcpEchoInterval instead",
        ["lcp-echo-failure"] = "set ppp.lcpEchoFailure instead",
        ["unit"] = "eqlactors passes unit N for each link",
        ["linkname"] = "set ppp.linkNamePrefix instead",
        ["nodetach"] = "eqlactors always passes nodetach (it supervises pppd as a child)",
        ["updetach"] = "pppd must stay a child of eqlactors (nodetach)",
        ["detach"] = "pppd must stay a child of eqlactors (nodetach)",
        ["persist"] = "eqlactors restarts failed links itself (see supervision.*)",
        ["demand"] = "eqlactors brings links up itself",
        ["maxfail"] = "eqlactors restarts failed links itself (see supervision.*)",
        ["holdoff"] = "eqlactors restarts failed links itself (see supervision.*)",
        ["defaultroute"] = "routes are set by eqlactors (routes.*), not by each link",
        ["replacedefaultroute"] = "routes are set by eqlactors (routes.*), not by each link",
        ["ipparam"] = "not needed: no ip-up scripts are used",
    }.ToImmutableDictionary();

    /// <summary>Options that run programs or read files: the reason they can never be allowed.</summary>
    public static readonly ImmutableHashSet<string> Dangerous =
    [
        "pty", "connect", "disconnect", "init", "welcome", "plugin", "file", "call", "ip-up-script", "ip-down-script",
        "ipv6-up-script", "ipv6-down-script", "auth-up-script", "auth-down-script", "ip-pre-up-script", "socket",
        "notty", "record", "logfile", "pidfile", "remotename", "user", "password", "privgroup", "path", "ktune", "setenv",
    ];

    private static char[] Forbidden(string word) =>
        [.. word.Where(c => !(ConfigGrammar.IsLower(c) || ConfigGrammar.IsDigit(c) || c is '-' or '+' or '.' or ':')).Distinct()];

    /// <summary>Checks a word list; every problem is reported with the index of the offending word.</summary>
    public static IEnumerable<(int Index, string Word, string Message)> Check(IReadOnlyList<string> words)
    {
        for (var i = 0; i < words.Count; i++)
        {
            var word = words[i];
            if (word.Length == 0) { yield return (i, word, "an empty pppd option"); continue; }
            var bad = word.IndexOfAny(Forbidden(word));
            if (bad >= 0)
            {
                yield return (i, word, $"contains {ConfigGrammar.Describe(word[bad])}: each element is one pppd word (a lowercase option name or a number)");
                continue;
            }
            if (Dangerous.Contains(word)) { yield return (i, word, $"'{word}' runs a program or reads a file and is never allowed"); continue; }
            if (OwnedElsewhere.TryGetValue(word, out var why)) { yield return (i, word, $"'{word}' is not allowed here: {why}"); continue; }
            if (StandardWords.Contains(word) && word != "0") { yield return (i, word, $"'{word}' is always passed by eqlactors (the HOWTO's standard options); remove it"); continue; }
            if (!Allowed.TryGetValue(word, out var spec))
            {
                yield return (i, word, word.Contains(':') || char.IsDigit(word[0])
                    ? "a value without an option (addresses are ppp.localAddress/ppp.remoteAddress)"
                    : $"'{word}' is not on the allow-list of pppd options (see docs/configuration.md)");
                continue;
            }
            if (spec.Arg == Arg.None) continue;
            if (i + 1 >= words.Count) { yield return (i, word, $"'{word}' needs a value"); continue; }
            var value = words[++i];
            if (spec.Arg == Arg.Hex)
            {
                var hex = value.StartsWith("0x", StringComparison.Ordinal) ? value[2..] : value;
                if (hex.Length is < 1 or > 8 || !hex.All(ConfigGrammar.IsHex))
                    yield return (i, value, $"'{word}' needs a hexadecimal value of at most 8 digits");
                continue;
            }
            if (!(value.Length is > 0 and <= 9 && value.All(ConfigGrammar.IsDigit))
                || long.Parse(value, CultureInfo.InvariantCulture) is var n && (n < spec.Min || n > spec.Max))
                yield return (i, value, $"'{word}' needs an integer {spec.Min}-{spec.Max}");
        }
    }
}
