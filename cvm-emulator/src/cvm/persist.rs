//! The state file on disk: every change an emulator acknowledges survives a
//! crash, `kill -9` included.
//!
//! Three files, for a state file `FILE`:
//!
//! * `FILE`: the [`State`] JSON. Only ever replaced whole: written to
//!   `FILE.tmp`, flushed to disk, renamed over `FILE`, and the directory
//!   flushed, so a crash leaves the old version or the new one.
//! * `FILE.journal`: one line per committed change since `FILE` was
//!   written, `{"Seq":N,"Crc32":C,"Change":{"Put":[...],"Remove":[...],"ClientToken":{...}}}`.
//!   A change is appended under the store's lock (the journal's order is
//!   the store's) and flushed to disk before its answer is sent; requests
//!   waiting at the same time share one flush. `Put` carries the whole
//!   instance, so replaying a record twice changes nothing: a crash between
//!   writing `FILE` and emptying the journal is harmless.
//! * `FILE.lock`: locked (advisory, `flock`) for the emulator's lifetime;
//!   says who holds it (`pid N, http://ADDR`).
//!
//! At start the journal is replayed onto `FILE` and folded into it; so it
//! is at shutdown and whenever the journal grows past its bound. Recovery
//! drops a damaged last record (a crash in the middle of an append: that
//! change was never acknowledged) and refuses a damaged record with records
//! after it (that is not what a crash leaves).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::state_file::{ClientTokenRecord, State, StateError, StoredInstance};
use crate::atomic_file::{sibling, write_atomically};

/// Default bound on the journal before it is folded into the state file.
pub(crate) const DEFAULT_JOURNAL_LIMIT: u64 = 64 * 1024 * 1024;

/// One committed change, as written.
#[derive(Serialize)]
pub(crate) struct ChangeRef<'a> {
    #[serde(rename = "Put", skip_serializing_if = "Vec::is_empty")]
    pub(crate) put: Vec<&'a StoredInstance>,
    #[serde(rename = "Remove", skip_serializing_if = "<[String]>::is_empty")]
    pub(crate) remove: &'a [String],
    #[serde(rename = "ClientToken", skip_serializing_if = "Option::is_none")]
    pub(crate) client_token: Option<&'a ClientTokenRecord>,
}

/// One committed change, as read back.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    #[serde(rename = "Put", default)]
    put: Vec<StoredInstance>,
    #[serde(rename = "Remove", default)]
    remove: Vec<String>,
    #[serde(rename = "ClientToken", default)]
    client_token: Option<ClientTokenRecord>,
}

/// A journal line; the checksum covers the exact bytes of `Change`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    #[serde(rename = "Seq")]
    seq: u64,
    #[serde(rename = "Crc32")]
    crc32: u32,
    #[serde(rename = "Change", borrow)]
    change: &'a RawValue,
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StateError + '_ {
    move |source| StateError::Io {
        path: shown(path),
        source,
    }
}

/// The lock beside a state file, held while this value lives (the OS
/// releases it when the process dies, `kill -9` included).
struct LockFile {
    file: File,
}

/// Most bytes of a lock file read to name its holder.
const MAX_HOLDER_BYTES: u64 = 512;

impl LockFile {
    fn acquire(state_path: &Path) -> Result<LockFile, StateError> {
        let path = sibling(state_path, ".lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|source| cannot_use(state_path, &path, source))?;
        // Fully qualified: std's `File::try_lock` (Rust 1.89) would shadow it.
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                return Err(StateError::Locked {
                    path: shown(state_path),
                    lock_path: shown(&path),
                    holder: read_holder(&file),
                })
            }
            Err(fs4::TryLockError::Error(source)) => return Err(cannot_use(state_path, &path, source)),
        }
        let mut lock = LockFile { file };
        lock.set_holder(&format!("pid {}", std::process::id()));
        Ok(lock)
    }

    /// Best effort: the lock works without it.
    fn set_holder(&mut self, holder: &str) {
        let written = self
            .file
            .set_len(0)
            .and_then(|()| self.file.seek(SeekFrom::Start(0)))
            .and_then(|_| self.file.write_all(format!("{holder}\n").as_bytes()));
        if let Err(e) = written {
            tracing::debug!(error = %e, "cannot write the lock file's holder");
        }
    }
}

