namespace FaceId.Common;

/// <summary>
/// How the Packages ledger spells a counted kind in what it stores: the first letter of a kept request
/// outcome and the suffix of a day counter field (<c>{acct:M}:ctr:&lt;yyyymmdd&gt;</c>, field
/// <c>label|P</c>): the charge kinds, and the refused kinds, one per refusal reason the ledger keeps a request id for
/// (service not opened, suspended at the call's time, E证通 before the enterprise verification). The ledger writes them (its scripts get the letters in their preamble); Billing's
/// reconciliation reads the day counters, so that it checks the ledger's own counts rather than a copy
/// (docs/architecture.md, key ownership). One source for both.
/// </summary>
public static class LedgerDayCounterFormat
{
    public const char Package = 'P', Postpaid = 'O', NotBillable = 'N';

    /// <summary>Refused calls, per reason: never in the charge kinds' counts.</summary>
    public const char RefusedNotOpened = 'U', RefusedSuspended = 'S', RefusedNotVerified = 'E';

    /// <summary>Between a day counter field's label and its kind letter.</summary>
    public const char Separator = '|';
}
