namespace FaceId.Common;

/// <summary>
/// A rule of the domain said no. Application code throws these; one gRPC interceptor maps
/// them to status codes with google.rpc details, so no service maps errors itself.
/// </summary>
public abstract class DomainException(string message) : Exception(message);

public sealed record FieldViolation(string Field, string Description);

/// <summary>
/// A value, or the domain's refusal of the request, returned instead of thrown where refusals are an
/// expected outcome of a hot path (bad records from a misconfigured gateway): an exception per call
/// made a refused call dearer than an accepted one. The gRPC layer answers a refusal exactly as it
/// answers a thrown <see cref="DomainException"/>.
/// </summary>
public readonly record struct Refusable<T>(T? Value, DomainException? Refusal)
{
    public static implicit operator Refusable<T>(T value) => new(value, null);
    public static implicit operator Refusable<T>(DomainException refusal) => new(default, refusal);

    /// <summary>The value, or the refusal thrown (for callers off the hot path).</summary>
    public T OrThrow() => Refusal is { } refusal ? throw refusal : Value!;
}

/// <summary>Bad input (→ INVALID_ARGUMENT with a BadRequest listing every violated field).</summary>
public sealed class InvalidInputException(IReadOnlyList<FieldViolation> violations)
    : DomainException("Invalid input: " + string.Join("; ", violations.Select(v => $"{v.Field}: {v.Description}")))
{
    public InvalidInputException(string field, string description) : this([new FieldViolation(field, description)]) { }

    public IReadOnlyList<FieldViolation> Violations { get; } = violations;
}

/// <summary>The named resource does not exist (→ NOT_FOUND with ResourceInfo).</summary>
public sealed class NotFoundException(string resourceType, string resourceName)
    : DomainException($"{resourceType} '{CallerInput.Echo(resourceName)}' was not found.")
{
    public string ResourceType { get; } = resourceType;
    public string ResourceName { get; } = resourceName;

    /// <summary>When set, the status also carries a google.rpc.ErrorInfo with this reason (UPPER_SNAKE_CASE).</summary>
    public string? Reason { get; init; }
}

/// <summary>
/// The request is well formed but the system is not in a state that allows it
/// (→ FAILED_PRECONDITION with PreconditionFailure and an ErrorInfo carrying <see cref="Reason"/>).
/// </summary>
public sealed class PreconditionFailedException(string reason, string subject, string description)
    : DomainException(description)
{
    /// <summary>Machine-readable, UPPER_SNAKE_CASE, stable across versions.</summary>
    public string Reason { get; } = reason;
    public string Subject { get; } = subject;
}

/// <summary>
/// An idempotency key (request id, order id, refund or top-up key…) already stands for a different
/// request: a retry must repeat the request it retries. → FAILED_PRECONDITION with ErrorInfo reason
/// <see cref="Reason"/>, metadata <c>key_field</c> and <c>fields</c> (the differing request fields,
/// comma-separated), and a PreconditionFailure whose subject is the key field. Nothing is changed.
/// </summary>
public sealed class IdempotencyKeyReusedException(string keyField, IReadOnlyList<string> differingFields)
    : DomainException($"{keyField} was already used for a request with a different {string.Join(", ", differingFields)}; " +
        "a retry must repeat the original request, a new request needs a new key.")
{
    public const string Reason = "IDEMPOTENCY_KEY_REUSED";

    public string KeyField { get; } = keyField;
    public IReadOnlyList<string> DifferingFields { get; } = differingFields;
}

/// <summary>The caller may not touch this resource (→ PERMISSION_DENIED).</summary>
public sealed class PermissionDeniedException(string description) : DomainException(description);

/// <summary>A dependency is temporarily unavailable; retrying later may succeed (→ UNAVAILABLE).</summary>
public sealed class TemporarilyUnavailableException(string description, Exception? inner = null)
    : DomainException(description)
{
    public Exception? Cause { get; } = inner;
}

/// <summary>
/// A configuration or dependency problem found while the host starts (unreachable Redis,
/// malformed catalog...): the host stops with this message and exit code 2, no stack trace.
/// </summary>
public class StartupException(string message, Exception? inner = null) : Exception(message, inner);
