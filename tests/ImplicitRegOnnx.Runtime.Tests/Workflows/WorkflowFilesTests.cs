using ImplicitRegOnnx.Runtime.Workflows;

namespace ImplicitRegOnnx.Runtime.Tests.Workflows;

public sealed class WorkflowFilesTests
{
    [Fact]
    public void One_line_joins_lines_and_shows_control_characters_instead_of_passing_them_to_the_terminal()
    {
        Assert.Equal("a b c", WorkflowFiles.OneLine("a\r\n  b\n\nc "));
        // A hostile tensor name with an ANSI escape (ESC [ 31 m) and a tab cannot recolour the terminal.
        Assert.Equal("loss on 'W \\u001b[31mred\\u0009x'", WorkflowFiles.OneLine("loss on 'W\n\u001b[31mred\tx'"));
        Assert.Equal("plain text stays as it is: é, λ, ∇", WorkflowFiles.OneLine("plain text stays as it is: é, λ, ∇"));
    }
}