/// `pid 123, http://127.0.0.1:9000` from a lock file, printable ASCII only.
fn read_holder(file: &File) -> String {
    let mut text = String::new();
    let read = file
        .try_clone()
        .and_then(|f| f.take(MAX_HOLDER_BYTES).read_to_string(&mut text));
    let text: String = text
        .trim()
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
        .collect();
    if read.is_err() || text.is_empty() {
        "holder unknown".to_owned()
    } else {
        text
    }
}

fn cannot_use(state_path: &Path, file: &Path, source: io::Error) -> StateError {
    StateError::File {
        path: shown(state_path),
        source: Box::new(StateError::Io {
            path: format!("cannot open {}", shown(file)),
            source,
        }),
    }
}

/// What request handlers share with the flushing threads.
struct SyncState {
    /// The journal (a second handle: flushing needs no store lock).
    file: File,
    journal_path: String,
    /// Last record written.
    written: AtomicU64,
    /// Last record known to be on disk.
    synced: AtomicU64,
    /// One flush at a time; those who waited find their record flushed.
    flushing: Mutex<()>,
    /// Set once a write or flush failed: later records may be lost.
    failed: OnceLock<String>,
}

impl SyncState {
    fn fail(&self, what: &str, e: &io::Error) -> String {
        let message = format!("{}: {what}: {e}", self.journal_path);
        let first = self.failed.get_or_init(|| message.clone());
        tracing::error!(error = %first, "the state file can no longer be kept; refusing every request");
        message
    }

    /// Blocks until record `seq` is on disk.
    fn sync_through(&self, seq: u64) -> Result<(), String> {
        let _one_at_a_time = self.flushing.lock().unwrap_or_else(PoisonError::into_inner);
        if self.synced.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        if let Some(e) = self.failed.get() {
            return Err(e.clone());
        }
        // Everything written up to here is covered by this flush.
        let target = self.written.load(Ordering::Acquire);
        self.file.sync_data().map_err(|e| self.fail("cannot flush", &e))?;
        self.synced.fetch_max(target, Ordering::AcqRel);
        Ok(())
    }
}

/// A promise to answer only once the changes seen are on disk.
pub(crate) struct Ticket {
    sync: Arc<SyncState>,
    seq: u64,
}

impl Ticket {
    /// Waits (off the async threads) until the journal is flushed through
    /// this ticket's record.
    pub(crate) async fn durable(self) -> Result<(), String> {
        if self.sync.synced.load(Ordering::Acquire) >= self.seq {
            return Ok(());
        }
        let Ticket { sync, seq } = self;
        tokio::task::spawn_blocking(move || sync.sync_through(seq))
            .await
            .map_err(|e| format!("the flush of the journal did not finish: {e}"))?
    }
}

/// An open state file: its journal and its lock.
pub(crate) struct Persistence {
    path: PathBuf,
    journal: File,
    journal_path: PathBuf,
    journal_bytes: u64,
    /// Fold the journal into the state file once it passes this.
    limit: u64,
    /// Journal size at which the next compaction is tried (raised after a
    /// failed one, so that a full disk is not retried at every change).
    next_compaction: u64,
    /// Last record written.
    seq: u64,
    sync: Arc<SyncState>,
    lock: LockFile,
}

