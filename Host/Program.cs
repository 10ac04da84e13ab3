using System.CommandLine;
using EqlActors.Host.Cli;
using EqlActors.Host.Hosting;

// ProcessTerminationTimeout = null: System.CommandLine must not handle SIGINT/SIGTERM itself; `run`'s generic host
// does (graceful teardown of the bundle), and the client verbs are fine with the default signal behaviour.
// EqlActorsCli.InvokeAsync turns a usage error into one line and exit 2.
StartClock.Begin();
// run: its configuration and logger code compiled on a second thread while this one parses the command line.
StartWarmUp.Begin(args);
return await EqlActorsCli.InvokeAsync(args, new InvocationConfiguration { ProcessTerminationTimeout = null });
