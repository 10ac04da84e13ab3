using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace EqlActors.Host.Remote;

public enum HostKeyVerdict
{
    /// <summary>known_hosts holds this very key for the host.</summary>
    Trusted,
    /// <summary>known_hosts says nothing about this host (for this key type).</summary>
    Unknown,
    /// <summary>known_hosts holds a different key of the same type for the host: refuse, it may be an attack.</summary>
    Changed,
    /// <summary>The key is marked <c>@revoked</c>.</summary>
    Revoked,
}

/// <summary>
/// OpenSSH known_hosts: plain, wildcard and negated patterns, <c>[host]:port</c> names and hashed
/// <c>|1|salt|hmac</c> entries, <c>@revoked</c> markers (<c>@cert-authority</c> lines are ignored: no
/// certificates here). The same file serves SSH.NET and the ssh of pppd's pty, so both trust alike.
/// </summary>
public static class KnownHosts
{
    /// <summary>How OpenSSH names a host in known_hosts: <c>host</c> on port 22, <c>[host]:port</c> otherwise.</summary>
    public static string HostName(string host, int port) => port == 22 ? host.ToLowerInvariant() : $"[{host.ToLowerInvariant()}]:{port}";

    /// <summary>The key type inside an SSH public key blob (its first string).</summary>
    public static string KeyType(byte[] blob)
    {
        if (blob.Length < 4) return "?";
        var len = BinaryPrimitives.ReadUInt32BigEndian(blob);
        return len > 0 && len <= blob.Length - 4 ? Encoding.ASCII.GetString(blob, 4, (int)len) : "?";
    }

    /// <summary>OpenSSH's fingerprint: <c>SHA256:</c> and the unpadded base64 of the blob's SHA-256.</summary>
    public static string Fingerprint(byte[] blob) => "SHA256:" + Convert.ToBase64String(SHA256.HashData(blob)).TrimEnd('=');

    public static HostKeyVerdict Check(string path, string host, int port, byte[] blob)
    {
        if (!File.Exists(path)) return HostKeyVerdict.Unknown;
        var name = HostName(host, port);
        var type = KeyType(blob);
        var verdict = HostKeyVerdict.Unknown;
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var f = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            var marker = f[0].StartsWith('@') ? f[0] : null;
            if (marker is not null) f = f[1..];
            if (f.Length < 3 || marker == "@cert-authority") continue;
            if (!Matches(f[0], name)) continue;
            byte[] key;
            try { key = Convert.FromBase64String(f[2]); }
            catch (FormatException) { continue; }
            var same = key.AsSpan().SequenceEqual(blob);
            if (marker == "@revoked")
            {
                if (same) return HostKeyVerdict.Revoked;
                continue;
            }
            if (same) verdict = verdict == HostKeyVerdict.Changed ? verdict : HostKeyVerdict.Trusted;
            else if (KeyType(key) == type && verdict != HostKeyVerdict.Trusted) verdict = HostKeyVerdict.Changed;
        }
        return verdict;
    }

    /// <summary>The key types known_hosts holds for the host (revoked keys and certificate authorities not counted).</summary>
    public static IReadOnlyList<string> KeyTypesFor(string path, string host, int port)
    {
        if (!File.Exists(path)) return [];
        var name = HostName(host, port);
        var types = new List<string>();
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#' || line[0] == '@') continue;
            var f = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 3 && Matches(f[0], name)) types.Add(f[1]);
        }
        return types;
    }

    /// <summary>Appends <c>NAME TYPE BASE64</c> (unhashed, readable) to the file, creating it 0600 when missing.</summary>
    public static void Append(string path, string host, int port, byte[] blob)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var needsNewline = File.Exists(path) && new FileInfo(path).Length > 0 && !File.ReadAllText(path).EndsWith('\n');
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        var text = (needsNewline ? "\n" : "") + $"{HostName(host, port)} {KeyType(blob)} {Convert.ToBase64String(blob)}\n";
        stream.Write(Encoding.ASCII.GetBytes(text));
    }

    /// <summary>OpenSSH's pattern-list match: some positive pattern matches and no negated one does.</summary>
    public static bool Matches(string patternList, string name)
    {
        if (patternList.StartsWith("|1|", StringComparison.Ordinal)) return HashedMatches(patternList, name);
        var matched = false;
        foreach (var p in patternList.Split(','))
        {
            var negated = p.StartsWith('!');
            var pat = negated ? p[1..] : p;
            if (!Glob(pat.ToLowerInvariant(), name)) continue;
            if (negated) return false;
            matched = true;
        }
        return matched;
    }

    private static bool HashedMatches(string entry, string name)
    {
        var parts = entry.Split('|');
        if (parts.Length != 4) return false;
        try
        {
            var salt = Convert.FromBase64String(parts[2]);
            var hash = Convert.FromBase64String(parts[3]);
            return CryptographicOperations.FixedTimeEquals(HMACSHA1.HashData(salt, Encoding.ASCII.GetBytes(name)), hash);
        }
        catch (FormatException) { return false; }
    }

    private static bool Glob(string pattern, string name) =>
        Regex.IsMatch(name, "^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.CultureInvariant);
}
