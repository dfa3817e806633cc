namespace FaceId.Common;

/// <summary>
/// R-MET-4: usage records may arrive this late. Metering refuses older ones; the ledger keeps the history of a service's
/// suspensions over this window, so a record is judged by the state at its own time.
/// </summary>
public static class LateRecords
{
    public static readonly TimeSpan Window = TimeSpan.FromDays(7);
}
