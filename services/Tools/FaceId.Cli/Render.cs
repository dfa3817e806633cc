using System.Globalization;
using System.Reflection;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FaceId.Cli;

/// <summary>Tables and value formatting: money in CNY from integer fen, instants in Shanghai time, enums by their short proto name.</summary>
public static class Render
{
    public static readonly TimeSpan Shanghai = TimeSpan.FromHours(8);

    /// <summary>
    /// A table with the given column headers; a header starting with <c>&gt;</c> is a right-aligned
    /// (numeric) column. Every cell is plain text (never markup).
    /// </summary>
    public static Table Table(params string[] headers)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var header in headers)
        {
            var numeric = header.StartsWith('>');
            var column = new TableColumn(new Text(numeric ? header[1..] : header, new Style(decoration: Decoration.Bold)));
            if (numeric) column.RightAligned();
            table.AddColumn(column);
        }
        return table;
    }

    public static Table Row(this Table table, params object?[] cells)
    {
        table.AddRow(cells.Select(c => (IRenderable)new Text(Cell(c))).ToArray());
        return table;
    }

    /// <summary>A two-column field/value view of one resource.</summary>
    public static Table Fields(IEnumerable<(string Field, object? Value)> fields)
    {
        var table = new Table().Border(TableBorder.Rounded).HideHeaders();
        table.AddColumn(new TableColumn("field"));
        table.AddColumn(new TableColumn("value"));
        foreach (var (field, value) in fields)
            table.AddRow(new Text(field, new Style(decoration: Decoration.Bold)), new Text(Cell(value)));
        return table;
    }

    public static string Cell(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "yes" : "no",
        Timestamp t => Time(t),
        System.Enum e => Enum(e),
        long or int => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>Integer fen as yuan with two decimals (no floating point): 120 → "1.20".</summary>
    public static string Money(long fen)
    {
        var sign = fen < 0 ? "-" : "";
        var abs = fen < 0 ? -(decimal)fen : fen;
        var yuan = decimal.Truncate(abs / 100);
        var rest = abs - yuan * 100;
        return string.Create(CultureInfo.InvariantCulture, $"{sign}{yuan:#,0}.{rest:00}");
    }

    /// <summary>A review's age as Onboarding answers it, against the target: "2 of 3", "4 of 3 (overdue)".</summary>
    public static string ReviewAge(int workingDays, bool overdue) =>
        $"{workingDays} of {FaceId.Common.ReviewSla.TargetWorkingDays}{(overdue ? " (overdue)" : "")}";

    /// <summary>An instant in China Standard Time: "2026-11-26 10:15:00"; empty when unset.</summary>
    public static string Time(Timestamp? t) =>
        t is null ? "" : t.ToDateTimeOffset().ToOffset(Shanghai).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>The proto value name without the enum's prefix: <c>CHARGE_KIND_PACKAGE</c> → <c>PACKAGE</c>; "" for UNSPECIFIED.</summary>
    public static string Enum(System.Enum value)
    {
        var type = value.GetType();
        var name = OriginalName(type, value.ToString());
        if (name is null) return Convert.ToInt32(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
        var zero = OriginalName(type, System.Enum.GetName(type, 0) ?? "") ?? "";
        var prefix = zero.EndsWith("UNSPECIFIED", StringComparison.Ordinal) ? zero[..^"UNSPECIFIED".Length] : "";
        var shortName = name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : name;
        return shortName == "UNSPECIFIED" ? "" : shortName;
    }

    private static string? OriginalName(System.Type type, string member) =>
        type.GetField(member, BindingFlags.Public | BindingFlags.Static)?.GetCustomAttribute<OriginalNameAttribute>()?.Name;
}
