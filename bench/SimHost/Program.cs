using System.Diagnostics;
using Akka.Actor;
using Akka.Hosting;
using Akka.Logger.Serilog;
using EqlActors.Actors;
using EqlActors.Configuration;
using EqlActors.Messages;
using EqlActors.Simulation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog;

// The actor tree hosted by a minimal Akka.Hosting service, supervising 3 links of the simulated system in real
// time. Prints "STARTED <ms>" once the host has started (the bare reference's READY) and "READY <ms>" when the
// bundle is ready (every link enslaved: includes the simulated 1.5-2.8 s link-up), then idles until SIGTERM.
Log.Logger = new LoggerConfiguration().MinimumLevel.Information().WriteTo.Console().CreateLogger();

// --no-traffic: the simulated kernel offers no upload or download, so the idle CPU is the actor tree's (reconcile
// passes, balance checks) and the simulator's timers, without its per-packet traffic model. --no-start: see below.
var config = new BundleConfig();
var options = args.Contains("--no-traffic") ? new SimulationOptions { UploadBytesPerSecond = 0, DownloadBytesPerSecond = 0 } : new SimulationOptions();
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddSerilog();
builder.Services.AddAkka("eqlactors", akka =>
{
    // --tick-ms N: Akka's scheduler tick (10 ms by default); its timer thread wakes every tick while any timer is pending.
    var tick = Array.IndexOf(args, "--tick-ms") is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    if (tick is not null) akka.AddHocon($"akka.scheduler.tick-duration = {int.Parse(tick, System.Globalization.CultureInfo.InvariantCulture)}ms", HoconAddMode.Prepend);
    akka.ConfigureLoggers(l =>
    {
        l.ClearLoggers();
        l.AddLogger<SerilogLogger>();
    });
    akka.WithActors((system, registry) =>
    {
        var sim = new SimulatedSystem(system.Scheduler, config, options);
        var printer = system.ActorOf(Props.Create(() => new ReadyPrinter()), "ready-printer");
        system.EventStream.Subscribe(printer, typeof(BundleReady));
        var bundle = system.CreateBundle(config, sim.Ports);
        registry.Register<BundleActor>(bundle);
        // --no-start: the tree exists but is never started, to tell the simulator's own timers from the tree's work.
        if (!args.Contains("--no-start")) bundle.Tell(new StartBundle());
    });
});

using var host = builder.Build();
await host.StartAsync();
Console.WriteLine($"STARTED {ReadyPrinter.SinceStart():0}");
await host.WaitForShutdownAsync();
await Log.CloseAndFlushAsync();

internal sealed class ReadyPrinter : ReceiveActor
{
    private bool _said;

    public ReadyPrinter() => Receive<BundleReady>(_ =>
    {
        if (_said) return;
        _said = true;
        Console.WriteLine($"READY {SinceStart():0}");
    });

    public static double SinceStart() => (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;
}
