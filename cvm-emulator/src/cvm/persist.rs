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

use super::state_file::{
    strict_from_json, ClientTokenRecord, ResourceKey, State, StateError, StoredInstance, StoredResource,
};
use crate::atomic_file::{sibling, write_atomically};

/// Default bound on the journal before it is folded into the state file.
pub(crate) const DEFAULT_JOURNAL_LIMIT: u64 = 64 * 1024 * 1024;

/// Longest state file read: far past 65,024 instances (the most the
/// emulator can hold) at a few KiB each, and refused unread beyond.
const MAX_STATE_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// Longest journal read for a journal limit of `limit`: compaction runs
/// once the journal passes the limit, and after a failed one (a full disk)
/// again one limit later, so a journal this emulator wrote can pass its
/// limit several times over, but not without bound.
fn max_journal_bytes(limit: u64) -> u64 {
    limit.max(DEFAULT_JOURNAL_LIMIT).saturating_mul(8)
}

/// `path` with every symbolic link and `.`/`..` resolved; for a file that
/// does not exist yet, its directory resolved. A link to nothing is refused:
/// creating its target would surprise, and ignoring it would fork the state.
fn canonical(path: &Path) -> Result<PathBuf, StateError> {
    match std::fs::canonicalize(path) {
        Ok(resolved) => Ok(resolved),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(StateError::Invalid(format!(
                    "{}: a symbolic link to nothing; point it at a file, or remove it",
                    shown(path)
                )));
            }
            let name = path
                .file_name()
                .ok_or_else(|| StateError::Invalid(format!("{}: not a file name", shown(path))))?;
            let dir = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            let dir = std::fs::canonicalize(dir).map_err(|source| StateError::Io {
                path: format!("cannot find the directory of {}", shown(path)),
                source,
            })?;
            Ok(dir.join(name))
        }
        Err(source) => Err(StateError::Io {
            path: format!("cannot resolve {}", shown(path)),
            source,
        }),
    }
}

/// One committed change, as written.
#[derive(Serialize)]
pub(crate) struct ChangeRef<'a> {
    #[serde(rename = "Put", skip_serializing_if = "Vec::is_empty")]
    pub(crate) put: Vec<&'a StoredInstance>,
    #[serde(rename = "Remove", skip_serializing_if = "<[String]>::is_empty")]
    pub(crate) remove: &'a [String],
    #[serde(rename = "ClientToken", skip_serializing_if = "Option::is_none")]
    pub(crate) client_token: Option<&'a ClientTokenRecord>,
    #[serde(rename = "PutResources", skip_serializing_if = "Vec::is_empty")]
    pub(crate) put_resources: Vec<&'a StoredResource>,
    #[serde(rename = "RemoveResources", skip_serializing_if = "<[ResourceKey]>::is_empty")]
    pub(crate) remove_resources: &'a [ResourceKey],
}

