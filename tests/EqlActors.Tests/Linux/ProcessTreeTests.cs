using EqlActors.Host.Linux;

namespace EqlActors.Tests.Linux;

public sealed class ProcessTreeTests
{
    [Theory]
    [InlineData("4242 (ssh) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 99 0 0", "ssh", 1, 4242, 99UL)]
    // comm may hold spaces and parentheses: the last ')' ends it
    [InlineData("77 (a) b (c)) R 5 6 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0", "a) b (c)", 5, 7, 12345UL)]
    public void A_stat_line_gives_the_command_name_with_the_fields_after_it(string line, string comm, int parent, int session, ulong start)
    {
        var stat = ProcessTree.Parse(line)!;
        Assert.Equal((comm, parent, session, start), (stat.Comm, stat.ParentPid, stat.Session, stat.StartTime));
    }

    [Fact]
    public void This_process_s_own_stat_names_it_as_its_comm_file_does()
    {
        var pid = Environment.ProcessId;
        var comm = File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n');
        Assert.Equal(comm, ProcessTree.Stat(pid)!.Comm);
    }
}
