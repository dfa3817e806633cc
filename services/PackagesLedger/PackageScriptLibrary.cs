using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using FaceId.Common;
using FaceId.Contracts.Events.V1;
using FaceId.Redis;
using Google.Protobuf.Reflection;

namespace FaceId.Packages.Ledger;

/// <summary>
/// The ledger's Lua library for its own scripts and for the scripts of other services that share
/// the package prefixes in one atomic step (docs/architecture.md, key ownership): <c>lib-package.lua</c>,
/// the package record format and the deduction index. Pass <see cref="Assembly"/> to
/// RedisScript.FromResource so that <c>-- #include lib-package.lua</c> resolves to the owner's one
/// copy, and <see cref="Preamble"/> before the script: the constants the library shares with C#,
/// generated from their one source here (no number, stored word or format is written in both languages).
/// </summary>
public static class PackageScriptLibrary
{
    public static Assembly Assembly => typeof(PackageScriptLibrary).Assembly;

    /// <summary>
    /// Numbers: <c>PKG_BUCKETS</c> (<see cref="LedgerKeys.PackageBuckets"/>), <c>RID_GENERATION_MS</c>
    /// (<see cref="LedgerKeys.RequestIdGeneration"/>), <c>SHANGHAI_OFFSET_MS</c> (<see cref="ChinaCalendar.Offset"/>), <c>DAY_MS</c>.
    /// The package record: <c>PKG_FIELDS</c> (names in stored order), <c>PKG_COUNTS</c> (the numeric ones), <c>PKG_PATTERN</c>,
    /// <c>PKG_FORMAT</c> (<see cref="PackageRecordFormat"/>), <c>PKG_ID_PREFIX</c>; statuses <c>PKG_ACTIVE</c>, <c>PKG_REFUNDING</c>,
    /// <c>PKG_REFUNDED</c> (<see cref="PackageStatuses"/>); <c>PKG_ALERT_FLAG</c> and <c>ALERT_LOW_BALANCE</c> … <c>ALERT_EXPIRED</c>
    /// (<see cref="PackageAlertFlags"/>, the kinds' protobuf names). Service states <c>SVC_OPENED</c>, <c>SVC_SUSPENDED</c>
    /// (<see cref="ServiceStates"/>) and the service hash's fields <c>SVC_F_*</c> (<see cref="ServiceFields"/>); charge kinds <c>KIND_PACKAGE</c>, <c>KIND_POSTPAID</c>, <c>KIND_NOT_BILLABLE</c>
    /// (<see cref="ChargeKinds"/>), <c>FLAG_ON</c> (a flag field's or yes/no argument's yes, <see cref="PackageRecordFormat.FlagOn"/>), <c>OUTCOME_SEP</c>, <c>FP_SEP</c> (before a kept request id's fingerprint, <see cref="UsageFingerprint"/>) and <c>CTR_SEP</c> (a day counter's field: label, CTR_SEP, kind). Event JSON field names from the protobuf descriptors
    /// (<see cref="JsonNames"/>): <c>PA_*</c> PackageAlert, <c>UB_*</c> UsageBackdated, <c>PD_*</c> PackageDelivered,
    /// <c>UC_*</c> UsageCharged, <c>CUG_*</c> ChargedUsageGroup (e.g. <c>CUG_PRICE_BOOK = 'priceBook'</c>).
    /// </summary>
    public static readonly string Preamble = Build();

