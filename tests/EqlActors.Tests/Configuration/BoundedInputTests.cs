using System.Runtime.Versioning;
using EqlActors.Tests.Fixtures;
using static EqlActors.Tests.Configuration.ConfigTestSupport;

namespace EqlActors.Tests.Configuration;

/// <summary>Config and rc files are regular files of at most 1 MiB: devices, FIFOs and huge files are refused unread.</summary>
[SupportedOSPlatform("linux")]
public sealed class BoundedInputTests : IDisposable
{
    private readonly TempDir _dir = new("eqla-bounded-");

    public void Dispose() => _dir.Dispose();

    private string Make(string kind)
    {
        var path = Path.Combine(_dir.Path, kind);
        switch (kind)
        {
            case "dev-zero": return "/dev/zero";
            case "dev-null": return "/dev/null";
            case "fifo": Fixtures.Run.Checked("mkfifo", path); break;
            case "directory": Directory.CreateDirectory(path); break;
            case "huge":
                // 2 MiB of one JSON string value: the whole value must not be echoed either.
                File.WriteAllText(path, "{ \"remote\": { \"account\": \"" + new string('a', 2 << 20) + "\" } }");
                break;
        }
        return path;
    }

    [Theory]
    [InlineData("dev-zero", "not a regular file")]
    [InlineData("dev-null", "not a regular file")]
    [InlineData("fifo", "not a regular file")]
    [InlineData("directory", "directory")]
    [InlineData("huge", "too large")]
    public async Task Config_validate_refuses_it_in_one_line(string kind, string expected)
    {
        var path = Make(kind);
        var run = Run("config", "validate", "-c", path);
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60))) == run, "config validate hung on " + kind);
        var (exit, _, err) = await run;
        Assert.Equal(2, exit);
        Assert.Contains(expected, err);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.True(err.Length < 400, err.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("dev-zero", "not a regular file")]
    [InlineData("fifo", "not a regular file")]
    [InlineData("huge", "too large")]
    public async Task Import_rc_refuses_it_in_one_line(string kind, string expected)
    {
        var path = Make(kind);
        var run = Run("config", "import-rc", path);
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60))) == run, "import-rc hung on " + kind);
        var (exit, output, err) = await run;
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Contains(expected, err);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void A_file_of_exactly_the_limit_is_read_and_one_byte_more_is_not()
    {
        var ok = Path.Combine(_dir.Path, "ok");
        File.WriteAllBytes(ok, new byte[Host.Linux.BoundedFile.MaxBytes]);
        Assert.Equal(Host.Linux.BoundedFile.MaxBytes, Host.Linux.BoundedFile.ReadAllBytes(ok).Length);
        File.AppendAllText(ok, "x");
        Assert.Throws<Host.Linux.BoundedFileException>(() => Host.Linux.BoundedFile.ReadAllBytes(ok));
    }
}
