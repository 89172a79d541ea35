//! Wire protocols: Prometheus remote_write 1.0 and 2.0, remote read, and the snappy block
//! framing they share.
//!
//! Messages are declared with `prost` derives that follow the upstream `.proto` files field for
//! field (no build script, so no `protoc` is needed to build the project). Label names and values,
//! and 2.0 symbols, decode as bytes rather than `String`: prost would fail the whole request on one
//! bad string, while Mimir's contract is to keep the valid series and name the first bad one.
//!
//! Flow: [`snappy::decompress`] (with a size cap) → [`remote_write::decode_v1`] /
//! [`remote_write::decode_v2`] → a model [`architect_model::WriteRequest`] plus the first
//! per-series error, for validation and storage.

pub mod labels_cache;
pub mod prompb;
pub mod remote_read;
pub mod remote_write;
pub mod snappy;
mod wire_v1;
pub mod write_v2;

/// Errors that make a whole request undecodable (nothing of it is stored).
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The body is not valid snappy block data.
    #[error("snappy decode error: {0}")]
    Snappy(String),
    /// The declared decompressed size is over the limit.
    #[error("decompressed body too large: {actual} bytes, limit {limit}")]
    DecompressedTooLarge {
        /// Declared size.
        actual: usize,
        /// Limit.
        limit: usize,
    },
    /// The protobuf message is malformed.
    #[error("protobuf decode error: {0}")]
    Protobuf(#[from] prost::DecodeError),
    /// A 2.0 request refers to a symbol that does not exist, or has an odd label ref count.
    #[error("invalid symbol reference: {0}")]
    BadSymbolRef(String),
}
