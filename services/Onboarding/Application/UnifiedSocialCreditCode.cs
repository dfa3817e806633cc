namespace FaceId.Onboarding.Application;

/// <summary>
/// The unified social credit code (统一社会信用代码) of GB 32100-2015: 18 characters of the
/// 31-character set 0-9 A-H J-N P-R T U W-Y (no I, O, Z, S, V):
/// <list type="bullet">
/// <item>1: registration authority (登记管理部门) — 1-9, A, N or Y;</item>
/// <item>2: organisation category (机构类别) — a digit 1-9;</item>
/// <item>3-8: administrative division code (登记管理机关行政区划码) — 6 digits;</item>
/// <item>9-17: organisation code (主体标识码);</item>
/// <item>18: check character: C18 = 31 − (Σ value(Ci)·Wi mod 31), 31 → 0, mapped back to the set,
/// with weights W = 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28.</item>
/// </list>
/// Input is taken exactly as given: no trimming and no case folding (codes are printed in upper
/// case; a lower-case letter is reported, not silently fixed). Because 31 is prime and the weights
/// are distinct modulo 31, the check character catches every single-character error and every
/// transposition of two characters among the first 17.
/// </summary>
public static class UnifiedSocialCreditCode
{
    public const int Length = 18;
    public const string Alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    private const string Authorities = "123456789ANY";
    private static readonly int[] Weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

    /// <summary>The check character for the first 17 characters (which must be in the alphabet).</summary>
    public static char CheckCharacter(ReadOnlySpan<char> first17)
    {
        if (first17.Length != Length - 1) throw new ArgumentException("17 characters expected", nameof(first17));
        var sum = 0;
        for (var i = 0; i < Length - 1; i++)
        {
            var value = Alphabet.IndexOf(first17[i]);
            if (value < 0) throw new ArgumentException($"'{first17[i]}' is not a GB 32100 character", nameof(first17));
            sum += value * Weights[i];
        }
        var check = 31 - sum % 31;
        return Alphabet[check == 31 ? 0 : check];
    }

    /// <summary>Null when <paramref name="code"/> is valid, else what is wrong with it (for a field violation).</summary>
    public static string? Problem(string? code)
    {
        if (string.IsNullOrEmpty(code)) return "is required";
        if (code.Length != Length) return $"must be exactly {Length} characters (has {code.Length})";
        for (var i = 0; i < code.Length; i++)
        {
            var c = code[i];
            if (Alphabet.Contains(c)) continue;
            if (char.IsAsciiLetterLower(c) && Alphabet.Contains(char.ToUpperInvariant(c)))
                return $"character {i + 1} '{c}' must be upper case";
            return $"character {i + 1} '{c}' is not allowed (only 0-9 and A-H J-N P-R T U W-Y; never I, O, Z, S or V)";
        }
        if (!Authorities.Contains(code[0])) return $"character 1 '{code[0]}' is not a registration authority code (1-9, A, N or Y)";
        if (code[1] is < '1' or > '9') return $"character 2 '{code[1]}' is not an organisation category (1-9)";
        for (var i = 2; i < 8; i++)
            if (!char.IsAsciiDigit(code[i])) return "characters 3-8 must be the 6-digit administrative division code";
        var expected = CheckCharacter(code.AsSpan(0, Length - 1));
        return code[^1] == expected ? null : "check character (the 18th) does not match GB 32100-2015";
    }

    public static bool IsValid(string? code) => Problem(code) is null;
}
