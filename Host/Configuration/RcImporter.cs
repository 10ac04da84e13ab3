using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EqlActors.Host.Configuration;

/// <summary>A message about one line of the rc file.</summary>
public sealed record RcMessage(int Line, string Message)
{
    public override string ToString() => Line > 0 ? $"line {Line}: {Message}" : Message;
}

/// <summary>
/// The result of <see cref="RcImporter.Import"/>. <see cref="Json"/> is null when the translation does not validate.
/// Exit code: 0 everything was translated; 1 JSON produced but some lines could not be represented (see
/// <see cref="Problems"/>); 2 no JSON: the translated values do not validate (see <see cref="Errors"/>).
/// </summary>
public sealed record RcImport(string? Json, IReadOnlyList<RcMessage> Notes, IReadOnlyList<RcMessage> Problems, IReadOnlyList<RcMessage> Errors)
{
    public int ExitCode => Errors.Count > 0 ? Cli.ExitCodes.Usage : Problems.Count > 0 ? Cli.ExitCodes.Failed : Cli.ExitCodes.Ok;
}

/// <summary>
/// Translates the HOWTO script's configuration variables (LINKS, FastDownload_SlowUpload, REMOTE_ACCOUNT, VIA, MTU, PPPD,
/// PPPD_OPTS, EQL_IP, REMOTE_LANS, REMOTE_SLIRP) into the JSON configuration, without executing the file
/// (<see cref="ShellRc"/>). Only the keys the file sets are written; everything else keeps its default.
/// </summary>
public static class RcImporter
{
    /// <summary>Variables the script uses for itself: assignments to them are noted and ignored.</summary>
    public static readonly string[] ScriptVariables = ["VERSION", "PATH", "MYNAME", "CFG_FILE", "CHECK_STATUS", "ACT"];

    public static readonly string[] ConfigVariables =
        ["LINKS", "FastDownload_SlowUpload", "REMOTE_ACCOUNT", "VIA", "MTU", "PPPD", "PPPD_OPTS", "EQL_IP", "REMOTE_LANS", "REMOTE_SLIRP"];

    public static RcImport Import(string text)
    {
        var rc = ShellRc.Parse(text);
        var notes = rc.Notes.Select(n => new RcMessage(n.Line, n.Message)).ToList();
        var problems = rc.Problems.Select(p => new RcMessage(p.Line, $"not imported: {ShowLine(p.Text)}: {p.Message}")).ToList();
        var root = new JsonObject();
        var origin = new Dictionary<string, (int Line, string Variable)>(StringComparer.OrdinalIgnoreCase);

        void Set(string path, JsonNode? value, ShellRc.Assignment a)
        {
            var parts = path.Split('.');
            var node = root;
            foreach (var section in parts[..^1])
            {
                if (node[section] is not JsonObject child) node[section] = child = new JsonObject();
                node = child;
            }
            node[parts[^1]] = value;
            origin[path] = (a.Line, a.Name);
        }

        // The last assignment of each variable wins, as in the shell; references were resolved at assignment time.
        var last = rc.Assignments.GroupBy(a => a.Name).Select(g => g.Last()).OrderBy(a => a.Line).ToList();
        foreach (var a in last)
        {
            if (ScriptVariables.Contains(a.Name))
            {
                notes.Add(new RcMessage(a.Line, $"{a.Name} is used only by the script itself: ignored"));
                continue;
            }
            if (!ConfigVariables.Contains(a.Name))
            {
                problems.Add(new RcMessage(a.Line, $"not imported: {a.Name} is not one of the HOWTO's configuration variables ({string.Join(", ", ConfigVariables)})"));
                continue;
            }
            if (a.UndefinedReferences.Count > 0)
            {
                problems.Add(new RcMessage(a.Line, $"not imported: {a.Name} refers to {string.Join(", ", a.UndefinedReferences.Select(r => "$" + r))}, not set earlier in this file"));
                continue;
            }
            var words = a.Value.Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
            switch (a.Name)
            {
                case "LINKS":
                    Set("links", Array(words.Select(w => int.TryParse(w, out var n) && n.ToString(System.Globalization.CultureInfo.InvariantCulture) == w ? JsonValue.Create(n) : (JsonNode)JsonValue.Create(w))), a);
                    break;
                case "FastDownload_SlowUpload":
                    Set("singleLink", a.Value.Length > 0, a);
                    break;
                case "REMOTE_ACCOUNT":
                    Set("remote.account", a.Value, a);
                    break;
                case "REMOTE_SLIRP":
                    Set("remote.slirpCommand", a.Value, a);
                    break;
                case "MTU":
                    Set("ppp.mtu", Number(a.Value), a);
                    Set("eql.mtu", Number(a.Value), a);
                    break;
                case "EQL_IP":
                    Set("eql.address", a.Value, a);
                    break;
                case "REMOTE_LANS":
                    Set("routes.remoteLans", Array(words.Select(w => (JsonNode)JsonValue.Create(w))), a);
                    break;
                case "PPPD":
                    if (a.Value == "pppd")
                    {
                        notes.Add(new RcMessage(a.Line, "PPPD=pppd was found on the script's PATH (/sbin:/usr/sbin): imported as /usr/sbin/pppd"));
                        Set("ppp.pppdPath", "/usr/sbin/pppd", a);
                    }
                    else if (a.Value.StartsWith('/')) Set("ppp.pppdPath", a.Value, a);
                    else problems.Add(new RcMessage(a.Line, $"not imported: PPPD={Show(a.Value)}: ppp.pppdPath must be an absolute path"));
                    break;
                case "VIA":
                    var (hops, viaProblem) = ParseVia(words);
                    if (viaProblem is not null) problems.Add(new RcMessage(a.Line, $"not imported: VIA={Show(a.Value)}: {viaProblem}"));
                    else Set("remote.jumpHosts", Array(hops.Select(h => (JsonNode)JsonValue.Create(h))), a);
                    break;
                case "PPPD_OPTS":
                    MapPppdOptions(words, a, Set, notes, problems);
                    break;
            }
        }

        var json = root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var check = ConfigLoader.FromJson(json, "import-rc");
        var errors = check.Errors.Select(e =>
        {
            var path = e.Path.IndexOf('[') is var b and >= 0 ? e.Path[..b] : e.Path;
            return origin.TryGetValue(path, out var o)
                ? new RcMessage(o.Line, $"{o.Variable}: {e with { Source = null }}")
                : new RcMessage(0, (e with { Source = null }).ToString());
        }).ToList();
        return new RcImport(errors.Count == 0 ? json + "\n" : null, notes, problems, errors);
    }

