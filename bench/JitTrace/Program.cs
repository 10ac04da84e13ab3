using Microsoft.Diagnostics.Tracing;

// usage: jit-trace FILE.nettrace [T0 T1 ...]   T = HH:mm:ss.fff of the daemon's log (UTC): one report per window
// Per window: methods compiled, the JIT's wall time (JittingStarted -> MethodLoad on the same thread; in a starved
// guest that includes waiting for a CPU, so compare counts, not milliseconds), GCs and their pauses, the busiest
// namespaces and methods.
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: jit-trace FILE.nettrace [HH:mm:ss.fff ...]");
    return 2;
}
using var source = new EventPipeEventSource(args[0]);
var started = new Dictionary<int, (double At, string Name)>();
var jitted = new List<(DateTime At, double Ms, string Name)>();
var gcs = new List<DateTime>();
var pauses = new List<(DateTime At, double Ms)>();
DateTime? suspended = null;
source.Clr.MethodJittingStarted += e => started[e.ThreadID] = (e.TimeStampRelativeMSec, $"{e.MethodNamespace}::{e.MethodName}");
source.Clr.MethodLoadVerbose += e =>
{
    if (started.Remove(e.ThreadID, out var s)) jitted.Add((e.TimeStamp.ToUniversalTime(), e.TimeStampRelativeMSec - s.At, s.Name));
};
source.Clr.GCStart += e => gcs.Add(e.TimeStamp.ToUniversalTime());
source.Clr.GCSuspendEEStart += e => suspended = e.TimeStamp;
source.Clr.GCRestartEEStop += e =>
{
    if (suspended is { } s) pauses.Add((e.TimeStamp.ToUniversalTime(), (e.TimeStamp - s).TotalMilliseconds));
    suspended = null;
};
source.Process();
Console.WriteLine($"methods compiled: {jitted.Count} ({jitted.Sum(j => j.Ms):0} ms wall); GCs {gcs.Count}, pauses {pauses.Sum(p => p.Ms):0} ms");
if (jitted.Count == 0) return 0;
var day = jitted[0].At.Date;
var cuts = args.Skip(1).Select(a => day + TimeSpan.Parse(a, System.Globalization.CultureInfo.InvariantCulture)).ToList();
for (var i = 0; i + 1 < cuts.Count; i++)
{
    var (from, to) = (cuts[i], cuts[i + 1]);
    var w = jitted.Where(j => j.At >= from && j.At < to).ToList();
    Console.WriteLine($"== {from:HH:mm:ss.fff} - {to:HH:mm:ss.fff}: {w.Count} methods, {w.Sum(j => j.Ms):0} ms; GCs {gcs.Count(g => g >= from && g < to)}, pauses {pauses.Where(p => p.At >= from && p.At < to).Sum(p => p.Ms):0} ms");
    foreach (var g in w.GroupBy(j => string.Join('.', j.Name.Split("::")[0].Split('.').Take(3))).OrderByDescending(g => g.Count()).Take(20))
        Console.WriteLine($"  {g.Count(),5} {g.Sum(j => j.Ms),8:0} ms  {g.Key}");
    foreach (var j in w.OrderByDescending(j => j.Ms).Take(10))
        Console.WriteLine($"        {j.Ms,7:0} ms {j.At:HH:mm:ss.fff} {j.Name}");
}
return 0;
