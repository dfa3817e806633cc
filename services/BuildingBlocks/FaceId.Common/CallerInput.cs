namespace FaceId.Common;

/// <summary>
/// Caller input quoted in an error message or status detail: never more than a short prefix, so an
/// error's size does not grow with the input (docs/api.md, "Bounded requests and errors").
/// </summary>
public static class CallerInput
{
    /// <summary>The longest caller value echoed whole: an identifier's maximum, so a valid id is always shown entire.</summary>
    public const int MaxEchoedLength = InputValidator.MaxIdLength;

    /// <summary>The value, or its first <see cref="MaxEchoedLength"/> characters, "…" and its length.</summary>
    public static string Echo(string? value)
    {
        if (value is null) return "";
        if (value.Length <= MaxEchoedLength) return value;
        var cut = char.IsHighSurrogate(value[MaxEchoedLength - 1]) ? MaxEchoedLength - 1 : MaxEchoedLength;
        return $"{value[..cut]}… ({value.Length} characters)";
    }
}