impl Persistence {
    /// Locks `path`, reads it and replays its journal: the state to start
    /// from. `seed` is the state of a state file that does not exist yet.
    ///
    /// Nothing is written here but the lock file: a file that cannot be
    /// read is left as it is. The caller then loads the state and calls
    /// [`Persistence::compact`], which proves the directory writable.
    pub(crate) fn open(
        path: &Path,
        seed: Option<State>,
        limit: u64,
    ) -> Result<(State, Persistence), StateError> {
        let in_file = |e: StateError| StateError::File {
            path: shown(path),
            source: Box::new(e),
        };
        let lock = LockFile::acquire(path)?;
        let snapshot = match std::fs::read_to_string(path) {
            Ok(text) => Some(State::from_json(&text).map_err(in_file)?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(in_file(StateError::Io {
                    path: "cannot read it".to_owned(),
                    source,
                }))
            }
        };
        let journal_path = sibling(path, ".journal");
        let mut journal = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&journal_path)
            .map_err(|source| cannot_use(path, &journal_path, source))?;
        let mut bytes = Vec::new();
        journal.read_to_end(&mut bytes).map_err(io_error(&journal_path))?;
        let (changes, last_seq) = read_journal(&journal_path, &bytes)?;
        drop(bytes);
        let mut state = match (snapshot, seed) {
            (Some(_), Some(_)) => {
                return Err(in_file(StateError::Invalid(
                    "the file exists and an initial state was given too: start from one of them".to_owned(),
                )))
            }
            (None, _) if !changes.is_empty() => {
                return Err(in_file(StateError::Invalid(format!(
                    "the file is missing but its journal {} holds {} change(s): restore the file, \
                     or remove the journal to start afresh",
                    shown(&journal_path),
                    changes.len()
                ))))
            }
            (Some(state), None) | (None, Some(state)) => state,
            (None, None) => State::new(),
        };
        replay(&mut state, changes);
        let sync = Arc::new(SyncState {
            file: journal.try_clone().map_err(io_error(&journal_path))?,
            journal_path: shown(&journal_path),
            written: AtomicU64::new(last_seq),
            synced: AtomicU64::new(last_seq),
            flushing: Mutex::new(()),
            failed: OnceLock::new(),
        });
        let persistence = Persistence {
            path: path.to_owned(),
            journal_bytes: journal.metadata().map_err(io_error(&journal_path))?.len(),
            journal,
            journal_path,
            limit: limit.max(1),
            next_compaction: limit.max(1),
            seq: last_seq,
            sync,
            lock,
        };
        Ok((state, persistence))
    }

    /// Appends one change (the JSON of a [`ChangeRef`]); not yet flushed.
    pub(crate) fn append(&mut self, change_json: &str) -> Result<(), String> {
        if let Some(e) = self.sync.failed.get() {
            return Err(e.clone());
        }
        let seq = self.seq + 1;
        let crc = crc32fast::hash(change_json.as_bytes());
        let line = format!("{{\"Seq\":{seq},\"Crc32\":{crc},\"Change\":{change_json}}}\n");
        // A failure may leave part of the line: a torn last record, which
        // recovery drops (nothing after it is acknowledged any more).
        self.journal
            .write_all(line.as_bytes())
            .map_err(|e| self.sync.fail("cannot append", &e))?;
        self.seq = seq;
        self.journal_bytes += line.len() as u64;
        self.sync.written.store(seq, Ordering::Release);
        Ok(())
    }

    pub(crate) fn wants_compaction(&self) -> bool {
        self.journal_bytes >= self.next_compaction
    }

    /// Replaces the state file with what `write` produces (the whole
    /// state, including every change appended so far), then empties the
    /// journal.
    pub(crate) fn compact(
        &mut self,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), StateError> {
        let result = write_atomically(&self.path, write)
            .map_err(|source| StateError::Io {
                path: format!("cannot write {}", shown(&self.path)),
                source,
            })
            .and_then(|()| {
                // Now in the state file: every record so far is on disk.
                self.sync.synced.fetch_max(self.seq, Ordering::AcqRel);
                self.journal
                    .set_len(0)
                    .and_then(|()| self.journal.sync_all())
                    .map_err(|source| StateError::Io {
                        path: format!("cannot empty {}", shown(&self.journal_path)),
                        source,
                    })
            });
        match result {
            Ok(()) => {
                self.journal_bytes = 0;
                self.next_compaction = self.limit;
                Ok(())
            }
            Err(e) => {
                self.next_compaction = self.journal_bytes.saturating_add(self.limit);
                Err(e)
            }
        }
    }

    pub(crate) fn ticket(&self) -> Ticket {
        Ticket {
            sync: Arc::clone(&self.sync),
            seq: self.seq,
        }
    }

    pub(crate) fn failure(&self) -> Option<String> {
        self.sync.failed.get().cloned()
    }

    pub(crate) fn set_holder(&mut self, holder: &str) {
        self.lock.set_holder(holder);
    }
}

