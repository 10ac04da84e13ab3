using System.Text;
using System.Text.Json;
using EqlActors.Host.Doctor.Checks;
using Serilog;

namespace EqlActors.Host.Doctor;

/// <summary>Runs every check in order and renders the checklist or its JSON.</summary>
public static class DoctorRunner
{
    /// <summary>The checks, in the order a start meets them: host_A, the way to host_B, host_B, then consistency.</summary>
    public static IReadOnlyList<IDoctorCheck> AllChecks() =>
    [
        new RootCheck(), new PppKernelCheck(), new DevPppCheck(), new EqlKernelCheck(), new PppdCheck(), new SshClientCheck(),
        new IdentityCheck(), new KnownHostsCheck(), new SshHopsCheck(), new SlirpCheck(), new RcFilesCheck(), new MtuCheck(),
        new TcpReorderingCheck(),
    ];

    public static async Task<DoctorReport> RunAsync(DoctorContext context, IEnumerable<IDoctorCheck> checks, ILogger? log = null, CancellationToken ct = default)
    {
        var results = new List<CheckResult>();
        foreach (var check in checks)
        {
            var name = check.GetType().Name;
            try
            {
                var found = await check.RunAsync(context, ct).ConfigureAwait(false);
                results.AddRange(found);
                foreach (var r in found) log?.Debug("Doctor check {Check} {Id}: {Status} {Detail}", name, r.Id, r.Status, r.Detail);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A check that cannot run says so; it does not hide the others.
                log?.Warning(e, "Doctor check {Check} could not run", name);
                results.Add(CheckResult.Fail(name, name, $"the check could not run: {e.Message}", "see the error; run with --set control.logLevel=Debug for details"));
            }
        }
        return new DoctorReport(results);
    }

    public static string Symbol(CheckStatus s) => s switch
    {
        CheckStatus.Ok => "✓",
        CheckStatus.Warning => "!",
        CheckStatus.Failure => "✗",
        _ => "-",
    };

    public static string StatusName(CheckStatus s) => s switch
    {
        CheckStatus.Ok => "ok",
        CheckStatus.Warning => "warning",
        CheckStatus.Failure => "failure",
        _ => "skipped",
    };

    /// <summary>The checklist: one line per result, a <c>fix:</c> line under every one that is not ✓, a verdict.</summary>
    public static string RenderText(DoctorReport report)
    {
        var sb = new StringBuilder();
        foreach (var r in report.Results)
        {
            sb.Append(Symbol(r.Status)).Append(' ').Append(r.Title).Append(": ").Append(r.Detail).Append('\n');
            if (r.Fix is not null && r.Status is CheckStatus.Failure or CheckStatus.Warning) sb.Append("    fix: ").Append(r.Fix).Append('\n');
        }
        var (f, w, s) = (report.Count(CheckStatus.Failure), report.Count(CheckStatus.Warning), report.Count(CheckStatus.Skipped));
        sb.Append('\n').Append(f == 0 ? "ready to start" : "a start would fail")
          .Append($": {report.Count(CheckStatus.Ok)} ok, {f} failed, {w} warning{(w == 1 ? "" : "s")}, {s} skipped\n");
        return sb.ToString();
    }

    public static string RenderJson(DoctorReport report)
    {
        using var buffer = new MemoryStream();
        using (var j = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            j.WriteStartObject();
            j.WriteBoolean("ok", !report.Blocked);
            j.WriteNumber("failures", report.Count(CheckStatus.Failure));
            j.WriteNumber("warnings", report.Count(CheckStatus.Warning));
            j.WriteStartArray("checks");
            foreach (var r in report.Results)
            {
                j.WriteStartObject();
                j.WriteString("id", r.Id);
                j.WriteString("title", r.Title);
                j.WriteString("status", StatusName(r.Status));
                j.WriteString("detail", r.Detail);
                if (r.Fix is not null && r.Status is CheckStatus.Failure or CheckStatus.Warning) j.WriteString("fix", r.Fix);
                else j.WriteNull("fix");
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
