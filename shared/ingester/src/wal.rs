//! The write-ahead log: numbered segment files of checksummed records, appended by one thread
//! that group-commits (every request waiting when an fsync starts shares it).
//!
//! Record frame: `len: u32 LE | crc32: u32 LE | kind: u8 | payload`, where `len` counts
//! `kind + payload` and the CRC covers the same bytes. A torn or corrupt tail (a crash during a
//! write that was never acknowledged) ends replay of that segment and is cut off.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use tokio::sync::{mpsc, oneshot};

/// Record kind: a validated write (`WalWrite`: tenant + `prometheus.WriteRequest`, which carries
/// samples, native histograms, exemplars and metadata).
/// Written by versions before snappy records; still replayed.
pub(crate) const KIND_WRITE: u8 = 1;
/// Record kind: a `WalWrite` as above, snappy-compressed (labels repeat in every request, so this
/// is several times smaller, which is what the WAL volume — EFS in AWS — bills and waits for).
pub(crate) const KIND_WRITE_SNAPPY: u8 = 2;
/// Record kind: a request as it came off the wire, when it was stored whole (see
/// [`crate::WireBody`]): `version: u8 (1 or 2) | tenant length: u16 LE | tenant | snappy body`.
/// Logging the sender's own bytes costs no encoding; replay decodes them as the write did.
pub(crate) const KIND_WIRE_WRITE: u8 = 3;
const HEADER: usize = 9;
/// Largest record accepted on replay; anything larger is corruption.
const MAX_RECORD: usize = 512 * 1024 * 1024;

/// WAL failures.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// Disk I/O failed.
    #[error("wal i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The writer thread is gone.
    #[error("wal writer stopped")]
    Stopped,
}

/// One replayed record.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) kind: u8,
    pub(crate) payload: Vec<u8>,
}

fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:016}.wal"))
}

/// Segment numbers present in `dir`, ascending.
pub(crate) fn segments(dir: &Path) -> Result<Vec<u64>, WalError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        if let Some(seq) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".wal"))
            .and_then(|n| n.parse().ok())
        {
            out.push(seq);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Reads every intact record of every segment, truncating a torn tail in place.
pub(crate) fn replay(dir: &Path, mut on_record: impl FnMut(Record)) -> Result<u64, WalError> {
    fs::create_dir_all(dir)?;
    let segs = segments(dir)?;
    for &seq in &segs {
        let path = segment_path(dir, seq);
        let mut data = Vec::new();
        File::open(&path)?.read_to_end(&mut data)?;
        let mut pos = 0usize;
        while let Some((record, next)) = parse(&data, pos) {
            on_record(record);
            pos = next;
        }
        if pos < data.len() {
            tracing::warn!(segment = %path.display(), offset = pos, len = data.len(), "wal: cutting torn tail");
            let f = OpenOptions::new().write(true).open(&path)?;
            f.set_len(pos as u64)?;
            f.sync_all()?;
        }
    }
    Ok(segs.last().map_or(1, |s| s + 1))
}

fn parse(data: &[u8], pos: usize) -> Option<(Record, usize)> {
    let header = data.get(pos..pos + HEADER)?;
    let len = u32::from_le_bytes(header[0..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header[4..8].try_into().ok()?);
    if len == 0 || len > MAX_RECORD {
        return None;
    }
    let body = data.get(pos + 8..pos + 8 + len)?;
    if crc32fast::hash(body) != crc {
        return None;
    }
    Some((
        Record {
            kind: body[0],
            payload: body[1..].to_vec(),
        },
        pos + 8 + len,
    ))
}

/// The framed record of `kind` whose payload is the concatenation of `parts`.
fn frame(kind: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len = 1 + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(len + 8);
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.push(kind);
    for p in parts {
        out.extend_from_slice(p);
    }
    let crc = crc32fast::hash(&out[8..]);
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    out
}

enum Command {
    Append {
        frame: Vec<u8>,
        done: oneshot::Sender<Result<(), String>>,
    },
    /// Starts a new segment; answers with its number (every earlier record is in a lower one).
    Rotate {
        done: oneshot::Sender<Result<u64, String>>,
    },
    /// Deletes segments numbered below `below`.
    Remove {
        below: u64,
        done: oneshot::Sender<Result<(), String>>,
    },
}

/// Handle to the WAL writer thread.
#[derive(Debug, Clone)]
pub(crate) struct Wal {
    tx: mpsc::UnboundedSender<Command>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Append { .. } => "Append",
            Command::Rotate { .. } => "Rotate",
            Command::Remove { .. } => "Remove",
        })
    }
}

impl Wal {
    /// Starts the writer on a new segment `first_seq` in `dir`.
    pub(crate) fn start(
        dir: PathBuf,
        first_seq: u64,
        segment_bytes: u64,
    ) -> Result<Self, WalError> {
        let writer = SegmentWriter::create(&dir, first_seq)?;
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("wal-writer".into())
            .spawn(move || run(dir, writer, rx, segment_bytes))?;
        Ok(Self { tx })
    }