/// The changes of a journal, and the last record's `Seq` (0: none).
///
/// A damaged last line is a crash in the middle of an append and is
/// dropped (its change was never acknowledged: acknowledging waits for the
/// flush of the whole line). A damaged line with more lines after it is
/// refused.
fn read_journal(path: &Path, bytes: &[u8]) -> Result<(Vec<Change>, u64), StateError> {
    let mut changes = Vec::new();
    let mut last_seq = 0;
    let mut offset = 0usize;
    let mut lines = bytes.split_inclusive(|b| *b == b'\n');
    let mut number = 0;
    while let Some(raw) = lines.next() {
        number += 1;
        let problem = match parse_line(raw, last_seq) {
            Ok((seq, change)) => {
                changes.push(change);
                last_seq = seq;
                offset += raw.len();
                continue;
            }
            Err(problem) => problem,
        };
        let after = lines.by_ref().count();
        if after > 0 {
            return Err(StateError::Journal {
                path: shown(path),
                line: number,
                offset: offset as u64,
                problem,
                after,
            });
        }
        tracing::warn!(
            journal = %shown(path),
            line = number,
            problem = %problem,
            "dropping a torn last record (a crash while it was written; its change was never acknowledged)"
        );
    }
    Ok((changes, last_seq))
}

fn parse_line(raw: &[u8], last_seq: u64) -> Result<(u64, Change), String> {
    let Some(text) = raw.strip_suffix(b"\n") else {
        return Err("incomplete: no end of line".to_owned());
    };
    let line: Line<'_> = serde_json::from_slice(text).map_err(|e| format!("not a record: {e}"))?;
    let crc = crc32fast::hash(line.change.get().as_bytes());
    if crc != line.crc32 {
        return Err(format!("checksum {crc} instead of {}", line.crc32));
    }
    if last_seq != 0 && line.seq != last_seq + 1 {
        return Err(format!("Seq {} after {last_seq}", line.seq));
    }
    let change = serde_json::from_str(line.change.get()).map_err(|e| format!("not a change: {e}"))?;
    Ok((line.seq, change))
}

