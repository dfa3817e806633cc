using System.Globalization;
using System.Text;

namespace FaceId.LoadGen;

/// <summary>
/// The open-loop latency curve as a self-contained SVG (no plotting library, nothing downloaded):
/// p99 (solid) and p50 (dashed) against the offered rate for Ping, RecordUsage and the Redis floor.
/// </summary>
public static class LatencyPlot
{
    public static string Svg(IReadOnlyList<(double Rate, double PingP99, double UnaryP99, double FloorP99, double PingP50, double UnaryP50, double FloorP50)> points)
    {
        const double W = 640, H = 400, L = 70, R = 170, T = 40, B = 50;
        var maxRate = Math.Max(1, points.Select(p => p.Rate).DefaultIfEmpty(1).Max()) * 1.05;
        var maxMs = Nice(points.SelectMany(p => new[] { p.PingP99, p.UnaryP99, p.FloorP99 }).Where(v => !double.IsNaN(v)).DefaultIfEmpty(1).Max() * 1.1);
        double X(double rate) => L + (W - L - R) * rate / maxRate;
        double Y(double ms) => H - B - (H - T - B) * ms / maxMs;
        var ci = CultureInfo.InvariantCulture;
        var svg = new StringBuilder();
        svg.AppendLine(string.Create(ci, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">"));
        svg.AppendLine("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        svg.AppendLine(string.Create(ci, $"<text x=\"{L}\" y=\"22\" font-size=\"14\">Open-loop latency (from intended send time) vs offered rate</text>"));
        for (var i = 0; i <= 5; i++)
        {
            var ms = maxMs * i / 5;
            svg.AppendLine(string.Create(ci, $"<line x1=\"{L}\" y1=\"{Y(ms):F1}\" x2=\"{W - R}\" y2=\"{Y(ms):F1}\" stroke=\"#ddd\"/><text x=\"{L - 6}\" y=\"{Y(ms) + 4:F1}\" text-anchor=\"end\">{ms:0.##}</text>"));
        }
        foreach (var p in points)
            svg.AppendLine(string.Create(ci, $"<text x=\"{X(p.Rate):F1}\" y=\"{H - B + 18}\" text-anchor=\"middle\">{p.Rate:N0}</text>"));
        svg.AppendLine(string.Create(ci, $"<line x1=\"{L}\" y1=\"{H - B}\" x2=\"{W - R}\" y2=\"{H - B}\" stroke=\"black\"/><line x1=\"{L}\" y1=\"{T}\" x2=\"{L}\" y2=\"{H - B}\" stroke=\"black\"/>"));
        svg.AppendLine(string.Create(ci, $"<text x=\"{(L + W - R) / 2}\" y=\"{H - 12}\" text-anchor=\"middle\">offered rate, calls/s (25 / 50 / 75 % of RecordUsage's maximum)</text>"));
        svg.AppendLine(string.Create(ci, $"<text transform=\"translate(18 {(T + H - B) / 2}) rotate(-90)\" text-anchor=\"middle\">latency, ms</text>"));
        var series = new (string Name, string Color, Func<(double, double, double, double, double, double, double), double> P99, Func<(double, double, double, double, double, double, double), double> P50)[]
        {
            ("RecordUsage", "#d62728", p => p.Item3, p => p.Item6),
            ("Ping", "#1f77b4", p => p.Item2, p => p.Item5),
            ("Redis floor", "#2ca02c", p => p.Item4, p => p.Item7),
        };
        var legendY = T + 10.0;
        foreach (var (name, color, p99, p50) in series)
        {
            foreach (var (pick, dash, label) in new[] { (p99, "", "p99"), (p50, " stroke-dasharray=\"5 4\"", "p50") })
            {
                var pts = points.Where(p => !double.IsNaN(pick(p))).Select(p => string.Create(ci, $"{X(p.Rate):F1},{Y(pick(p)):F1}")).ToList();
                if (pts.Count == 0) continue;
                svg.AppendLine($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{dash} points=\"{string.Join(' ', pts)}\"/>");
                foreach (var xy in pts.Select(s => s.Split(',')))
                    svg.AppendLine($"<circle cx=\"{xy[0]}\" cy=\"{xy[1]}\" r=\"3\" fill=\"{color}\"/>");
                svg.AppendLine(string.Create(ci, $"<line x1=\"{W - R + 15}\" y1=\"{legendY}\" x2=\"{W - R + 45}\" y2=\"{legendY}\" stroke=\"{color}\" stroke-width=\"2\"{dash}/><text x=\"{W - R + 50}\" y=\"{legendY + 4}\">{name} {label}</text>"));
                legendY += 18;
            }
        }
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    /// <summary>A round axis maximum (1, 2 or 5 × a power of ten).</summary>
    private static double Nice(double v)
    {
        var p = Math.Pow(10, Math.Floor(Math.Log10(Math.Max(v, 1e-3))));
        return new[] { 1, 2, 5, 10 }.Select(m => m * p).First(m => m >= v);
    }
}
