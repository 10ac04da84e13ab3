using System.Security.Cryptography;
using System.Text;
using EqlActors.Host.Remote;
using EqlActors.Tests.Fixtures;

namespace EqlActors.Tests.Remote;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class KnownHostsTests : IDisposable
{
    private readonly TempDir _dir = new("eqla-kh-");
    private static readonly byte[] KeyA = Blob("ssh-ed25519", 1);
    private static readonly byte[] KeyB = Blob("ssh-ed25519", 2);
    private static readonly byte[] RsaKey = Blob("ssh-rsa", 3);

    public void Dispose() => _dir.Dispose();

    private static byte[] Blob(string type, byte fill)
    {
        var t = Encoding.ASCII.GetBytes(type);
        var b = new byte[4 + t.Length + 4 + 32];
        b[3] = (byte)t.Length;
        t.CopyTo(b, 4);
        b[4 + t.Length + 3] = 32;
        b.AsSpan(8 + t.Length).Fill(fill);
        return b;
    }

    private string File(params string[] lines)
    {
        var p = _dir.File(Guid.NewGuid().ToString("N"));
        System.IO.File.WriteAllLines(p, lines);
        return p;
    }

    private static string Line(string hosts, byte[] key) => $"{hosts} {KnownHosts.KeyType(key)} {Convert.ToBase64String(key)}";

    [Fact]
    public void Plain_bracketed_wildcard_and_negated_patterns()
    {
        var f = File("# comment", "", Line("fw.example,10.1.1.1", KeyA), Line("[hostb]:2222", KeyA), Line("*.lan,!bad.lan", KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, KnownHosts.Check(f, "fw.example", 22, KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, KnownHosts.Check(f, "FW.example", 22, KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, KnownHosts.Check(f, "hostb", 2222, KeyA));
        Assert.Equal(HostKeyVerdict.Unknown, KnownHosts.Check(f, "hostb", 22, KeyA)); // port 22 is written without brackets
        Assert.Equal(HostKeyVerdict.Trusted, KnownHosts.Check(f, "a.lan", 22, KeyA));
        Assert.Equal(HostKeyVerdict.Unknown, KnownHosts.Check(f, "bad.lan", 22, KeyA));
        Assert.Equal(HostKeyVerdict.Changed, KnownHosts.Check(f, "fw.example", 22, KeyB));
        Assert.Equal(HostKeyVerdict.Unknown, KnownHosts.Check(f, "fw.example", 22, RsaKey)); // no rsa key known: not a change
        Assert.Equal(HostKeyVerdict.Unknown, KnownHosts.Check(_dir.File("missing"), "fw.example", 22, KeyA));
    }

    [Fact]
    public void Hashed_entries_match_by_hmac_sha1_of_the_name()
    {
        var salt = RandomNumberGenerator.GetBytes(20);
        var hash = HMACSHA1.HashData(salt, Encoding.ASCII.GetBytes("[127.0.0.1]:2022"));
        var f = File(Line($"|1|{Convert.ToBase64String(salt)}|{Convert.ToBase64String(hash)}", KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, KnownHosts.Check(f, "127.0.0.1", 2022, KeyA));
        Assert.Equal(HostKeyVerdict.Changed, KnownHosts.Check(f, "127.0.0.1", 2022, KeyB));
        Assert.Equal(HostKeyVerdict.Unknown, KnownHosts.Check(f, "127.0.0.1", 2023, KeyA));
    }

    [Fact]
    public void Revoked_keys_are_refused_and_appended_keys_are_trusted()
    {
        var f = File("@revoked * " + Line("", KeyB).TrimStart(), "@cert-authority *.lan " + Line("", KeyA).TrimStart());
        Assert.Equal(HostKeyVerdict.Revoked, KnownHosts.Check(f, "anything", 22, KeyB));
        Assert.Equal(HostKeyVerdict.Unknown, KnownHosts.Check(f, "a.lan", 22, KeyA)); // CA lines are not host keys

        KnownHosts.Append(f, "127.0.0.1", 2022, KeyA);
        Assert.Equal(HostKeyVerdict.Trusted, KnownHosts.Check(f, "127.0.0.1", 2022, KeyA));
        Assert.EndsWith($"[127.0.0.1]:2022 ssh-ed25519 {Convert.ToBase64String(KeyA)}\n", System.IO.File.ReadAllText(f));
    }

    [Fact]
    public void Fingerprint_is_openssh_sha256()
    {
        Assert.Equal("SHA256:" + Convert.ToBase64String(SHA256.HashData(KeyA)).TrimEnd('='), KnownHosts.Fingerprint(KeyA));
        Assert.DoesNotContain("=", KnownHosts.Fingerprint(KeyA));
    }
}
