using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using EqlActors.Configuration;

namespace EqlActors.Host.Configuration;

/// <summary>
/// Syntax of single configuration values (strings from JSON, environment or <c>--set</c>) into the model's types.
/// Parsing only checks the shape; the grammar of each part (user names, hosts, ranges) is <see cref="ConfigValidator"/>'s.
/// Each parser returns the value, or an error message and a default value.
/// </summary>
public static class ConfigParse
{
    public const double MaxSeconds = 7 * 24 * 3600;

    public static (int Value, string? Error) Int(string text)
    {
        if (!IsInteger(text)) return (0, "expected an integer");
        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? (v, null) : (0, "the integer is out of range");
    }

    public static (long Value, string? Error) Long(string text)
    {
        if (!IsInteger(text)) return (0, "expected an integer");
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? (v, null) : (0, "the integer is out of range");
    }

    /// <summary>A plain decimal number: digits, optional fraction, optional leading '-'; no exponent, no spaces.</summary>
    public static (double Value, string? Error) Number(string text)
    {
        var t = text.StartsWith('-') ? text[1..] : text;
        var dot = t.IndexOf('.');
        var ok = t.Length > 0 && (dot < 0 ? t.All(ConfigGrammar.IsDigit)
            : dot > 0 && dot < t.Length - 1 && t.Remove(dot, 1).All(ConfigGrammar.IsDigit));
        if (!ok) return (0, "expected a decimal number");
        return (double.Parse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture), null);
    }

    /// <summary>A duration given as a number of seconds (fractions allowed), 0 to one week.</summary>
    public static (TimeSpan Value, string? Error) Seconds(string text)
    {
        var (n, error) = Number(text);
        if (error is not null) return (TimeSpan.Zero, "expected a number of seconds");
        if (n < 0) return (TimeSpan.Zero, "a duration cannot be negative");
        if (n > MaxSeconds) return (TimeSpan.Zero, $"a duration is at most {MaxSeconds} seconds (one week)");
        return (TimeSpan.FromSeconds(n), null);
    }

    public static (bool Value, string? Error) Bool(string text) =>
        text.Equals("true", StringComparison.OrdinalIgnoreCase) ? (true, null)
        : text.Equals("false", StringComparison.OrdinalIgnoreCase) ? (false, null)
        : (false, "expected true or false");

    /// <summary>An IPv4 address as a dotted quad (IPAddress.Parse alone would accept "10.1" or "0x0a.1").</summary>
    public static (IPAddress Value, string? Error) Ipv4(string text) =>
        ConfigGrammar.Ipv4Literal(text) ? (IPAddress.Parse(text), null)
            : (IPAddress.None, "expected an IPv4 address (dotted quad, e.g. 10.0.2.15)");

    /// <summary><c>a.b.c.d/n</c>, n 0-32. Host bits are checked by the validator so that the message can suggest the network.</summary>
    public static (Cidr Value, string? Error) Cidr(string text)
    {
        var slash = text.IndexOf('/');
        if (slash < 0) return (Bad, "expected an IPv4 network as address/prefix (e.g. 192.168.1.0/24)");
        var (address, error) = Ipv4(text[..slash]);
        if (error is not null) return (Bad, $"the network part is not an IPv4 address (expected e.g. 192.168.1.0/24)");
        var prefix = text[(slash + 1)..];
        if (prefix.Length is < 1 or > 2 || !prefix.All(ConfigGrammar.IsDigit) || int.Parse(prefix, CultureInfo.InvariantCulture) > 32
            || (prefix.Length == 2 && prefix[0] == '0'))
            return (Bad, "the prefix length must be 0-32");
        return (new Cidr(address, int.Parse(prefix, CultureInfo.InvariantCulture)), null);
    }

    private static readonly Cidr Bad = new(IPAddress.None, 0);

    /// <summary><c>user@host[:port]</c>, host possibly <c>[ipv6]</c>. The parts' grammars are checked by the validator.</summary>
    public static (SshEndpoint Value, string? Error) Endpoint(string text)
    {
        var at = text.IndexOf('@');
        if (at < 0) return (new SshEndpoint("", ""), "expected user@host or user@host:port");
        var user = text[..at];
        var (host, port, error) = HostPort(text[(at + 1)..], 22);
        return (new SshEndpoint(user, host, port), error);
    }

    /// <summary>
    /// Splits <c>host[:port]</c>; <c>[v6]:port</c> for IPv6. Only a single ':' is taken as the port separator, so an
    /// unbracketed IPv6 address stays whole and the host grammar explains the brackets.
    /// </summary>
    public static (string Host, int Port, string? Error) HostPort(string text, int? defaultPort)
    {
        string host = text, port = "";
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']');
            if (close > 0 && close + 1 < text.Length && text[close + 1] == ':')
                (host, port) = (text[..(close + 1)], text[(close + 2)..]);
        }
        else if (text.Count(c => c == ':') == 1)
        {
            var colon = text.IndexOf(':');
            (host, port) = (text[..colon], text[(colon + 1)..]);
        }
        if (port.Length == 0 && host.Length == text.Length)
            return defaultPort is int d ? (host, d, null) : (host, 0, "expected host:port");
        var (p, error) = Int(port);
        return error is null ? (host, p, null) : (host, 0, "the port is not a number");
    }

    /// <summary>A list given as one string: elements separated by spaces or commas (tabs and newlines are not separators).</summary>
    public static ImmutableArray<string> SplitList(string text) =>
        [.. text.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries)];

    private static bool IsInteger(string text)
    {
        var t = text.StartsWith('-') ? text[1..] : text;
        return t.Length is > 0 and <= 20 && t.All(ConfigGrammar.IsDigit);
    }
}
