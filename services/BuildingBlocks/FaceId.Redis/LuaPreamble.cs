using System.Globalization;
using System.Text;

namespace FaceId.Redis;

/// <summary>
/// Lua constants generated from their one C# source, put before a script when it is loaded
/// (the preamble argument of <see cref="RedisScript"/>'s loader),
/// so no number, status character or stored format is written in both languages.
/// </summary>
public static class LuaPreamble
{
    /// <summary><c>local A, B = 1, 'x'</c> and a newline; strings are quoted as Lua long-bracket-free literals.</summary>
    public static string Of(params (string Name, object Value)[] constants)
    {
        if (constants.Length == 0) return "";
        var text = new StringBuilder("local ");
        text.AppendJoin(", ", constants.Select(c => c.Name)).Append(" = ");
        text.AppendJoin(", ", constants.Select(c => Literal(c.Value))).Append('\n');
        return text.ToString();
    }

    private static string Literal(object value) => value switch
    {
        string s => "'" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'",
        char c => Literal(c.ToString()),
        bool b => b ? "true" : "false",
        TimeSpan t => ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"No Lua literal for {value.GetType().Name}.", nameof(value)),
    };
}
