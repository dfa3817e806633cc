using System.Text;

namespace FaceId.Redis;

/// <summary>Redis Cluster's key → hash slot mapping: CRC16 (XMODEM) of the key, or of its {hash tag}, mod 16384.</summary>
public static class HashSlot
{
    public const int Count = 16_384;

    private static readonly ushort[] Table = BuildTable();

    public static int Of(string key)
    {
        var bytes = Encoding.UTF8.GetBytes(key);
        var span = bytes.AsSpan();
        var open = span.IndexOf((byte)'{');
        if (open >= 0)
        {
            var close = span[(open + 1)..].IndexOf((byte)'}');
            if (close > 0) span = span.Slice(open + 1, close); // an empty tag "{}" hashes the whole key
        }
        ushort crc = 0;
        foreach (var b in span) crc = (ushort)((crc << 8) ^ Table[((crc >> 8) ^ b) & 0xFF]);
        return crc % Count;
    }

    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (var i = 0; i < 256; i++)
        {
            var c = (ushort)(i << 8);
            for (var bit = 0; bit < 8; bit++) c = (ushort)((c & 0x8000) != 0 ? (c << 1) ^ 0x1021 : c << 1);
            table[i] = c;
        }
        return table;
    }
}
