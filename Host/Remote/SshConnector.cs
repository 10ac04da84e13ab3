using System.Net.Sockets;
using EqlActors.Configuration;
using EqlActors.Ports;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace EqlActors.Host.Remote;

/// <summary>
/// An SSH.NET connection to host_B through the configured jump hosts: one client per hop, each hop
/// forwarding a local port (127.0.0.1:0) to the next. Every hop's host key is checked against the
/// known_hosts file under the name the operator knows it by (not 127.0.0.1), with the same private key.
/// </summary>
public sealed class SshSession : IDisposable
{
    private readonly List<BaseClient> _clients = [];
    private SshClient? _exec;
    private readonly RemoteConfig _config;
    private readonly IPrivateKeySource _key;
    private readonly string _connectHost;
    private readonly int _connectPort;

    private SshSession(RemoteConfig config, IPrivateKeySource key, List<BaseClient> hops, string connectHost, int connectPort)
    {
        _config = config;
        _key = key;
        _clients.AddRange(hops);
        _connectHost = connectHost;
        _connectPort = connectPort;
    }

    /// <summary>Connects through every jump host; the returned session opens exec and SFTP channels on host_B.</summary>
    public static Task<SshSession> ConnectAsync(RemoteConfig config, CancellationToken ct = default) => ConnectAsync(config, null, ct);

