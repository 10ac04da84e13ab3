using System.Collections.Immutable;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using EqlActors.Configuration;
using EqlActors.Host.Linux;

namespace EqlActors.Tests.Fixtures;

/// <summary>
/// Two real OpenSSH servers on 127.0.0.1 (host_B and a jump host allowing TCP forwarding), each with its own
/// config and generated host key, and a throwaway local user <c>eqla-hostb-RANDOM</c> (keys only: UsePAM no,
/// password "*") with ed25519 and RSA keys authorised. Dispose stops both servers, kills and reaps
/// everything the user ran, deletes the user with its home and removes the temporary directory.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class SshdFixture : IDisposable
{
    public string User { get; } = $"eqla-hostb-{Guid.NewGuid().ToString("N")[..8]}";
    public string Home { get; private set; } = "";
    public int Uid { get; private set; }
    public int Gid { get; private set; }
    public TempDir Dir { get; } = new("eqla-sshd-");
    public Sshd Target { get; private set; } = null!;
    public Sshd Jump { get; private set; } = null!;
    public string KeyEd25519 => Dir.File("id_ed25519");
    public string KeyRsa => Dir.File("id_rsa");
    public string KeyWrong => Dir.File("id_wrong");
    private bool _userCreated;
    private string? _userClaim;

    public SshdFixture()
    {
        try
        {
            // Orphans of the servers' session processes come back here and are reaped by pid below.
            Native.prctl(Native.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
            if (!Directory.Exists("/run/sshd")) Directory.CreateDirectory("/run/sshd", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

            _userClaim = Janitor.Claim(Janitor.Kind.User, User);
            Run.Checked("useradd", "--create-home", "--shell", "/bin/sh", User);
            _userCreated = true;
            Run.Checked("usermod", "-p", "*", User); // no password, but not locked: sshd without PAM refuses locked accounts
            var entry = Run.Checked("getent", "passwd", User).Trim().Split(':');
            Uid = int.Parse(entry[2]);
            Gid = int.Parse(entry[3]);
            Home = entry[5];
            File.SetUnixFileMode(Home, (UnixFileMode)0b111_101_101);

            foreach (var (file, type) in new[] { (KeyEd25519, "ed25519"), (KeyRsa, "rsa"), (KeyWrong, "ed25519") })
            {
                var args = new List<string> { "ssh-keygen", "-q", "-t", type, "-N", "", "-C", "eqla-test", "-f", file };
                if (type == "rsa") args.InsertRange(4, ["-b", "2048"]);
                Run.Checked([.. args]);
            }
            var ssh = Path.Combine(Home, ".ssh");
            Directory.CreateDirectory(ssh);
            File.WriteAllText(Path.Combine(ssh, "authorized_keys"), File.ReadAllText(KeyEd25519 + ".pub") + File.ReadAllText(KeyRsa + ".pub"));
            Directory.CreateDirectory(Path.Combine(Home, "bin"));
            Chown(ssh, Path.Combine(ssh, "authorized_keys"), Path.Combine(Home, "bin"));
            File.SetUnixFileMode(ssh, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.SetUnixFileMode(Path.Combine(ssh, "authorized_keys"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

            Target = Sshd.Start(Dir, "target", User, forwarding: false);
            Jump = Sshd.Start(Dir, "jump", User, forwarding: true);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public void Chown(params string[] paths)
    {
        foreach (var p in paths) Run.Checked("chown", $"{User}:", p);
    }

    /// <summary>Installs an executable file in the user's home (relative path), owned by the user.</summary>
    public string Install(string relative, string content, UnixFileMode mode = (UnixFileMode)0b111_101_101)
    {
        var path = Path.Combine(Home, relative);
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, mode);
        Chown(path);
        return path;
    }

    /// <summary>A fresh known_hosts file holding the given lines.</summary>
    public string KnownHosts(params string[] lines)
    {
        var path = Dir.File($"known_hosts-{Guid.NewGuid():N}");
        File.WriteAllText(path, string.Concat(lines.Select(l => l + "\n")));
        return path;
    }

    /// <summary>A configuration reaching host_B directly, or through <paramref name="jumps"/> copies of the jump host.</summary>
    public BundleConfig Config(string knownHosts, string? identity = null, int jumps = 0, bool acceptNew = false, string slirp = "bin/slirp") => new()
    {
        Remote = new RemoteConfig
        {
            Account = new SshEndpoint(User, "127.0.0.1", Target.Port),
            JumpHosts = Enumerable.Repeat(new SshEndpoint(User, "127.0.0.1", Jump.Port), jumps).ToImmutableArray(),
            IdentityFile = identity ?? KeyEd25519,
            KnownHostsFile = knownHosts,
            AcceptNewHostKeys = acceptNew,
            SlirpCommand = slirp,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            KeepAliveInterval = TimeSpan.FromSeconds(5),
        },
    };

    /// <summary>known_hosts lines for both servers (the jump host is also 127.0.0.1, on its own port).</summary>
    public string[] BothHostLines() => [Target.KnownHostsLine, Jump.KnownHostsLine];

    public void Dispose()
    {
        Target?.Dispose();
        Jump?.Dispose();
        // sshd's per-connection processes outlive their parents and, this process being a child subreaper
        // (see LinuxPppProcesses), end up as its zombies. Both servers are reaped by now, so every zombie
        // child named sshd is one of those. Reaped through the ChildReaper, which leaves the runtime's own
        // children alone: another fixture's sshd server, a zombie for the moment between its exit and the
        // runtime's own waitpid, also matches, and a plain waitpid on it makes the runtime FailFast (ECHILD).
        var self = Environment.ProcessId;
        foreach (var z in ProcessTree.All().Where(p => p.IsZombie && p.ParentPid == self && Comm(p.Pid) == "sshd"))
            ChildReaper.Shared.Vouch(z.Pid);
        ChildReaper.Shared.Sweep();
        if (_userCreated)
        {
            var pids = ProcessTree.All().Where(p => ProcessUid(p.Pid) == Uid).Select(p => p.Pid).ToList();
            Run.Argv(["pkill", "-KILL", "-u", User]);
            Sshd.ReapWhenGone(pids);
            Run.Argv(["userdel", "--remove", "--force", User]);
        }
        Janitor.Release(_userClaim);
        Dir.Dispose();
    }

    private static string? Comm(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/comm").Trim(); }
        catch (IOException) { return null; }
    }

    private static int ProcessUid(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            return line is null ? -1 : int.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1]);
        }
        catch (IOException) { return -1; }
    }
}

/// <summary>One <c>sshd -D -e -f CONFIG</c> on 127.0.0.1 with its own host key.</summary>
[SupportedOSPlatform("linux")]
public sealed class Sshd : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private string? _claim;

    public int Port { get; }
    public string HostKeyPub { get; }
    public string KnownHostsLine { get; }
    public string Fingerprint { get; }

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    private Sshd(Process process, int port, string hostKeyPub)
    {
        _process = process;
        Port = port;
        HostKeyPub = hostKeyPub;
        var f = File.ReadAllText(hostKeyPub).Split(' ');
        KnownHostsLine = $"[127.0.0.1]:{port} {f[0]} {f[1].Trim()}";
        Fingerprint = Run.Checked("ssh-keygen", "-l", "-E", "sha256", "-f", hostKeyPub).Split(' ')[1];
    }

    public static Sshd Start(TempDir dir, string name, string user, bool forwarding)
    {
        var hostKey = dir.File($"{name}_host_ed25519");
        Run.Checked("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey);
        for (var attempt = 0; ; attempt++)
        {
            var port = LoopbackPorts.Unused();
            var config = dir.File($"{name}_sshd_config");
            File.WriteAllText(config, $"""
                Port {port}
                ListenAddress 127.0.0.1
                HostKey {hostKey}
                PidFile none
                UsePAM no
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PubkeyAuthentication yes
                AuthorizedKeysFile .ssh/authorized_keys
                StrictModes yes
                AllowUsers {user}
                AllowTcpForwarding {(forwarding ? "yes" : "no")}
                X11Forwarding no
                PrintMotd no
                Subsystem sftp internal-sftp
                LogLevel VERBOSE
                """);
            var claim = Janitor.Claim(Janitor.Kind.Sshd, config);
            var psi = new ProcessStartInfo("/usr/sbin/sshd") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { "-D", "-e", "-f", config }) psi.ArgumentList.Add(a);
            var p = Process.Start(psi)!;
            var sshd = new Sshd(p, port, hostKey + ".pub") { _claim = claim };
            p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (sshd._log) sshd._log.AppendLine(e.Data); };
            p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (sshd._log) sshd._log.AppendLine(e.Data); };
            p.BeginErrorReadLine();
            p.BeginOutputReadLine();
            if (WaitAccepting(port, p, TimeSpan.FromSeconds(15))) return sshd;
            var log = sshd.Log;
            sshd.Dispose();
            if (attempt >= 2) throw new InvalidOperationException($"sshd {name} did not start: {log}");
        }
    }


    /// <summary>Waits until the port accepts a connection (a condition, not a sleep), or sshd has died.</summary>
    private static bool WaitAccepting(int port, Process p, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout && !p.HasExited)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                Thread.Sleep(10);
            }
        }
        return false;
    }

    public void Dispose()
    {
        // Session processes first, while sshd still reaps them; then sshd; then any orphan that came back here.
        var children = ProcessTree.Chain(_process.Id).Where(m => m.Pid != _process.Id).Select(m => m.Pid).ToList();
        foreach (var c in children) Native.kill(c, Native.SIGKILL);
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(3) && !_process.HasExited && children.Any(c => ProcessTree.Stat(c) is not null))
            Thread.Sleep(10); // sshd reaps its own children
        if (!_process.HasExited)
        {
            Native.kill(_process.Id, Native.SIGTERM);
            if (!_process.WaitForExit(5000)) _process.Kill();
        }
        _process.WaitForExit();
        _process.Dispose();
        ReapWhenGone(children);
        Janitor.Release(_claim);
    }

    /// <summary>Waits (bounded) for the pids to end and reaps those that were reparented to this process.</summary>
    public static void ReapWhenGone(IEnumerable<int> pids)
    {
        var self = Environment.ProcessId;
        foreach (var pid in pids)
        {
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(5))
            {
                var s = ProcessTree.Stat(pid);
                if (s is null) break;
                // through the ChildReaper: the pid may have been reused by a child of the runtime's own
                if (s.IsZombie && s.ParentPid == self) { ChildReaper.Shared.Vouch(pid); ChildReaper.Shared.Sweep(); }
                Thread.Sleep(10);
            }
        }
    }
}
