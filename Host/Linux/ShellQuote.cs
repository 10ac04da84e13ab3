namespace EqlActors.Host.Linux;

/// <summary>
/// POSIX sh quoting: every word becomes one single-quoted word, a quote inside it written as <c>'\''</c>.
/// Nothing inside single quotes is special to sh (no <c>$</c>, backquote, backslash, newline or glob), so the
/// result reads back as exactly the words given, whatever they contain. NUL cannot be passed at all.
/// </summary>
public static class ShellQuote
{
    public static string Quote(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        if (word.Contains('\0')) throw new ArgumentException("a shell word cannot contain NUL", nameof(word));
        return "'" + word.Replace("'", "'\\''") + "'";
    }

    /// <summary>Words quoted and joined by spaces: one command line for <c>sh -c</c>.</summary>
    public static string Join(IEnumerable<string> words) => string.Join(' ', words.Select(Quote));
}