    /// <summary>
    /// VIA is a chain of <c>ssh [-q] [-t|-tt] [-p PORT] [-l USER] [-J HOP,...] user@host</c> commands; each destination
    /// becomes a jump host, in order. Other ssh options cannot be represented.
    /// </summary>
    public static (List<string> Hops, string? Problem) ParseVia(IReadOnlyList<string> words)
    {
        var hops = new List<string>();
        var i = 0;
        while (i < words.Count)
        {
            if (words[i] != "ssh" && !words[i].EndsWith("/ssh", StringComparison.Ordinal))
                return (hops, $"expected 'ssh' at word {i + 1}, found {Show(words[i])}");
            i++;
            string? port = null, user = null;
            while (i < words.Count && words[i].StartsWith('-'))
            {
                var option = words[i++];
                switch (option)
                {
                    case "-q" or "-t" or "-tt" or "-qt" or "-tq": break;
                    case "-p" or "-l" or "-J" when i < words.Count:
                        var value = words[i++];
                        if (option == "-p") port = value;
                        else if (option == "-l") user = value;
                        else hops.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries));
                        break;
                    default: return (hops, $"the ssh option {Show(option)} has no equivalent (eqlactors runs ssh itself)");
                }
            }
            if (i >= words.Count) return (hops, "an ssh command without a destination");
            var destination = words[i++];
            if (!destination.Contains('@'))
            {
                if (user is null) return (hops, $"the destination {Show(destination)} has no user: write user@host");
                destination = $"{user}@{destination}";
            }
            hops.Add(port is null ? destination : $"{destination}:{port}");
        }
        return (hops, null);
    }

    private static void MapPppdOptions(string[] words, ShellRc.Assignment a, Action<string, JsonNode?, ShellRc.Assignment> set,
        List<RcMessage> notes, List<RcMessage> problems)
    {
        var extra = new List<string>();
        var dropped = new List<string>();
        for (var i = 0; i < words.Length; i++)
        {
            var w = words[i];
            var next = i + 1 < words.Length ? words[i + 1] : null;
            if (w == "idle" && next == "0") { dropped.Add("idle 0"); i++; continue; }
            if (w != "idle" && PppdOptions.StandardWords.Contains(w)) { dropped.Add(w); continue; }
            if (w == "updetach")
            {
                notes.Add(new RcMessage(a.Line, "PPPD_OPTS: updetach dropped: eqlactors runs pppd with nodetach, as a child it supervises"));
                continue;
            }
            if (w.Contains(':') && w.Split(':') is [var local, var remote] && (local.Length == 0 || ConfigGrammar.Ipv4Literal(local))
                && (remote.Length == 0 || ConfigGrammar.Ipv4Literal(remote)))
            {
                if (local.Length > 0) set("ppp.localAddress", local, a);
                if (remote.Length > 0) set("ppp.remoteAddress", remote, a);
                continue;
            }
            if (w is "mtu" or "lcp-echo-interval" or "lcp-echo-failure" && next is not null)
            {
                set(w switch { "mtu" => "ppp.mtu", "lcp-echo-interval" => "ppp.lcpEchoInterval", _ => "ppp.lcpEchoFailure" }, Number(next), a);
                i++;
                continue;
            }
            var takesValue = PppdOptions.Allowed.TryGetValue(w, out var spec) && spec.Arg != PppdOptions.Arg.None && next is not null;
            var candidate = takesValue ? new[] { w, next! } : [w];
            var issues = PppdOptions.Check(candidate).ToList();
            if (issues.Count == 0) { extra.AddRange(candidate); i += candidate.Length - 1; continue; }
            problems.Add(new RcMessage(a.Line, $"not imported: PPPD_OPTS {Show(string.Join(" ", candidate))}: {issues[0].Message}"));
            i += candidate.Length - 1;
        }
        if (dropped.Count > 0)
            notes.Add(new RcMessage(a.Line, $"PPPD_OPTS: {string.Join(" ", dropped)}: the HOWTO's standard options, always passed by eqlactors"));
        if (extra.Count > 0) set("ppp.extraOptions", Array(extra.Select(e => (JsonNode)JsonValue.Create(e))), a);
    }

    private static JsonArray Array(IEnumerable<JsonNode> items) => new([.. items]);

    private static JsonNode Number(string text) =>
        int.TryParse(text, out var n) && n.ToString(System.Globalization.CultureInfo.InvariantCulture) == text ? JsonValue.Create(n) : JsonValue.Create(text);

    private static string Show(string text) => ConfigError.Quote(text);

    /// <summary>A source line as a message shows it: an assignment to a secret-looking name has its value masked.</summary>
    private static string ShowLine(string text)
    {
        var m = System.Text.RegularExpressions.Regex.Match(text, @"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=");
        return m.Success && Secrets.LooksSecret(m.Groups[1].Value) ? Show(m.Value + Secrets.Mask) : Show(text);
    }
}