    private static string Build()
    {
        var alerts = PackageAlertFlags.Letters.Keys.OrderBy(k => (int)k).ToList();
        var constants = new List<(string, object)>
        {
            ("PKG_BUCKETS", LedgerKeys.PackageBuckets),
            ("RID_GENERATION_MS", LedgerKeys.RequestIdGeneration),
            ("SHANGHAI_OFFSET_MS", ChinaCalendar.Offset),
            ("DAY_MS", TimeSpan.FromDays(1)),
            ("PKG_PATTERN", PackageRecordFormat.LuaPattern),
            ("PKG_FORMAT", PackageRecordFormat.LuaFormat),
            ("PKG_ID_PREFIX", PackageLedger.PackageIdPrefix),
            ("PKG_ACTIVE", PackageStatuses.Active),
            ("PKG_REFUNDING", PackageStatuses.Refunding),
            ("PKG_REFUNDED", PackageStatuses.Refunded),
            ("SVC_OPENED", ServiceStates.Opened),
            ("SVC_SUSPENDED", ServiceStates.Suspended),
            ("KIND_PACKAGE", ChargeKinds.Package),
            ("KIND_POSTPAID", ChargeKinds.Postpaid),
            ("KIND_NOT_BILLABLE", ChargeKinds.NotBillable),
            ("OUTCOME_SEP", ChargeOutcome.Separator),
            ("FP_SEP", UsageFingerprint.Separator),
            ("CTR_SEP", LedgerKeys.DayCounterSeparator),
            ("FLAG_ON", PackageRecordFormat.FlagOn),
        };
        constants.AddRange(ServiceFields.Lua);
        constants.AddRange(alerts.Select(k => ("ALERT_" + LuaName(PackageAlertFlags.ProtoName(k)["PACKAGE_ALERT_KIND_".Length..]), (object)PackageAlertFlags.ProtoName(k))));
        constants.AddRange(JsonNames(PackageAlert.Descriptor, "PA"));
        constants.AddRange(JsonNames(UsageBackdated.Descriptor, "UB"));
        constants.AddRange(JsonNames(PackageDelivered.Descriptor, "PD"));
        constants.AddRange(JsonNames(UsageCharged.Descriptor, "UC"));
        constants.AddRange(JsonNames(ChargedUsageGroup.Descriptor, "CUG"));

        var text = new StringBuilder(LuaPreamble.Of([.. constants]));
        text.Append("local PKG_FIELDS = {").AppendJoin(", ", PackageRecordFormat.Fields.Select(f => $"'{f.Name}'")).Append("}\n");
        text.Append("local PKG_COUNTS = {").AppendJoin(", ", PackageRecordFormat.Fields
            .Where(f => f.Kind == PackageRecordFormat.FieldKind.Count).Select(f => $"{f.Name} = true")).Append("}\n");
        text.Append("local PKG_ALERT_FLAG = {").AppendJoin(", ", alerts
            .Select(k => $"{PackageAlertFlags.ProtoName(k)} = '{PackageAlertFlags.Letters[k]}'")).Append("}\n");
        return text.ToString();
    }

    /// <summary>
    /// <c>PREFIX_FIELD_NAME = 'jsonName'</c> for every field of <paramref name="message"/>: the names protobuf JSON
    /// gives its fields, for the events a script builds in Lua (parsed strictly by the consumers' JsonParser).
    /// </summary>
    public static IEnumerable<(string Name, object Value)> JsonNames(MessageDescriptor message, string prefix) =>
        message.Fields.InFieldNumberOrder().Select(f => (prefix + "_" + LuaName(f.Name), (object)f.JsonName));

    /// <summary>
    /// <c>ST_NAME = 'word'</c> per status word a script answers (ST_ALREADY_CREATED for AlreadyCreated): the Lua
    /// names of a contract's status dictionary, so the words are spelled once, in that dictionary.
    /// </summary>
    public static (string Name, object Value)[] StatusConstants<T>(IReadOnlyDictionary<string, T> known) where T : struct, Enum =>
        [.. known.Select(k => ("ST_" + LuaName(k.Value.ToString()), (object)k.Key))];

    /// <summary>The Lua constant name of a C# or protobuf name: AlreadyCreated and already_created → ALREADY_CREATED.</summary>
    public static string LuaName(string name) => Regex.Replace(name, "(?<=[a-z])(?=[A-Z])", "_").ToUpperInvariant();
}