    /// Queues a record whose payload is the concatenation of `payload`. The returned receiver
    /// resolves once the record is fsynced. Callers that must order the append against a
    /// rotation call this while holding their cut lock.
    pub(crate) fn append(
        &self,
        kind: u8,
        payload: &[&[u8]],
    ) -> oneshot::Receiver<Result<(), String>> {
        let (done, rx) = oneshot::channel();
        // If the thread is gone the receiver reports it (the sender is dropped).
        let _ = self.tx.send(Command::Append {
            frame: frame(kind, payload),
            done,
        });
        rx
    }

    /// Queues a rotation; see [`Command::Rotate`].
    pub(crate) fn rotate(&self) -> oneshot::Receiver<Result<u64, String>> {
        let (done, rx) = oneshot::channel();
        let _ = self.tx.send(Command::Rotate { done });
        rx
    }

    /// Deletes segments below `below` once their data is durable elsewhere.
    pub(crate) async fn remove_below(&self, below: u64) -> Result<(), WalError> {
        let (done, rx) = oneshot::channel();
        self.tx
            .send(Command::Remove { below, done })
            .map_err(|_| WalError::Stopped)?;
        rx.await
            .map_err(|_| WalError::Stopped)?
            .map_err(|e| WalError::Io(std::io::Error::other(e)))
    }
}

struct SegmentWriter {
    seq: u64,
    file: BufWriter<File>,
    bytes: u64,
}

impl SegmentWriter {
    fn create(dir: &Path, seq: u64) -> Result<Self, WalError> {
        fs::create_dir_all(dir)?;
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(segment_path(dir, seq))?;
        let bytes = file.seek(SeekFrom::End(0))?;
        // Make the new file's directory entry durable too.
        File::open(dir)?.sync_all()?;
        Ok(Self {
            seq,
            file: BufWriter::with_capacity(1 << 20, file),
            bytes,
        })
    }

    fn sync(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        self.file.get_ref().sync_data()
    }
}

fn run(
    dir: PathBuf,
    mut writer: SegmentWriter,
    mut rx: mpsc::UnboundedReceiver<Command>,
    segment_bytes: u64,
) {
    let mut waiting: Vec<oneshot::Sender<Result<(), String>>> = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        for cmd in batch {
            match cmd {
                Command::Append { frame, done } => match writer.file.write_all(&frame) {
                    Ok(()) => {
                        writer.bytes += frame.len() as u64;
                        waiting.push(done);
                    }
                    Err(e) => {
                        let _ = done.send(Err(e.to_string()));
                    }
                },
                Command::Rotate { done } => {
                    commit(&mut writer, &mut waiting);
                    let _ = done.send(rotate(&dir, &mut writer).map_err(|e| e.to_string()));
                }
                Command::Remove { below, done } => {
                    let _ =
                        done.send(remove_below(&dir, below, writer.seq).map_err(|e| e.to_string()));
                }
            }
        }
        commit(&mut writer, &mut waiting);
        if writer.bytes >= segment_bytes
            && let Err(e) = rotate(&dir, &mut writer)
        {
            tracing::error!(error = %e, "wal: segment rotation failed");
        }
    }
}

/// One fsync for everything written since the last; then every waiter is answered.
fn commit(writer: &mut SegmentWriter, waiting: &mut Vec<oneshot::Sender<Result<(), String>>>) {
    if waiting.is_empty() {
        return;
    }
    let result = writer.sync().map_err(|e| e.to_string());
    for w in waiting.drain(..) {
        let _ = w.send(result.clone());
    }
}

fn rotate(dir: &Path, writer: &mut SegmentWriter) -> Result<u64, WalError> {
    writer.sync()?;
    let next = writer.seq + 1;
    *writer = SegmentWriter::create(dir, next)?;
    Ok(next)
}

fn remove_below(dir: &Path, below: u64, current: u64) -> Result<(), WalError> {
    for seq in segments(dir)? {
        if seq < below && seq != current {
            fs::remove_file(segment_path(dir, seq))?;
        }
    }
    File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn append_replay_and_torn_tail() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let wal = Wal::start(dir.path().to_path_buf(), 1, 1 << 30)?;
        for i in 0..10u8 {
            wal.append(KIND_WRITE, &[&[i; 100]])
                .await?
                .map_err(std::io::Error::other)?;
        }
        let next = wal.rotate().await?.map_err(std::io::Error::other)?;
        assert_eq!(next, 2);
        wal.append(KIND_WRITE, &[b"second"])
            .await?
            .map_err(std::io::Error::other)?;
        drop(wal);
        // Tear the last record of segment 2.
        let p = segment_path(dir.path(), 2);
        let len = fs::metadata(&p)?.len();
        OpenOptions::new().write(true).open(&p)?.set_len(len - 2)?;
        let mut got = Vec::new();
        let next = replay(dir.path(), |r| got.push(r.payload))?;
        assert_eq!(next, 3);
        assert_eq!(got.len(), 10);
        assert_eq!(got[9], vec![9u8; 100]);
        assert_eq!(fs::metadata(&p)?.len(), 0, "torn tail cut off");
        Ok(())
    }
}
