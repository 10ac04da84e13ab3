using System.CommandLine;
using EqlActors.Host.Cli;

// ProcessTerminationTimeout = null: System.CommandLine must not handle SIGINT/SIGTERM itself; `run`'s generic host
// does (graceful teardown of the bundle), and the client verbs are fine with the default signal behaviour.
return await EqlActorsCli.Build().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
