using EqlActors.Host.Linux;

namespace EqlActors.Tests.Linux;

public sealed class WaitStatusTests
{
    [Theory]
    [InlineData(0, "exited with status 0")]
    [InlineData(255 << 8, "exited with status 255")]
    [InlineData(1, "killed by signal 1 (SIGHUP)")]
    [InlineData(13, "killed by signal 13 (SIGPIPE)")]
    [InlineData(15, "killed by signal 15 (SIGTERM)")]
    [InlineData(0x80 | 11, "killed by signal 11 (SIGSEGV), core dumped")]
    [InlineData(31, "killed by signal 31")]
    public void A_wait_status_reads_as_how_the_child_ended(int status, string words) =>
        Assert.Equal(words, WaitStatus.Describe(status));
}
