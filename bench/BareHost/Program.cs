using System.Diagnostics;
using Akka.Actor;
using Akka.Hosting;
using Akka.Logger.Serilog;
using Akka.Pattern;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog;

// A bare Akka.Hosting service: 8 idle actors (root, 5 more, a BackoffSupervisor and its child) and Serilog to the
// console. Prints "READY <ms>" once the host has started, then idles until SIGTERM. Nothing else.
Log.Logger = new LoggerConfiguration().MinimumLevel.Information().WriteTo.Console().CreateLogger();

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddSerilog();
builder.Services.AddAkka("bare", akka =>
{
    akka.ConfigureLoggers(l =>
    {
        l.ClearLoggers();
        l.AddLogger<SerilogLogger>();
    });
    akka.WithActors((system, registry) =>
    {
        var root = system.ActorOf(Props.Create(() => new Idle()), "root");
        registry.Register<Idle>(root);
        for (var i = 0; i < 5; i++) system.ActorOf(Props.Create(() => new Idle()), $"idle-{i}");
        var backoff = Backoff.OnFailure(Props.Create(() => new Idle()), "child", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2, -1);
        system.ActorOf(BackoffSupervisor.Props(backoff), "supervised");
    });
});

using var host = builder.Build();
await host.StartAsync();
var sinceStart = DateTime.Now - Process.GetCurrentProcess().StartTime;
Console.WriteLine($"READY {sinceStart.TotalMilliseconds:0}");
await host.WaitForShutdownAsync();
await Log.CloseAndFlushAsync();

internal sealed class Idle : ReceiveActor
{
    public Idle() => ReceiveAny(_ => { });
}
