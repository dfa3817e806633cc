using System.Buffers;
using FaceId.Common;
using FaceId.Contracts.Common.V1;

namespace FaceId.Metering.Application;

/// <summary>Shape checks of usage records; every violation is reported with its field path.</summary>
public sealed class UsageRecordValidator(TimeProvider time)
{
    /// <summary>Records may arrive this late (R-MET-4); older ones are rejected.</summary>
    public static readonly TimeSpan LateWindow = LateRecords.Window;
    /// <summary>Tolerated clock difference between the gateway and us.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);
    public const int MaxBatchSize = 5_000;

    public void Validate(UsageInput r, InputValidator v, string prefix)
    {
        v.Id(prefix + "request_id", r.RequestId).Id(prefix + "account_id", r.AccountId);
        if (string.IsNullOrEmpty(r.Label) == string.IsNullOrEmpty(r.Channel))
            v.Add(prefix + "label", "give exactly one of label or channel");
        if (r.Label.Length > FieldLimits.CatalogValue) v.Add(prefix + "label", $"must be at most {FieldLimits.CatalogValue} characters");
        if (r.Channel.Length > FieldLimits.CatalogValue) v.Add(prefix + "channel", $"must be at most {FieldLimits.CatalogValue} characters");
        if (!Enum.IsDefined(r.Library)) v.Add(prefix + "library", $"unknown value {(int)r.Library}");
        v.Enum(prefix + "access_mode", r.AccessMode);
        if (string.IsNullOrEmpty(r.ReturnCode)) v.Add(prefix + "return_code", "is required");
        else if (r.ReturnCode.Length > 64 || r.ReturnCode.AsSpan().ContainsAnyExcept(ReturnCodeChars))
            v.Add(prefix + "return_code", "must be 1..64 characters of letters, digits and . _ -");
        if (r.OccurredAt is not { } at)
        {
            v.Add(prefix + "occurred_at", "is required");
            return;
        }
        var now = time.GetUtcNow();
        if (at > now + ClockSkew) v.Add(prefix + "occurred_at", "is in the future");
        else if (at < now - LateWindow) v.Add(prefix + "occurred_at", $"is older than the {LateWindow.TotalDays:0}-day late window (R-MET-4)");
    }

    public void ValidateBatch(IReadOnlyList<UsageInput> records)
    {
        var v = new InputValidator();
        if (records.Count == 0) v.Add("records", "must not be empty");
        if (records.Count > MaxBatchSize) v.Add("records", $"at most {MaxBatchSize} records per batch");
        else
        {
            // Checked without field paths first (no strings built per valid record); an invalid
            // record is checked again with its path for the report.
            var scratch = new InputValidator();
            for (var i = 0; i < records.Count; i++)
            {
                Validate(records[i], scratch, "");
                if (scratch.IsValid) continue;
                Validate(records[i], v, $"records[{i}].");
                scratch = new InputValidator();
            }
        }
        v.ThrowIfInvalid();
    }

    private static readonly SearchValues<char> ReturnCodeChars = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
}
