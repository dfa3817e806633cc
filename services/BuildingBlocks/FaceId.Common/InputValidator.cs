using System.Buffers;

namespace FaceId.Common;

/// <summary>
/// Collects every field violation of a request, then throws them together, so a client
/// learns all that is wrong in one round trip. Field paths use the proto field names.
/// </summary>
public sealed class InputValidator
{
    public const int MaxIdLength = 128;
    private readonly List<FieldViolation> _violations = [];

    public bool IsValid => _violations.Count == 0;

    public InputValidator Add(string field, string description)
    {
        _violations.Add(new FieldViolation(field, description));
        return this;
    }

    public InputValidator Require(bool condition, string field, string description) =>
        condition ? this : Add(field, description);

    /// <summary>An identifier chosen by clients or by us: 1..128 chars of [A-Za-z0-9._:-].</summary>
    public InputValidator Id(string field, string? value)
    {
        if (string.IsNullOrEmpty(value)) return Add(field, "is required");
        if (value.Length > MaxIdLength) return Add(field, $"must be at most {MaxIdLength} characters");
        return value.AsSpan().ContainsAnyExcept(IdChars) ? Add(field, "may contain only letters, digits and . _ : -") : this;
    }

    public InputValidator Text(string field, string? value, int maxLength, bool required = true)
    {
        if (string.IsNullOrWhiteSpace(value))
            return required ? Add(field, "is required") : this;
        if (value.Length > maxLength) return Add(field, $"must be at most {maxLength} characters");
        return value.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t'))
            ? Add(field, "must not contain control characters")
            : this;
    }

    /// <summary>A protobuf enum value: defined, and not the UNSPECIFIED zero.</summary>
    public InputValidator Enum<TEnum>(string field, TEnum value) where TEnum : struct, System.Enum
    {
        if (!System.Enum.IsDefined(value)) return Add(field, $"unknown value {Convert.ToInt64(value)}");
        return EqualityComparer<TEnum>.Default.Equals(value, default) ? Add(field, "must be specified") : this;
    }

    public void ThrowIfInvalid()
    {
        if (Refusal() is { } refusal) throw refusal;
    }

    /// <summary>The violations as a refusal to return (not throw), or null when the input is valid.</summary>
    public InvalidInputException? Refusal() => IsValid ? null : new InvalidInputException(_violations.ToArray());

    /// <summary>The characters of an id (checked per record on the hot path: a set look-up, not a regex).</summary>
    private static readonly SearchValues<char> IdChars = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");
}