/// One committed change, as read back.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    #[serde(rename = "Put", default)]
    put: Vec<StoredInstance>,
    #[serde(rename = "Remove", default)]
    remove: Vec<String>,
    #[serde(rename = "ClientToken", default)]
    client_token: Option<ClientTokenRecord>,
    #[serde(rename = "PutResources", default)]
    put_resources: Vec<StoredResource>,
    #[serde(rename = "RemoveResources", default)]
    remove_resources: Vec<ResourceKey>,
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
        // Two names of one file (a symbolic link, `..`) must share one
        // lock and one journal; and a link stays a link when the file is
        // replaced, since the file it names is.
        let path = &canonical(path)?;
        let in_file = |e: StateError| StateError::File {
            path: shown(path),
            source: Box::new(e),
        };
        let lock = LockFile::acquire(path)?;
        let snapshot = match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            _ => {
                let text =
                    tencentcloud_runtime::profile::read_bounded(path, MAX_STATE_FILE_BYTES, "a state file")
                        .map_err(|e| StateError::Invalid(e.to_string()))?;
                Some(State::from_json(&text).map_err(in_file)?)
            }
        };
        let journal_path = sibling(path, ".journal");
        let mut journal = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&journal_path)
            .map_err(|source| cannot_use(path, &journal_path, source))?;
        // What was opened: appending to a device or a FIFO would lose every
        // change, and reading one would never end.
        let meta = journal.metadata().map_err(io_error(&journal_path))?;
        if !meta.is_file() {
            return Err(StateError::Invalid(format!(
                "{}: not a regular file, as a journal must be",
                shown(&journal_path)
            )));
        }
        let most = max_journal_bytes(limit);
        let mut bytes = Vec::new();
        if meta.len() <= most {
            // Bounded by reading too: the file may grow meanwhile.
            (&mut journal)
                .take(most + 1)
                .read_to_end(&mut bytes)
                .map_err(io_error(&journal_path))?;
        }
        if meta.len() > most || bytes.len() as u64 > most {
            return Err(StateError::Invalid(format!(
                "{}: longer than {most} bytes, more than this emulator ever writes before folding \
                 a journal into its state file (its journal limit is {limit} bytes)",
                shown(&journal_path)
            )));
        }
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
        let (problem, whole) = match parse_line(raw, last_seq) {
            Ok((seq, change)) => {
                changes.push(change);
                last_seq = seq;
                offset += raw.len();
                continue;
            }
            Err(damage) => damage,
        };
        let after = lines.by_ref().count();
        // A record whose checksum holds was written whole: what is wrong
        // with it is no crash's doing, even at the end.
        if after > 0 || whole {
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

/// A line's record, else what is wrong with it and whether its checksum
/// held (the record was written whole).
fn parse_line(raw: &[u8], last_seq: u64) -> Result<(u64, Change), (String, bool)> {
    let Some(text) = raw.strip_suffix(b"\n") else {
        return Err(("incomplete: no end of line".to_owned(), false));
    };
    let line: Line<'_> = serde_json::from_slice(text).map_err(|e| (format!("not a record: {e}"), false))?;
    let crc = crc32fast::hash(line.change.get().as_bytes());
    if crc != line.crc32 {
        return Err((format!("checksum {crc} instead of {}", line.crc32), false));
    }
    if last_seq != 0 && line.seq != last_seq + 1 {
        return Err((format!("Seq {} after {last_seq}", line.seq), true));
    }
    // As strict as the state file: a member replay does not know would be
    // dropped, and the change it meant with it.
    let change = strict_from_json(
        line.change.get(),
        "a change has Put, Remove, ClientToken, PutResources and RemoveResources; an instance or a resource, the members of a state file's",
    )
    .map_err(|e| (format!("not a change: {e}"), true))?;
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
    let mut changes_resources = Vec::with_capacity(changes.len());
    for change in changes {
        changes_resources.push((change.put_resources, change.remove_resources));
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
    replay_resources(state, changes_resources);
}

/// The resource part of journal changes, applied in order: a put replaces
/// the resource of the same kind and id in place, or comes last.
fn replay_resources(state: &mut State, changes: Vec<(Vec<StoredResource>, Vec<ResourceKey>)>) {
    let mut resources: Vec<Option<StoredResource>> = std::mem::take(&mut state.resources)
        .into_iter()
        .map(Some)
        .collect();
    let mut index: HashMap<ResourceKey, usize> = resources
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().map(|r| (r.key(), i)))
        .collect();
    for (put, remove) in changes {
        for resource in put {
            let key = resource.key();
            match index.get(&key) {
                Some(&i) => resources[i] = Some(resource),
                None => {
                    index.insert(key, resources.len());
                    resources.push(Some(resource));
                }
            }
        }
        for key in remove {
            if let Some(i) = index.remove(&key) {
                resources[i] = None;
            }
        }
    }
    state.resources = resources.into_iter().flatten().collect();
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
    fn a_whole_record_is_held_to_the_state_files_rules_even_last() {
        let path = Path::new("/x/s.json.journal");
        let a = line(1, r#"{"Remove":["ins-aaaaaaa1"]}"#);
        let mut instance =
            serde_json::to_value(StoredInstance::new("ins-aaaaaaa2", "ap-guangzhou-3", "RUNNING")).unwrap();
        // A member no instance has, its name holding an escape character.
        instance["Bo\u{1b}[2Jgus"] = serde_json::json!(1);
        let put = serde_json::json!({ "Put": [instance] }).to_string();
        for last in [
            line(2, &put),
            line(2, r#"{"Remove":[],"Bogus":1}"#),
            line(5, r#"{"Remove":[]}"#),
        ] {
            let e = read_journal(path, format!("{a}{last}").as_bytes()).unwrap_err();
            let text = e.to_string();
            assert!(text.contains("line 2"), "{text}");
            assert!(!text.contains('\u{1b}'), "echoed raw: {text:?}");
        }
        let e = read_journal(path, format!("{a}{}", line(2, &put)).as_bytes()).unwrap_err();
        assert!(e.to_string().contains("unknown member"), "{e}");
        assert!(e.to_string().contains(r"Bo\u{1b}[2Jgus"), "{e}");
        // The same instance in a state file: refused alike, escaped alike.
        let state = serde_json::json!({ "Instances": [instance] }).to_string();
        let e = State::from_json(&state).unwrap_err().to_string();
        assert!(e.contains("unknown member") && !e.contains('\u{1b}'), "{e:?}");
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
                    ..Change::default()
                },
                Change {
                    put: vec![a2.clone()],
                    remove: vec![],
                    client_token: None,
                    ..Change::default()
                },
                Change {
                    put: vec![],
                    remove: vec!["ins-aaaaaaa2".into()],
                    client_token: None,
                    ..Change::default()
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

    #[test]
    fn two_names_of_one_state_file_share_its_lock_and_the_link_stays_a_link() {
        let dir = temp_dir();
        let real = dir.join("real.json");
        let alias = dir.join("alias.json");
        let (state, mut first) = Persistence::open(&real, None, DEFAULT_JOURNAL_LIMIT).unwrap();
        first
            .compact(|w| w.write_all(state.to_json_pretty().as_bytes()))
            .unwrap();
        std::os::unix::fs::symlink(&real, &alias).unwrap();
        let through_link = Persistence::open(&alias, None, DEFAULT_JOURNAL_LIMIT).err();
        assert!(
            matches!(through_link, Some(StateError::Locked { .. })),
            "{through_link:?}"
        );
        let dotted = dir.join(".").join("real.json");
        assert!(matches!(
            Persistence::open(&dotted, None, DEFAULT_JOURNAL_LIMIT),
            Err(StateError::Locked { .. })
        ));
        drop(first);
        // Through the link: the file it names is replaced, not the link.
        let (state, mut second) = Persistence::open(&alias, None, DEFAULT_JOURNAL_LIMIT).unwrap();
        second.append(r#"{"Remove":[]}"#).unwrap();
        second
            .compact(|w| w.write_all(state.to_json_pretty().as_bytes()))
            .unwrap();
        assert!(std::fs::symlink_metadata(&alias)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(real.with_extension("json.journal").is_file());
        assert!(!dir.join("alias.json.journal").exists());
        drop(second);
        // A link to nothing is refused, and nothing is created for it.
        let dangling = dir.join("dangling.json");
        std::os::unix::fs::symlink(dir.join("missing.json"), &dangling).unwrap();
        let e = Persistence::open(&dangling, None, DEFAULT_JOURNAL_LIMIT)
            .err()
            .unwrap();
        assert!(e.to_string().contains("a symbolic link to nothing"), "{e}");
        assert!(!dir.join("missing.json").exists());
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_state_file_or_journal_that_is_not_a_regular_file_is_refused_unread() {
        let dir = temp_dir();
        // A state file that is a device: refused before reading.
        let zero = dir.join("zero.json");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let e = Persistence::open(&zero, None, DEFAULT_JOURNAL_LIMIT)
            .err()
            .unwrap();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        // A FIFO with no writer: refused, not waited on.
        let fifo = dir.join("fifo.json");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success(), "mkfifo (coreutils) failed");
        let e = Persistence::open(&fifo, None, DEFAULT_JOURNAL_LIMIT)
            .err()
            .unwrap();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        // A journal that is a device or a FIFO.
        for (name, make) in [("dev", 0), ("pipe", 1)] {
            let path = dir.join(format!("{name}.json"));
            let journal = dir.join(format!("{name}.json.journal"));
            if make == 0 {
                std::os::unix::fs::symlink("/dev/zero", &journal).unwrap();
            } else {
                let made = std::process::Command::new("mkfifo")
                    .arg(&journal)
                    .status()
                    .unwrap();
                assert!(made.success());
            }
            let e = Persistence::open(&path, None, DEFAULT_JOURNAL_LIMIT)
                .err()
                .unwrap();
            assert!(
                e.to_string().contains("not a regular file, as a journal must be"),
                "{e}"
            );
        }
        // A journal longer than this emulator ever writes: refused unread.
        let long = dir.join("long.json");
        let journal = File::create(dir.join("long.json.journal")).unwrap();
        journal.set_len(max_journal_bytes(1) + 1).unwrap();
        let e = Persistence::open(&long, None, 1).err().unwrap();
        assert!(
            e.to_string().contains("more than this emulator ever writes"),
            "{e}"
        );
        std::fs::remove_dir_all(dir).ok();
    }
}
