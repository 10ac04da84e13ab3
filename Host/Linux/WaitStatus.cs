using System.Globalization;

namespace EqlActors.Host.Linux;

/// <summary>A <c>waitpid</c> status in words, for the log: how a child this process reaped ended.</summary>
public static class WaitStatus
{
    /// <summary>"exited with status N", "killed by signal N (SIGNAME)" (with "core dumped"), or the raw value.</summary>
    public static string Describe(int status)
    {
        var signal = status & 0x7f;
        if (signal == 0) return "exited with status " + ((status >> 8) & 0xff).ToString(CultureInfo.InvariantCulture);
        if (signal == 0x7f) return "stopped (wait status " + status.ToString(CultureInfo.InvariantCulture) + ")";
        var name = SignalName(signal);
        return $"killed by signal {signal.ToString(CultureInfo.InvariantCulture)}{(name is null ? "" : $" ({name})")}{((status & 0x80) != 0 ? ", core dumped" : "")}";
    }

    // Linux x86/arm numbering of the signals a chain's process can meet.
    private static string? SignalName(int signal) => signal switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        6 => "SIGABRT",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => null,
    };
}
