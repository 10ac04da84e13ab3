using System.Text.Json;

namespace EqlActors.Host.Configuration;

/// <summary>
/// How <c>eqlactors start</c> hands its <c>--set</c> overrides to the daemon it spawns: in the daemon's environment,
/// which only its own user (and root) can read in /proc, never in its argv, which every local user can read with
/// <c>ps</c>. <c>run</c> takes them and removes the variable, so pppd and ssh do not inherit it.
/// </summary>
public static class StartOverrides
{
    public const string Variable = "EQLACTORS_START_OVERRIDES";

    public static string Encode(IReadOnlyList<string> sets) => JsonSerializer.Serialize(sets);

    /// <summary>
    /// The overrides in this process's environment (removed from it), or none; null when the variable is not a JSON
    /// list of strings (the caller reports it: an override must not be dropped silently).
    /// </summary>
    public static IReadOnlyList<string>? Take()
    {
        var text = Environment.GetEnvironmentVariable(Variable);
        if (text is null) return [];
        Environment.SetEnvironmentVariable(Variable, null);
        try { return JsonSerializer.Deserialize<string[]>(text); }
        catch (JsonException) { return null; }
    }
}
