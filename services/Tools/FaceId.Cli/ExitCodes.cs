using Grpc.Core;

namespace FaceId.Cli;

/// <summary>
/// The process exit codes of faceidctl (README "Operator CLI"). A gRPC status maps to one of them,
/// so scripts can branch on the kind of failure without parsing messages.
/// </summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Ok = 0;

    /// <summary>Anything unexpected: an INTERNAL or UNKNOWN status, UNIMPLEMENTED, a CANCELLED the operator did not ask for, a bug in the CLI.</summary>
    public const int Unexpected = 1;

    /// <summary>A bad command line: unknown command or option, a missing or malformed value, an unreadable file.</summary>
    public const int Usage = 2;

    /// <summary>INVALID_ARGUMENT (or OUT_OF_RANGE): the server refused a field; also a replay with invalid records.</summary>
    public const int InvalidArgument = 3;

    /// <summary>NOT_FOUND: the account, package, bill or application does not exist.</summary>
    public const int NotFound = 4;

    /// <summary>FAILED_PRECONDITION (or ALREADY_EXISTS, ABORTED): well formed, but the state does not allow it.</summary>
    public const int FailedPrecondition = 5;

    /// <summary>UNAVAILABLE or DEADLINE_EXCEEDED: the service (or its Redis) cannot be reached or did not answer in time.</summary>
    public const int Unavailable = 6;

    /// <summary>PERMISSION_DENIED or UNAUTHENTICATED.</summary>
    public const int PermissionDenied = 7;

    /// <summary>Interrupted (Ctrl-C) while a call was in flight; 128 + SIGINT as shells do.</summary>
    public const int Interrupted = 130;

    public static int For(StatusCode code) => code switch
    {
        StatusCode.OK => Ok,
        StatusCode.InvalidArgument or StatusCode.OutOfRange => InvalidArgument,
        StatusCode.NotFound => NotFound,
        StatusCode.FailedPrecondition or StatusCode.AlreadyExists or StatusCode.Aborted => FailedPrecondition,
        StatusCode.Unavailable or StatusCode.DeadlineExceeded => Unavailable,
        StatusCode.PermissionDenied or StatusCode.Unauthenticated => PermissionDenied,
        _ => Unexpected,
    };
}
