using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using FaceId.Common;
using Microsoft.Extensions.Options;

namespace FaceId.Onboarding.Application;

public sealed class DocumentStoreOptions
{
    public const string Section = "Documents";

    /// <summary>Folder of the content-addressed store (default: data/documents under the working directory).</summary>
    public string Directory { get; set; } = Path.Combine("data", "documents");

    [Range(1024, 64 * 1024 * 1024)]
    public long MaxBytes { get; set; } = 10 * 1024 * 1024;

    [Range(1024, 4 * 1024 * 1024)]
    public int MaxChunkBytes { get; set; } = 64 * 1024;
}

public enum DocumentKind { Pdf, Jpeg, Png }

public sealed record StoredDocument(DocumentKind Kind, long SizeBytes, string Sha256);

/// <summary>
/// Business-license documents, stored durably outside Redis under their SHA-256
/// (<c>sha256/ab/abcdef…</c>), written to a temp file and renamed only when complete and of an
/// accepted type (R-ONB-1): the bytes decide the type, never the file name. Contents are never logged.
/// </summary>
public sealed class DocumentStore(IOptions<DocumentStoreOptions> options)
{
    public DocumentStoreOptions Options => options.Value;

    /// <summary>Receives a document chunk by chunk; call <see cref="Upload.CommitAsync"/> once all arrived.</summary>
    public Upload Begin(string field) => new(this, field);

    public string PathOf(string sha256) => Path.Combine(Root, "sha256", sha256[..2], sha256);

    private string Root => Path.GetFullPath(options.Value.Directory);

    /// <summary>The media type of a stored document's kind (sniffed from its bytes at upload).</summary>
    public static string ContentTypeOf(DocumentKind kind) => kind switch
    {
        DocumentKind.Pdf => "application/pdf",
        DocumentKind.Jpeg => "image/jpeg",
        DocumentKind.Png => "image/png",
        _ => throw new InvalidOperationException($"unknown document kind '{kind}'"),
    };

    /// <summary>
    /// Opens a stored document for streaming (never read whole), or null when its file is missing
    /// or is not the size recorded at upload (a damaged store).
    /// </summary>
    public FileStream? OpenRead(StoredDocument document)
    {
        if (document.Sha256.Length < 2) return null;
        FileStream file;
        try
        {
            file = new FileStream(PathOf(document.Sha256), FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        if (file.Length == document.SizeBytes) return file;
        file.Dispose();
        return null;
    }

    public static DocumentKind? Sniff(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith("%PDF-"u8)) return DocumentKind.Pdf;
        if (head.StartsWith(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A })) return DocumentKind.Png;
        if (head.StartsWith(new byte[] { 0xFF, 0xD8, 0xFF })) return DocumentKind.Jpeg;
        return null;
    }

    public sealed class Upload : IAsyncDisposable
    {
        private readonly DocumentStore _store;
        private readonly string _field;
        private readonly string _tempPath;
        private readonly FileStream _file;
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly byte[] _head = new byte[8];
        private long _size;
        private bool _committed;

        internal Upload(DocumentStore store, string field)
        {
            _store = store;
            _field = field;
            var tmp = Path.Combine(store.Root, "tmp");
            Directory.CreateDirectory(tmp);
            _tempPath = Path.Combine(tmp, Guid.NewGuid().ToString("N"));
            _file = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true);
        }

        public async Task AppendAsync(ReadOnlyMemory<byte> chunk, CancellationToken ct)
        {
            if (chunk.Length > _store.Options.MaxChunkBytes)
                throw new InvalidInputException(_field, $"chunks must be at most {_store.Options.MaxChunkBytes} bytes");
            if (_size + chunk.Length > _store.Options.MaxBytes)
                throw new InvalidInputException(_field, $"the document is larger than {_store.Options.MaxBytes} bytes");
            if (_size < _head.Length)
                chunk.Span[..(int)Math.Min(chunk.Length, _head.Length - _size)].CopyTo(_head.AsSpan((int)_size));
            _hash.AppendData(chunk.Span);
            _size += chunk.Length;
            await _file.WriteAsync(chunk, ct);
        }

        /// <summary>Checks size and type, then moves the file to its content address (a no-op if already stored).</summary>
        public async Task<StoredDocument> CommitAsync(CancellationToken ct)
        {
            if (_size == 0) throw new InvalidInputException(_field, "the document is empty");
            var kind = Sniff(_head.AsSpan(0, (int)Math.Min(_size, _head.Length)))
                ?? throw new InvalidInputException(_field, "the document must be a PDF, JPEG or PNG file (its content is checked, not its name)");
            await _file.FlushAsync(ct);
            _file.Flush(flushToDisk: true);
            await _file.DisposeAsync();
            var sha = Convert.ToHexStringLower(_hash.GetHashAndReset());
            var target = _store.PathOf(sha);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (File.Exists(target)) File.Delete(_tempPath);
            else File.Move(_tempPath, target, overwrite: true);
            _committed = true;
            return new StoredDocument(kind, _size, sha);
        }

        public async ValueTask DisposeAsync()
        {
            await _file.DisposeAsync();
            _hash.Dispose();
            if (!_committed && File.Exists(_tempPath)) File.Delete(_tempPath);
        }
    }
}
