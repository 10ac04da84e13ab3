using System.Text;

namespace EqlActors.Host.Configuration;

/// <summary>
/// Reads the variable assignments of a shell rc file WITHOUT executing anything. Understood: <c>NAME=value</c> (several
/// per line, optionally after <c>export</c>), comments, single and double quotes, backslash escapes, <c>\</c> line
/// continuations, and <c>$NAME</c> / <c>${NAME}</c> references to variables assigned earlier in the file. Everything else
/// (commands, <c>[ ... ] &amp;&amp;</c>, <c>;</c>, pipes, redirections, <c>$(...)</c>, backticks, special parameters,
/// tilde) makes the statement unparseable; it is reported with its line number and skipped.
/// </summary>
public sealed class ShellRc
{
    public sealed record Assignment(int Line, string Name, string Value, IReadOnlyList<string> UndefinedReferences);
    public sealed record Problem(int Line, string Text, string Message);

    public sealed record Note(int Line, string Message);

    public List<Assignment> Assignments { get; } = [];
    public List<Problem> Problems { get; } = [];
    /// <summary>The HOWTO script's own two lines of shell logic, understood rather than refused.</summary>
    public List<Note> Notes { get; } = [];

    // `[ $FastDownload_SlowUpload ] && LINKS=0` and `test -f $CFG_FILE && . $CFG_FILE`, as the HOWTO writes them
    // (quotes and braces allowed): the only logic in its configuration block, so an unedited block imports cleanly.
    private static readonly System.Text.RegularExpressions.Regex SingleLinkSwitch =
        new(@"^(\[|test) (-n )?""?\$\{?FastDownload_SlowUpload\}?""? ?\]? && LINKS=""?0""?$");
    private static readonly System.Text.RegularExpressions.Regex SourceOwnRc =
        new(@"^(test|\[) -f ""?\$\{?CFG_FILE\}?""? ?\]? && (\.|source) ""?\$\{?CFG_FILE\}?""?$");

    /// <summary>True when the statement is one of the HOWTO's idioms: its meaning is applied and noted.</summary>
    private bool Idiom(int line, string text)
    {
        if (SingleLinkSwitch.IsMatch(text))
        {
            if (variables.TryGetValue("FastDownload_SlowUpload", out var on) && on.Length > 0)
            {
                variables["LINKS"] = "0";
                Assignments.Add(new Assignment(line, "LINKS", "0", []));
                Notes.Add(new Note(line, "the HOWTO's single-link switch: FastDownload_SlowUpload is set, so LINKS=0 (singleLink)"));
            }
            else Notes.Add(new Note(line, "the HOWTO's single-link switch: FastDownload_SlowUpload is not set, so LINKS stays as assigned"));
            return true;
        }
        if (SourceOwnRc.IsMatch(text))
        {
            Notes.Add(new Note(line, "the script reads its user's own rc file here ($HOME/.eql-slirprc): run import-rc on that file too; its settings win over these"));
            return true;
        }
        return false;
    }

    private readonly Dictionary<string, string> variables = new(StringComparer.Ordinal);

    private sealed record Part(string? Literal, string? Variable, bool Quoted);

    public static ShellRc Parse(string text)
    {
        var rc = new ShellRc();
        new Lexer(text.Replace("\r\n", "\n"), rc).Run();
        return rc;
    }

    private void Statement(int line, string text, List<List<Part>> words)
    {
        if (words.Count == 0) return;
        var first = words[0];
        var start = 0;
        if (first is [{ Literal: "export", Quoted: false }]) start = 1;
        var assignments = new List<(string Name, List<Part> Value)>();
        for (var i = start; i < words.Count; i++)
        {
            if (AsAssignment(words[i]) is not { } a)
            {
                Problems.Add(new Problem(line, text, "not a variable assignment: shell commands and logic are never executed" + Hint(text)));
                return;
            }
            assignments.Add(a);
        }
        foreach (var (name, parts) in assignments)
        {
            var value = new StringBuilder();
            var undefined = new List<string>();
            foreach (var p in parts)
            {
                if (p.Literal is not null) value.Append(p.Literal);
                else if (variables.TryGetValue(p.Variable!, out var v)) value.Append(v);
                else undefined.Add(p.Variable!);
            }
            variables[name] = value.ToString();
            Assignments.Add(new Assignment(line, name, value.ToString(), undefined));
        }
    }