    /// <summary>As <see cref="ConnectAsync(RemoteConfig, CancellationToken)"/>, telling <paramref name="hopConnected"/> about each jump host once it accepted us (the doctor reports hop by hop).</summary>
    public static async Task<SshSession> ConnectAsync(RemoteConfig config, Action<SshEndpoint>? hopConnected, CancellationToken ct)
    {
        var key = LoadKey(config.IdentityFile);
        var hops = new List<BaseClient>();
        try
        {
            string host = "", connectHost = "";
            var port = 0;
            var first = true;
            foreach (var hop in config.JumpHosts.IsDefault ? [] : config.JumpHosts)
            {
                var (h, p) = first ? (hop.Host, hop.Port) : (host, port);
                var client = new SshClient(Info(config, key, h, p, hop));
                Verify(client, config, hop);
                await ConnectClientAsync(client, config, hop, ct).ConfigureAwait(false);
                hops.Add(client);
                hopConnected?.Invoke(hop);
                var next = hops.Count < config.JumpHosts.Length ? config.JumpHosts[hops.Count] : config.Account;
                var forward = new ForwardedPortLocal("127.0.0.1", 0, next.Host, (uint)next.Port);
                client.AddForwardedPort(forward);
                forward.Start();
                (host, port) = ("127.0.0.1", (int)forward.BoundPort);
                first = false;
            }
            connectHost = first ? config.Account.Host : host;
            var connectPort = first ? config.Account.Port : port;
            return new SshSession(config, key, hops, connectHost, connectPort);
        }
        catch
        {
            foreach (var c in hops) c.Dispose();
            (key as IDisposable)?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Where host_B's ssh port is reached from this host: the last jump host's forward on 127.0.0.1, or host_B itself
    /// without jump hosts.
    /// </summary>
    public (string Host, int Port) Target => (_connectHost, _connectPort);

    /// <summary>Whether every jump host's connection is still up (a forward over a lost one cannot reach anything).</summary>
    public bool IsConnected => _clients.All(c => c.IsConnected);

    /// <summary>Runs one command on host_B; returns exit status, stdout and stderr.</summary>
    /// <param name="stdin">Written to the command's standard input, then closed: how a secret reaches host_B without a command line.</param>
    public async Task<(int ExitStatus, string Stdout, string Stderr)> RunAsync(string command, TimeSpan timeout, CancellationToken ct = default, string? stdin = null)
    {
        // One exec client per session: each connect is a key exchange, seconds in a slow guest.
        var client = _exec is { IsConnected: true } open ? open : _exec = await OpenAsync(info => new SshClient(info), ct).ConfigureAwait(false);
        using var cmd = client.CreateCommand(command);
        cmd.CommandTimeout = timeout;
        try
        {
            var running = cmd.ExecuteAsync(ct);
            if (stdin is not null)
            {
                using var input = cmd.CreateInputStream();
                await input.WriteAsync(System.Text.Encoding.UTF8.GetBytes(stdin), ct).ConfigureAwait(false);
            }
            await running.ConfigureAwait(false);
        }
        catch (SshOperationTimeoutException e)
        {
            throw new PortException($"command on {_config.Account} timed out after {timeout.TotalSeconds:0} s", FailureKind.Transient, e);
        }
        catch (SshConnectionException e)
        {
            throw new PortException($"connection to {_config.Account} lost: {e.Message}", FailureKind.Transient, e);
        }
        return (cmd.ExitStatus ?? -1, cmd.Result, cmd.Error);
    }

    /// <summary>An SFTP client on host_B, owned by this session.</summary>
    public Task<SftpClient> SftpAsync(CancellationToken ct = default) => OpenAsync(info => new SftpClient(info), ct);

    private async Task<T> OpenAsync<T>(Func<ConnectionInfo, T> factory, CancellationToken ct) where T : BaseClient
    {
        var client = factory(Info(_config, _key, _connectHost, _connectPort, _config.Account));
        Verify(client, _config, _config.Account);
        try
        {
            await ConnectClientAsync(client, _config, _config.Account, ct).ConfigureAwait(false);
        }
        catch
        {
            client.Dispose();
            throw;
        }
        _clients.Add(client);
        return client;
    }

    private static ConnectionInfo Info(RemoteConfig config, IPrivateKeySource key, string host, int port, SshEndpoint logical) =>
        new(host, port, logical.User, new PrivateKeyAuthenticationMethod(logical.User, key)) { Timeout = config.ConnectTimeout };

    private static IPrivateKeySource LoadKey(string path)
    {
        try
        {
            return new PrivateKeyFile(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new PortException($"identity file {path} does not exist", FailureKind.Permanent, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new PortException($"identity file {path} cannot be read: {e.Message}", FailureKind.Permanent, e);
        }
        catch (SshException e)
        {
            throw new PortException($"identity file {path} is not a usable private key (passphrase-protected or unsupported): {e.Message}", FailureKind.Permanent, e);
        }
    }

    /// <summary>Records the host-key verdict on the client so that a refused key gives a clear message.</summary>
    private static void Verify(BaseClient client, RemoteConfig config, SshEndpoint logical)
    {
        client.HostKeyReceived += (_, e) =>
        {
            var blob = e.HostKey;
            var verdict = KnownHosts.Check(config.KnownHostsFile, logical.Host, logical.Port, blob);
            if (verdict == HostKeyVerdict.Unknown && config.AcceptNewHostKeys)
            {
                KnownHosts.Append(config.KnownHostsFile, logical.Host, logical.Port, blob);
                verdict = HostKeyVerdict.Trusted;
            }
            e.CanTrust = verdict == HostKeyVerdict.Trusted;
            Verdicts.AddOrUpdate(client, new HostKeyRefusal(verdict, KnownHosts.KeyType(blob), KnownHosts.Fingerprint(blob)));
        };
    }

    private sealed record HostKeyRefusal(HostKeyVerdict Verdict, string Type, string Fingerprint);

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<BaseClient, HostKeyRefusal> Verdicts = new();

    private static async Task ConnectClientAsync(BaseClient client, RemoteConfig config, SshEndpoint logical, CancellationToken ct)
    {
        client.KeepAliveInterval = config.KeepAliveInterval;
        try
        {
            await client.ConnectAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Classify(e, client, config, logical);
        }
    }

    private static PortException Classify(Exception e, BaseClient client, RemoteConfig config, SshEndpoint logical)
    {
        var name = KnownHosts.HostName(logical.Host, logical.Port);
        if (Verdicts.TryGetValue(client, out var v) && v.Verdict != HostKeyVerdict.Trusted)
        {
            var text = v.Verdict switch
            {
                HostKeyVerdict.Changed => $"host key of {name} has CHANGED: it now presents {v.Type} {v.Fingerprint}, which does not match {config.KnownHostsFile}. " +
                    "Refusing to connect (possible man-in-the-middle); if the host was really re-keyed, replace its line in known_hosts",
                HostKeyVerdict.Revoked => $"host key of {name} ({v.Type} {v.Fingerprint}) is marked @revoked in {config.KnownHostsFile}: refusing to connect",
                _ => $"host key of {name} ({v.Type} {v.Fingerprint}) is not in {config.KnownHostsFile}: refusing to connect to an unknown host. " +
                    "Verify the fingerprint and add it, or set AcceptNewHostKeys to trust it on first use",
            };
            return new PortException(text, FailureKind.Permanent, e);
        }
        return e switch
        {
            SshAuthenticationException => new PortException(
                $"authentication as {logical.User} on {name} refused: the key {config.IdentityFile} is not accepted ({e.Message})", FailureKind.Permanent, e),
            SocketException s => new PortException($"cannot reach {name}: {s.Message}", FailureKind.Transient, e),
            SshOperationTimeoutException => new PortException($"connecting to {name} timed out after {config.ConnectTimeout.TotalSeconds:0} s", FailureKind.Transient, e),
            SshConnectionException => new PortException($"ssh connection to {name} failed: {e.Message}", FailureKind.Transient, e),
            ProxyException => new PortException($"cannot reach {name} through the jump hosts: {e.Message}", FailureKind.Transient, e),
            SshException => new PortException($"ssh to {name} failed: {e.Message}", FailureKind.Transient, e),
            IOException => new PortException($"ssh to {name} failed: {e.Message}", FailureKind.Transient, e),
            _ => new PortException($"ssh to {name} failed: {e.Message}", FailureKind.Transient, e),
        };
    }

    public void Dispose()
    {
        // Innermost first: host_B's channels, then the hops from the last to the first.
        for (var i = _clients.Count - 1; i >= 0; i--)
        {
            try { _clients[i].Dispose(); } catch (Exception) { /* closing anyway */ }
        }
        _clients.Clear();
        // The key holds its algorithm objects (native memory over OpenSSL for RSA): released now, not by a
        // finalizer after a full GC that an idle daemon seldom runs.
        (_key as IDisposable)?.Dispose();
    }
}
