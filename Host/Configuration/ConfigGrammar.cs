using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EqlActors.Host.Configuration;

/// <summary>
/// The strict grammars of configuration strings. Values end up on command lines (pppd's <c>pty</c> string runs under
/// <c>/bin/sh -c</c>, ssh runs a remote shell), so each grammar is a small closed character set: anything outside it
/// (quotes, <c>;</c>, <c>$</c>, backticks, spaces, newlines, NUL, a leading <c>-</c>) is refused. Each check returns
/// null when the value is fine, else a message naming the first offending character. docs/configuration.md lists them.
/// </summary>
public static class ConfigGrammar
{
    public const int MaxUserLength = 32;
    public const int MaxHostLength = 253;
    public const int MaxPathLength = 4096;
    /// <summary>sun_path is 108 bytes including the terminating NUL.</summary>
    public const int MaxSocketPathLength = 107;

    /// <summary>ssh user: <c>[a-z_][a-z0-9_.-]*</c>, at most 32 characters (useradd's portable names).</summary>
    public static string? SshUser(string user)
    {
        if (user.Length == 0) return "the user name is empty";
        if (user.Length > MaxUserLength) return $"the user name is longer than {MaxUserLength} characters";
        if (!(IsLower(user[0]) || user[0] == '_'))
            return $"the user name starts with {Describe(user[0])}; it must start with a-z or _ (grammar [a-z_][a-z0-9_.-]*)";
        foreach (var c in user)
            if (!(IsLower(c) || IsDigit(c) || c is '_' or '.' or '-'))
                return $"the user name contains {Describe(c)} (grammar [a-z_][a-z0-9_.-]*)";
        return null;
    }

    /// <summary>
    /// Host: a DNS name (labels of <c>[A-Za-z0-9-]</c>, 1-63 characters, not starting or ending with <c>-</c>, dot separated,
    /// at most 253), an IPv4 literal, or an IPv6 literal in brackets (<c>[::1]</c>).
    /// </summary>
    public static string? Host(string host)
    {
        if (host.Length == 0) return "the host is empty";
        if (host[0] == '[')
        {
            if (host[^1] != ']') return "an IPv6 literal must be written in brackets: [2001:db8::1]";
            var inner = host[1..^1];
            foreach (var c in inner)
                if (!(IsHex(c) || c is ':' or '.')) return $"the IPv6 literal contains {Describe(c)}";
            return IPAddress.TryParse(inner, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6
                ? null : "not a valid IPv6 address";
        }
        if (host[0] == '-') return "the host starts with '-' (it would be read as an option)";
        if (host.Length > MaxHostLength) return $"the host name is longer than {MaxHostLength} characters";
        foreach (var c in host)
            if (!(IsAsciiLetter(c) || IsDigit(c) || c is '-' or '.'))
                return c == ':' ? "the host contains ':'; write an IPv6 literal in brackets ([2001:db8::1]) and a port as host:port"
                    : $"the host contains {Describe(c)} (a DNS name, an IPv4 address or a bracketed IPv6 address)";
        var labels = host.TrimEnd('.').Split('.');
        if (labels.All(l => l.Length > 0 && l.All(IsDigit)))
            return Ipv4Literal(host) ? null : "not a valid IPv4 address";
        foreach (var label in labels)
        {
            if (label.Length == 0) return "the host has an empty label (two dots in a row)";
            if (label.Length > 63) return "a label of the host name is longer than 63 characters";
            if (label[0] == '-' || label[^1] == '-') return $"the label \"{label}\" starts or ends with '-'";
        }
        return null;
    }

    /// <summary>Dotted quad with exactly four decimal parts 0-255 (IPAddress.Parse alone accepts "1" or "0x7f.1").</summary>
    public static bool Ipv4Literal(string text)
    {
        var parts = text.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && p.All(IsDigit)
            && int.Parse(p, CultureInfo.InvariantCulture) <= 255 && !(p.Length > 1 && p[0] == '0'));
    }

    public static string? Port(int port) => port is >= 1 and <= 65535 ? null : "the port must be 1-65535";

    /// <summary>
    /// A path made of segments of <c>[A-Za-z0-9._+-]</c> separated by single <c>/</c>: no empty, <c>.</c> or <c>..</c>
    /// segment, no segment starting with <c>-</c>, no trailing <c>/</c>. The same characters for local and remote paths:
    /// both are interpolated into pppd's <c>pty</c> command, which <c>/bin/sh -c</c> parses.
    /// </summary>
    public static string? SafePath(string path, bool mustBeAbsolute, int maxLength = MaxPathLength)
    {
        if (path.Length == 0) return "the path is empty";
        if (path.Length > maxLength) return $"the path is longer than {maxLength} characters";
        if (mustBeAbsolute && path[0] != '/') return "the path must be absolute (start with /)";
        if (path[0] == '-') return "the path starts with '-' (it would be read as an option)";
        foreach (var c in path)
            if (!(IsAsciiLetter(c) || IsDigit(c) || c is '.' or '_' or '+' or '-' or '/'))
                return $"the path contains {Describe(c)} (allowed: A-Z a-z 0-9 . _ + - and / between segments)";
        if (path == "/") return "the path is the root directory";
        var segments = (path[0] == '/' ? path[1..] : path).Split('/');
        foreach (var s in segments)
        {
            if (s.Length == 0) return "the path has an empty segment ('//' or a trailing '/')";
            if (s is "." or "..") return $"the path has a '{s}' segment; write the path without it";
            if (s[0] == '-') return $"the path segment \"{s}\" starts with '-'";
        }
        return null;
    }

