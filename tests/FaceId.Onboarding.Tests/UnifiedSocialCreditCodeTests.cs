using FaceId.Onboarding.Application;
using Xunit;

namespace FaceId.Onboarding.Tests;

/// <summary>R-ONB-4: the unified social credit code and its GB 32100-2015 check character, without a host.</summary>
public sealed class UnifiedSocialCreditCodeTests
{
    private const string Alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";

    public static TheoryData<string> RealFormatCodes => new()
    {
        "91350100M000100Y43", // enterprise (9 = industry & commerce, 1 = company), Fuzhou; the standard's own example
        "9144030071526726XG", // enterprise, Shenzhen
        "91110000802100433B", // enterprise, Beijing
        "53100000500021676K", // foundation (5 = civil affairs, 3 = foundation)
        "91310000MA1FL0000N", // enterprise, Shanghai, new-style MA… body (check computed)
        "92330100MA2H12345C", // individual business (9 = industry & commerce, 2 = 个体工商户) (check computed)
        "121000004000003980", // public institution (1 = institutional staffing, 2); Σ mod 31 = 0, so 31 → '0'
    };

    [Theory]
    [MemberData(nameof(RealFormatCodes))]
    public void R_ONB_4_real_format_codes_pass(string code)
    {
        Assert.Null(UnifiedSocialCreditCode.Problem(code));
        Assert.True(UnifiedSocialCreditCode.IsValid(code));
    }

    [Fact]
    public void R_ONB_4_the_check_character_is_31_minus_the_weighted_sum_mod_31_with_31_mapped_to_0()
    {
        Assert.Equal('3', UnifiedSocialCreditCode.CheckCharacter("91350100M000100Y4"));
        // Hand computation of the example: Σ value·weight over the first 17 characters.
        int[] weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
        var sum = "91350100M000100Y4".Select((c, i) => Alphabet.IndexOf(c) * weights[i]).Sum();
        Assert.Equal('3', Alphabet[31 - sum % 31]);
        // 31 → 0.
        var zeroSum = "12100000400000398".Select((c, i) => Alphabet.IndexOf(c) * weights[i]).Sum();
        Assert.Equal(0, zeroSum % 31);
        Assert.Equal('0', UnifiedSocialCreditCode.CheckCharacter("12100000400000398"));
    }

    [Theory]
    [InlineData("", "is required")]
    [InlineData("91350100M000100Y4", "exactly 18 characters (has 17)")]
    [InlineData("91350100M000100Y433", "exactly 18 characters (has 19)")]
    [InlineData("91350100M000100Y43 ", "exactly 18 characters (has 19)")]
    [InlineData(" 91350100M000100Y4", "character 1 ' ' is not allowed")]
    [InlineData("91350100M000100Y42", "check character")]
    [InlineData("91350100M000100Y4A", "check character")]
    [InlineData("91350100m000100Y43", "character 9 'm' must be upper case")]
    [InlineData("91350100M000100y43", "character 16 'y' must be upper case")]
    [InlineData("91350100M000100I43", "character 16 'I' is not allowed")]
    [InlineData("91350100M000100O43", "character 16 'O' is not allowed")]
    [InlineData("91350100M000100Z43", "character 16 'Z' is not allowed")]
    [InlineData("91350100M000100S43", "character 16 'S' is not allowed")]
    [InlineData("91350100M000100V43", "character 16 'V' is not allowed")]
    [InlineData("91350100M000100Y4i", "character 18 'i' is not allowed")]
    [InlineData("91350100M-00100Y43", "character 10 '-' is not allowed")]
    [InlineData("９1350100M000100Y43", "character 1 '９' is not allowed")] // full-width digit
    [InlineData("19350100M000100Y43", "check character")]                  // transposition of characters 1 and 2
    [InlineData("91351000M000100Y43", "check character")]                  // transposition of characters 5 and 6
    [InlineData("91350100M000010Y43", "check character")]                  // transposition of characters 14 and 15
    [InlineData("91350100M000100Y34", "check character")]                  // transposition of characters 17 and 18
    [InlineData("0135010000000000000", "exactly 18 characters")]
    [InlineData("B1350100M000100Y43", "registration authority")]
    [InlineData("90350100M000100Y43", "organisation category")]
    [InlineData("9135A100M000100Y43", "administrative division code")]
    public void R_ONB_4_every_kind_of_corruption_is_rejected_with_a_precise_reason(string code, string expected)
    {
        var problem = UnifiedSocialCreditCode.Problem(code);
        Assert.NotNull(problem);
        Assert.Contains(expected, problem);
    }

    [Theory]
    [MemberData(nameof(RealFormatCodes))]
    public void R_ONB_4_every_single_character_substitution_is_caught(string code)
    {
        for (var i = 0; i < code.Length; i++)
            foreach (var c in Alphabet.Where(c => c != code[i]))
            {
                var corrupted = code[..i] + c + code[(i + 1)..];
                Assert.False(UnifiedSocialCreditCode.IsValid(corrupted), $"{corrupted} (position {i + 1} changed) must be rejected");
            }
    }

    [Theory]
    [MemberData(nameof(RealFormatCodes))]
    public void R_ONB_4_every_transposition_of_two_different_characters_among_the_first_17_is_caught(string code)
    {
        for (var i = 0; i < 17; i++)
            for (var j = i + 1; j < 17; j++)
            {
                if (code[i] == code[j]) continue;
                var chars = code.ToCharArray();
                (chars[i], chars[j]) = (chars[j], chars[i]);
                Assert.False(UnifiedSocialCreditCode.IsValid(new string(chars)), $"{new string(chars)} (positions {i + 1} and {j + 1} swapped) must be rejected");
            }
    }

    [Theory]
    [MemberData(nameof(RealFormatCodes))]
    public void R_ONB_4_lower_case_input_is_rejected_not_normalised(string code)
    {
        if (!code.Any(char.IsAsciiLetter)) return;
        var problem = UnifiedSocialCreditCode.Problem(code.ToLowerInvariant());
        Assert.NotNull(problem);
        Assert.Contains("must be upper case", problem);
    }
}