    /// <summary>What to do instead of the HOWTO script's two pieces of shell logic in its configuration block.</summary>
    private static string Hint(string text) =>
        text.Contains("FastDownload_SlowUpload", StringComparison.Ordinal)
            ? "; set FastDownload_SlowUpload=yes instead: it is imported as singleLink, which runs link 0 alone"
            : text.StartsWith("test ", StringComparison.Ordinal) || text.StartsWith(". ", StringComparison.Ordinal) || text.Contains(" . ", StringComparison.Ordinal)
                ? "; to import the file this line sources, run import-rc on that file" : "";

    private static (string Name, List<Part> Value)? AsAssignment(List<Part> word)
    {
        if (word.Count == 0 || word[0] is not { Literal: { } lit, Quoted: false }) return null;
        var eq = lit.IndexOf('=');
        if (eq <= 0) return null;
        var name = lit[..eq];
        if (!(char.IsAsciiLetter(name[0]) || name[0] == '_') || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')) return null;
        var value = new List<Part>();
        if (eq + 1 < lit.Length) value.Add(new Part(lit[(eq + 1)..], null, false));
        value.AddRange(word.Skip(1));
        return (name, value);
    }

    private sealed class Lexer(string s, ShellRc rc)
    {
        private int i;
        private int line = 1;
        private List<List<Part>> words = [];
        private List<Part>? word;

        /// <summary><paramref name="restOfFile"/>: an unterminated quote takes the rest of the file with it, as in sh.</summary>
        private sealed class Unsupported(string message, bool restOfFile = false) : Exception(message)
        {
            public bool RestOfFile { get; } = restOfFile;
        }

        public void Run()
        {
            while (i < s.Length)
            {
                var startLine = line;
                var startIndex = i;
                words = [];
                word = null;
                pending.Clear();
                hasPending = false;
                try
                {
                    ReadStatement();
                    rc.Statement(startLine, Text(startIndex, i), words);
                }
                catch (Unsupported ex)
                {
                    if (ex.RestOfFile) i = s.Length; // searching again from every later line would be quadratic
                    else SkipLogicalLine();
                    // The rest of the file is not quoted back: its first line says enough.
                    var text = Text(startIndex, ex.RestOfFile && s.IndexOf('\n', startIndex) is var eol and >= 0 ? eol : i);
                    if (!rc.Idiom(startLine, text)) rc.Problems.Add(new Problem(startLine, text, ex.Message + Hint(text)));
                }
            }
        }

        private string Text(int from, int to) =>
            string.Join(" ", s[from..Math.Min(to, s.Length)].Replace("\\\n", " ").Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries));

        private void SkipLogicalLine()
        {
            while (i < s.Length)
            {
                if (s[i] == '\\' && i + 1 < s.Length && s[i + 1] == '\n') { i += 2; line++; continue; }
                if (s[i] == '\n') { i++; line++; return; }
                i++;
            }
        }

        private void ReadStatement()
        {
            while (i < s.Length)
            {
                var c = s[i];
                switch (c)
                {
                    case '\n': i++; line++; EndWord(); return;
                    case ' ' or '\t': i++; EndWord(); break;
                    case '#' when word is null:
                        while (i < s.Length && s[i] != '\n') i++;
                        break;
                    case '\\':
                        if (i + 1 < s.Length && s[i + 1] == '\n') { i += 2; line++; break; } // a continuation joins the lines
                        if (i + 1 < s.Length) { Literal(s[i + 1].ToString(), quoted: true); i += 2; break; }
                        Literal("\\", quoted: false); i++; break;
                    case '\'':
                        var close = s.IndexOf('\'', i + 1);
                        if (close < 0) throw new Unsupported("unterminated single quote: the rest of the file is not read", restOfFile: true);
                        var content = s[(i + 1)..close];
                        line += content.Count(ch => ch == '\n');
                        Literal(content, quoted: true);
                        i = close + 1;
                        break;
                    case '"': DoubleQuoted(); break;
                    case '$': Dollar(quoted: false); break;
                    case ';' or '&' or '|' or '<' or '>' or '(' or ')':
                        throw new Unsupported($"shell syntax '{c}' is not supported (only NAME=value assignments are read)");
                    case '`': throw new Unsupported("command substitution with backticks is not supported");
                    case '~': throw new Unsupported("tilde expansion is not supported: write the path out");
                    default: Literal(c.ToString(), quoted: false); i++; break;
                }
            }
            EndWord();
        }

        private void DoubleQuoted()
        {
            var open = line;
            i++;
            Literal("", quoted: true); // "" is a word too
            while (true)
            {
                if (i >= s.Length) throw new Unsupported($"unterminated double quote (opened on line {open}): the rest of the file is not read", restOfFile: true);
                var c = s[i];
                if (c == '"') { i++; return; }
                if (c == '\\' && i + 1 < s.Length)
                {
                    var next = s[i + 1];
                    if (next == '\n') { i += 2; line++; continue; }
                    if (next is '$' or '`' or '"' or '\\') { Literal(next.ToString(), quoted: true); i += 2; continue; }
                    Literal("\\", quoted: true); i++; continue;
                }
                if (c == '$') { Dollar(quoted: true); continue; }
                if (c == '`') throw new Unsupported("command substitution with backticks is not supported");
                if (c == '\n') line++;
                Literal(c.ToString(), quoted: true);
                i++;
            }
        }

        private void Dollar(bool quoted)
        {
            var next = i + 1 < s.Length ? s[i + 1] : '\0';
            if (next == '{')
            {
                var eol = s.IndexOf('\n', i + 2);
                var close = s.IndexOf('}', i + 2, (eol < 0 ? s.Length : eol) - (i + 2)); // a name never spans lines
                var name = close < 0 ? "" : s[(i + 2)..close];
                if (!IsName(name)) throw new Unsupported("only ${NAME} is supported, not other ${...} expansions");
                Variable(name, quoted);
                i = close + 1;
                return;
            }
            if (next == '(') throw new Unsupported("command substitution $(...) is not supported");
            if (char.IsAsciiLetter(next) || next == '_')
            {
                var start = i + 1;
                var end = start;
                while (end < s.Length && (char.IsAsciiLetterOrDigit(s[end]) || s[end] == '_')) end++;
                Variable(s[start..end], quoted);
                i = end;
                return;
            }
            if (next is '\0' or ' ' or '\t' or '\n' or '"') { Literal("$", quoted); i++; return; }
            throw new Unsupported($"the special parameter ${next} is not supported");
        }

        private static bool IsName(string n) =>
            n.Length > 0 && (char.IsAsciiLetter(n[0]) || n[0] == '_') && n.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

        // Characters of the current literal run: appended here and made a Part once the run ends. Concatenating a
        // string per character made a long value quadratic (a 160 KB value took 13 s).
        private readonly StringBuilder pending = new();
        private bool pendingQuoted;
        private bool hasPending;

        private void Literal(string text, bool quoted)
        {
            word ??= [];
            if (hasPending && pendingQuoted != quoted) Flush();
            pending.Append(text);
            pendingQuoted = quoted;
            hasPending = true;
        }

        private void Flush()
        {
            if (!hasPending) return;
            word!.Add(new Part(pending.ToString(), null, pendingQuoted));
            pending.Clear();
            hasPending = false;
        }

        private void Variable(string name, bool quoted)
        {
            word ??= [];
            Flush();
            word.Add(new Part(null, name, quoted));
        }

        private void EndWord()
        {
            if (word is null) return;
            Flush();
            words.Add(word);
            word = null;
        }
    }
}
