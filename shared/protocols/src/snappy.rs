//! Snappy block framing (not the framed stream format), as remote_write and remote read use it.

use crate::ProtocolError;

/// Decompresses a snappy block, refusing before allocation if the declared size is over `limit`
/// (so a decompression bomb costs nothing).
pub fn decompress(body: &[u8], limit: usize) -> Result<Vec<u8>, ProtocolError> {
    let declared =
        snap::raw::decompress_len(body).map_err(|e| ProtocolError::Snappy(e.to_string()))?;
    if declared > limit {
        return Err(ProtocolError::DecompressedTooLarge {
            actual: declared,
            limit,
        });
    }
    snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| ProtocolError::Snappy(e.to_string()))
}

/// Compresses into a snappy block.
pub fn compress(data: &[u8]) -> Vec<u8> {
    // Compression of an in-memory buffer only fails if the input exceeds snappy's 4 GiB bound.
    snap::raw::Encoder::new()
        .compress_vec(data)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bomb_is_refused_before_allocation() {
        let data = vec![0u8; 1 << 20];
        let c = compress(&data);
        assert!(c.len() < 100_000);
        assert!(matches!(
            decompress(&c, 1000),
            Err(ProtocolError::DecompressedTooLarge { .. })
        ));
        assert_eq!(decompress(&c, 1 << 20).map(|d| d.len()).ok(), Some(1 << 20));
        assert!(matches!(
            decompress(b"\xff\xff\xff\xff\xff", 10),
            Err(ProtocolError::Snappy(_))
        ));
    }
}
