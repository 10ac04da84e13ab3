namespace EqlActors.Host.Configuration;

/// <summary>
/// Which configuration keys (or variable names) hold secrets, including misspelt ones: a typo in a key name must not
/// put the value it carries into an error message, a terminal or the journal.
/// </summary>
public static class Secrets
{
    public const string Mask = "***";

    // Word stems that mark a secret; a name within a small edit distance of one of them counts too (tcpPasword, scret).
    private static readonly string[] Stems = ["password", "passwd", "passphrase", "secret", "token", "credential", "apikey", "privatekey"];
    private static readonly string[] Fragments = ["pass", "pasw", "pssw", "pwd", "secret", "token", "cred"];

    /// <summary>True when the last part of <paramref name="name"/> (a key path, <c>--set</c> key or variable name) looks like a secret.</summary>
    public static bool LooksSecret(string? name)
    {
        if (string.IsNullOrEmpty(name)) return false;
        var cut = name.IndexOf('[');
        if (cut >= 0) name = name[..cut];
        var leaf = name[(name.LastIndexOfAny(['.', ':']) + 1)..];
        // An environment variable: EQLACTORS__REMOTE__TCPPASSWORD, its last part.
        var env = leaf.LastIndexOf("__", StringComparison.Ordinal);
        if (env >= 0) leaf = leaf[(env + 2)..];
        var letters = new string([.. leaf.Where(char.IsAsciiLetter).Select(char.ToLowerInvariant).Take(64)]);
        if (letters.Length == 0) return false;
        if (letters == "key" || letters.EndsWith("key", StringComparison.Ordinal) || letters == "pw" || letters.EndsWith("pw", StringComparison.Ordinal)) return true;
        if (Fragments.Any(f => letters.Contains(f, StringComparison.Ordinal))) return true;
        foreach (var stem in Stems)
        {
            var allowed = stem.Length >= 7 ? 2 : 1;
            for (var length = stem.Length - allowed; length <= stem.Length + allowed; length++)
                for (var start = 0; start + length <= letters.Length; start++)
                    if (length > 0 && Distance(letters.AsSpan(start, length), stem) <= allowed) return true;
        }
        return false;
    }

    /// <summary>A <c>--set key=value</c> argument with its value masked when the key looks secret.</summary>
    public static string MaskAssignment(string assignment)
    {
        var eq = assignment.IndexOf('=');
        return eq >= 0 && LooksSecret(assignment[..eq]) ? assignment[..(eq + 1)] + Mask : assignment;
    }

    private static int Distance(ReadOnlySpan<char> a, string b)
    {
        Span<int> previous = stackalloc int[b.Length + 1];
        Span<int> current = stackalloc int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            current.CopyTo(previous);
        }
        return previous[b.Length];
    }
}