/// Applies journal changes to a state, in order.
fn replay(state: &mut State, changes: Vec<Change>) {
    if changes.is_empty() {
        return;
    }
    let mut instances: Vec<Option<StoredInstance>> = std::mem::take(&mut state.instances)
        .into_iter()
        .map(Some)
        .collect();
    let mut index: HashMap<String, usize> = instances
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.as_ref().map(|s| (s.instance.instance_id.clone(), i)))
        .collect();
    let mut tokens: HashMap<(String, String), usize> = state
        .client_tokens
        .iter()
        .enumerate()
        .map(|(i, t)| ((t.region.clone(), t.client_token.clone()), i))
        .collect();
    for change in changes {
        for stored in change.put {
            match index.get(&stored.instance.instance_id) {
                Some(&i) => instances[i] = Some(stored),
                None => {
                    index.insert(stored.instance.instance_id.clone(), instances.len());
                    instances.push(Some(stored));
                }
            }
        }
        for id in change.remove {
            if let Some(i) = index.remove(&id) {
                instances[i] = None;
            }
        }
        if let Some(record) = change.client_token {
            let key = (record.region.clone(), record.client_token.clone());
            match tokens.get(&key) {
                Some(&i) => state.client_tokens[i] = record,
                None => {
                    tokens.insert(key, state.client_tokens.len());
                    state.client_tokens.push(record);
                }
            }
        }
    }
    state.instances = instances.into_iter().flatten().collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cvm-emulator-persist-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn line(seq: u64, change: &str) -> String {
        format!(
            "{{\"Seq\":{seq},\"Crc32\":{},\"Change\":{change}}}\n",
            crc32fast::hash(change.as_bytes())
        )
    }

    #[test]
    fn journal_torn_tail_dropped_damaged_middle_refused() {
        let path = Path::new("/x/s.json.journal");
        let a = line(1, r#"{"Remove":["ins-aaaaaaa1"]}"#);
        let b = line(2, r#"{"Remove":["ins-aaaaaaa2"]}"#);
        let (changes, seq) = read_journal(path, format!("{a}{b}").as_bytes()).unwrap();
        assert_eq!((changes.len(), seq), (2, 2));

        // A crash mid-append: the last line is cut, with or without its end.
        for torn in [&b[..b.len() / 2], &b[..b.len() - 2], "\0\0\0\0\n"] {
            let (changes, seq) = read_journal(path, format!("{a}{torn}").as_bytes()).unwrap();
            assert_eq!((changes.len(), seq), (1, 1), "{torn:?}");
        }

        // Damaged in the middle: one bit of the first record flipped.
        let flipped = a.replace("aaaaaaa1", "aaaaaaa3");
        let e = read_journal(path, format!("{flipped}{b}").as_bytes()).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("/x/s.json.journal, line 1 (byte 0)"), "{text}");
        assert!(text.contains("checksum"), "{text}");
        let e = read_journal(path, format!("{a}garbage\n{b}").as_bytes()).unwrap_err();
        assert!(
            e.to_string().contains(&format!("line 2 (byte {})", a.len())),
            "{e}"
        );
        // A missing record is a gap in Seq.
        let c = line(3, r#"{"Remove":[]}"#);
        let e = read_journal(path, format!("{a}{c}{b}").as_bytes()).unwrap_err();
        assert!(e.to_string().contains("Seq 3 after 1"), "{e}");
        // Unknown members are damage too.
        let odd = line(2, r#"{"Remove":[],"Bogus":1}"#);
        assert!(read_journal(path, format!("{a}{odd}{c}").as_bytes()).is_err());
    }

    #[test]
    fn replay_is_ordered_and_idempotent() {
        let a = StoredInstance::new("ins-aaaaaaa1", "ap-guangzhou-3", "RUNNING");
        let mut a2 = a.clone();
        a2.instance.instance_state = "STOPPED".into();
        let b = StoredInstance::new("ins-aaaaaaa2", "ap-guangzhou-3", "RUNNING");
        let changes = || {
            vec![
                Change {
                    put: vec![b.clone()],
                    remove: vec![],
                    client_token: Some(ClientTokenRecord {
                        region: "ap-guangzhou".into(),
                        client_token: "t".into(),
                        instance_ids: vec!["ins-aaaaaaa2".into()],
                    }),
                },
                Change {
                    put: vec![a2.clone()],
                    remove: vec![],
                    client_token: None,
                },
                Change {
                    put: vec![],
                    remove: vec!["ins-aaaaaaa2".into()],
                    client_token: None,
                },
            ]
        };
        let mut state = State::new().with_instance(a.clone());
        replay(&mut state, changes());
        assert_eq!(state.instances, vec![a2.clone()]);
        assert_eq!(state.client_tokens.len(), 1);
        // Replayed again onto its own result (a crash between writing the
        // state file and emptying the journal): the same state.
        let once = state.clone();
        replay(&mut state, changes());
        assert_eq!(state, once);
    }

    #[test]
    fn a_failed_append_refuses_what_follows() {
        let dir = temp_dir();
        let path = dir.join("s.json");
        let (_, mut p) = Persistence::open(&path, None, DEFAULT_JOURNAL_LIMIT).unwrap();
        p.append(r#"{"Remove":[]}"#).unwrap();
        // The journal handle replaced by a read-only one: writes fail.
        p.journal = File::open(&p.journal_path).unwrap();
        let e = p.append(r#"{"Remove":[]}"#).unwrap_err();
        assert!(e.contains("s.json.journal: cannot append"), "{e}");
        assert_eq!(p.failure().as_deref(), Some(e.as_str()));
        p.journal = OpenOptions::new().append(true).open(&p.journal_path).unwrap();
        assert_eq!(p.append(r#"{"Remove":[]}"#).unwrap_err(), e);
        std::fs::remove_dir_all(dir).ok();
    }
}
