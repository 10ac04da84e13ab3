using EqlActors.Configuration;
using EqlActors.Host.Remote;

namespace EqlActors.Host.Doctor.Checks;

/// <summary>
/// The private key ssh and SSH.NET log in with: present, a regular file owned by the user who runs the service,
/// no group/other bits (0600 or 0400: ssh refuses "UNPROTECTED PRIVATE KEY FILE"), usable without a passphrase
/// (<c>ssh-keygen -y -P ''</c>), and its public part (<c>.pub</c>) present and matching.
/// </summary>
public sealed class IdentityCheck : IDoctorCheck
{
    public async Task<IReadOnlyList<CheckResult>> RunAsync(DoctorContext c, CancellationToken ct)
    {
        const string id = "ssh.identity", title = "ssh identity file";
        var key = c.Config.Remote.IdentityFile;
        var uid = c.Local.EffectiveUid;
        var create = $"ssh-keygen -t ed25519 -N '' -f {key}, then append {key}.pub to ~/.ssh/authorized_keys on every jump host and on host_B";
        var facts = await c.Local.StatAsync(key, ct).ConfigureAwait(false);
        if (facts is null) return [CheckResult.Fail(id, title, $"{key} does not exist (remote.identityFile)", create)];
        if (!facts.IsRegular) return [CheckResult.Fail(id, title, $"{key} is not a regular file", create)];
        if (facts.Uid != uid)
            return [CheckResult.Fail(id, title, $"{key} is owned by uid {facts.Uid}, not by uid {uid} who runs eqlactors", $"chown {uid} {key}")];
        const UnixFileMode groupOther = (UnixFileMode)0b000_111_111;
        if ((facts.Mode & groupOther) != 0)
            return [CheckResult.Fail(id, title, $"{key} has mode {Octal(facts.Mode)}: group or others may read it, ssh refuses such a key", $"chmod 600 {key}")];

        var derived = await c.Local.RunAsync(["ssh-keygen", "-y", "-P", "", "-f", key], ct).ConfigureAwait(false);
        if (derived is { ExitCode: not 0 })
            return [CheckResult.Fail(id, title, $"{key} is not a private key usable without a passphrase ({derived.Message})",
                "pppd's ssh runs unattended (BatchMode=yes): use a key without a passphrase, e.g. " + create)];
        var results = new List<CheckResult> { CheckResult.Ok(id, title, $"{key}, mode {Octal(facts.Mode)}, owned by uid {uid}") };

        const string pubId = "ssh.identity.pub", pubTitle = "ssh public key";
        var pub = key + ".pub";
        var regenerate = $"ssh-keygen -y -f {key} > {pub}";
        if (!File.Exists(pub))
            results.Add(CheckResult.Warn(pubId, pubTitle, $"{pub} is missing (ssh does not need it; authorized_keys on each hop does)", regenerate));
        else if (derived is null)
            results.Add(CheckResult.Ok(pubId, pubTitle, $"{pub} present (not compared: ssh-keygen not found)"));
        else if (!SameKey(File.ReadAllText(pub), derived.Stdout))
            results.Add(CheckResult.Warn(pubId, pubTitle, $"{pub} is not the public part of {key}: authorized_keys may hold the wrong key", regenerate));
        else results.Add(CheckResult.Ok(pubId, pubTitle, $"{pub} matches {key}"));
        return results;
    }

    private static bool SameKey(string a, string b)
    {
        static string[] Words(string s) => s.Trim().Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var (x, y) = (Words(a), Words(b));
        return x.Length >= 2 && y.Length >= 2 && x[0] == y[0] && x[1] == y[1];
    }

    private static string Octal(UnixFileMode m) => "0" + Convert.ToString((int)m & 0xFFF, 8);
}

/// <summary>known_hosts holds a key for each jump host and host_B, under the names the operator configured.</summary>
public sealed class KnownHostsCheck : IDoctorCheck
{
    public Task<IReadOnlyList<CheckResult>> RunAsync(DoctorContext c, CancellationToken ct)
    {
        const string id = "ssh.known_hosts", title = "known_hosts";
        var r = c.Config.Remote;
        var file = r.KnownHostsFile;
        var hosts = (r.JumpHosts.IsDefault ? [] : r.JumpHosts).Append(r.Account).ToList();
        var missing = hosts.Where(h => KnownHosts.KeyTypesFor(file, h.Host, h.Port).Count == 0).ToList();
        IReadOnlyList<CheckResult> result;
        if (missing.Count == 0)
            result = [CheckResult.Ok(id, title, $"{file} holds " + string.Join(", ",
                hosts.Select(h => $"{KnownHosts.HostName(h.Host, h.Port)} ({string.Join(",", KnownHosts.KeyTypesFor(file, h.Host, h.Port).Distinct())})")))];
        else
        {
            var names = string.Join(", ", missing.Select(h => KnownHosts.HostName(h.Host, h.Port)));
            var detail = File.Exists(file) ? $"{file} has no key for {names}" : $"{file} does not exist: no key for {names}";
            var fix = $"get each key from a path you trust and compare its fingerprint with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub there), " +
                      $"then add it: {(missing.Count == 1 ? KeyScan(missing[0]) : "(" + string.Join("; ", missing.Select(KeyScan)) + ")")} >> {file}";
            result = [r.AcceptNewHostKeys
                ? CheckResult.Warn(id, title, detail + " (remote.acceptNewHostKeys=true: trusted on first use)", fix)
                : CheckResult.Fail(id, title, detail + ": an unknown host key is refused", fix + "; or set remote.acceptNewHostKeys=true to trust on first use")];
        }
        return Task.FromResult(result);
    }

    private static string KeyScan(SshEndpoint h) => h.Port == 22 ? $"ssh-keyscan {h.Host}" : $"ssh-keyscan -p {h.Port} {h.Host}";
}