    /// <summary>slirp's TCP attach password: <c>[A-Za-z0-9._-]+</c>, at most 64; it lands on slirp's command line.</summary>
    public static string? TcpPassword(string password)
    {
        if (password == "***") return "\"***\" is the mask printed by 'config show'; set the real password";
        if (password.Length == 0) return "the password is empty";
        if (password.Length > 64) return "the password is longer than 64 characters";
        foreach (var c in password)
            if (!(IsAsciiLetter(c) || IsDigit(c) || c is '.' or '_' or '-'))
                return $"the password contains {Describe(c)} (allowed: A-Z a-z 0-9 . _ -)";
        return null;
    }

    /// <summary>
    /// An ssh algorithm list (<c>KexAlgorithms</c>): empty (ssh's default), or names of <c>[A-Za-z0-9@._-]</c>
    /// separated by single commas, optionally led by one of <c>+ - ^</c> (append, remove, put first), at most 1024.
    /// It lands in pppd's <c>pty</c> command, run by <c>/bin/sh</c>: quoted there, and nothing else gets this far.
    /// </summary>
    public static string? SshAlgorithmList(string list)
    {
        if (list.Length == 0) return null;
        if (list.Length > 1024) return "the list is longer than 1024 characters";
        var names = list[0] is '+' or '-' or '^' ? list[1..] : list;
        foreach (var name in names.Split(','))
        {
            if (name.Length == 0) return "the list has an empty name (a leading, trailing or doubled comma)";
            foreach (var c in name)
                if (!(IsAsciiLetter(c) || IsDigit(c) || c is '@' or '.' or '_' or '-'))
                    return $"an algorithm name contains {Describe(c)} (allowed: A-Z a-z 0-9 @ . _ -, names separated by commas)";
        }
        return null;
    }

    /// <summary>A network interface name: 1-15 characters of <c>[A-Za-z0-9_.-]</c>, not starting with <c>-</c> or <c>.</c>.</summary>
    public static string? InterfaceName(string name)
    {
        if (name.Length == 0) return "the interface name is empty";
        if (name.Length > 15) return "the interface name is longer than 15 characters (IFNAMSIZ)";
        if (name[0] is '-' or '.') return $"the interface name starts with '{name[0]}'";
        foreach (var c in name)
            if (!(IsAsciiLetter(c) || IsDigit(c) || c is '_' or '.' or '-'))
                return $"the interface name contains {Describe(c)} (allowed: A-Z a-z 0-9 _ . -)";
        return null;
    }

    /// <summary>pppd linkname prefix (a file name part): <c>[A-Za-z0-9][A-Za-z0-9_-]*</c>, at most 32.</summary>
    public static string? LinkNamePrefix(string prefix)
    {
        if (prefix.Length == 0) return "the prefix is empty";
        if (prefix.Length > 32) return "the prefix is longer than 32 characters";
        if (!(IsAsciiLetter(prefix[0]) || IsDigit(prefix[0]))) return $"the prefix starts with {Describe(prefix[0])}; it must start with a letter or digit";
        foreach (var c in prefix)
            if (!(IsAsciiLetter(c) || IsDigit(c) || c is '_' or '-'))
                return $"the prefix contains {Describe(c)} (allowed: A-Z a-z 0-9 _ -)";
        return null;
    }

    /// <summary>Names a character for an error message: <c>';'</c>, <c>a space</c>, <c>a newline</c>, <c>NUL</c>, <c>U+001B</c>.</summary>
    public static string Describe(char c) => c switch
    {
        ' ' => "a space",
        '\t' => "a tab",
        '\n' => "a newline",
        '\r' => "a carriage return",
        '\0' => "NUL",
        '\'' => "a quote (')",
        '"' => "a quote (\")",
        '`' => "a backtick",
        _ when char.IsControl(c) || c > '~' => $"U+{(int)c:X4}",
        _ => $"'{c}'",
    };

    internal static bool IsDigit(char c) => c is >= '0' and <= '9';
    internal static bool IsLower(char c) => c is >= 'a' and <= 'z';
    internal static bool IsAsciiLetter(char c) => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z';
    internal static bool IsHex(char c) => IsDigit(c) || c is >= 'a' and <= 'f' or >= 'A' and <= 'F';
}
