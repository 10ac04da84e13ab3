namespace EqlActors.Host.Hosting;

/// <summary>
/// The .NET runtime settings the daemon is started with: by the systemd unit (<c>Environment=</c>), by
/// <c>eqlactors start</c>, and by the system test as by the unit. Environment variables because the runtime reads
/// <c>TC_CallCounting</c> from nowhere else (a runtimeconfig.json property of that name is ignored: measured).
/// <para>
/// Tiered compilation on, call counting off: code that ReadyToRun lacks (generic instantiations over another
/// assembly's value types, most of them in the framework) is compiled once by the quick JIT and never recompiled;
/// the ReadyToRun code stays final. Against no tiering (every such method compiled fully optimised, the project's
/// default when started by hand): less of the CPU that the links' ssh handshakes need while they come up. Against
/// default tiering: no tier-1 recompilation of hot methods, which grew the compiled methods 2.7k -> 8.9k and the
/// RSS with them over faults. Figures: docs/benchmarks.md, section 16.
/// </para>
/// </summary>
public static class DaemonRuntime
{
    public static readonly IReadOnlyList<KeyValuePair<string, string>> Environment =
    [
        new("DOTNET_TieredCompilation", "1"),
        new("DOTNET_TC_CallCounting", "0"),
    ];
}
