//! The embedded issuer key store (spec §5.6, §6.3): one JSON [`KeySet`] document in a file with
//! mode 0600, replaced atomically (temporary file, fsync, rename, fsync of the directory) under
//! an exclusive advisory lock on `<file>.lock`, so concurrent writers on one host serialise. A key
//! file readable or writable by group or others is refused.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use crate::{Error, KeySet, KeyStore, Result};

/// Largest key file read: a few hundred keys fit with room to spare.
const MAX_FILE_BYTES: u64 = 4 << 20;

/// Issuer keys in one local file. Its operations block briefly on file I/O (they run at
/// start-up and at rotation, not per request).
#[derive(Debug, Clone)]
pub struct FileKeyStore {
    path: PathBuf,
    lock_path: PathBuf,
    tmp_path: PathBuf,
}

impl FileKeyStore {
    /// A store at `path`; nothing is touched until the first load or write. The directory must
    /// exist.
    pub fn new(path: impl Into<PathBuf>) -> FileKeyStore {
        let path = path.into();
        let with = |suffix: &str| {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            PathBuf::from(p)
        };
        FileKeyStore {
            lock_path: with(".lock"),
            tmp_path: with(".tmp"),
            path,
        }
    }

    /// The key file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, what: &str, e: std::io::Error) -> Error {
        Error::Store(format!("{what} {}: {e}", self.path.display()))
    }

    /// Reads and decodes the file; a missing file is an empty set.
    fn read(&self) -> Result<KeySet> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(KeySet::default()),
            Err(e) => return Err(self.io("opening", e)),
        };
        // Checked on the open handle, so the file judged is the file read.
        let meta = file.metadata().map_err(|e| self.io("inspecting", e))?;
        if !meta.is_file() {
            return Err(Error::CorruptStore(format!(
                "{} is not a regular file",
                self.path.display()
            )));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::InsecurePermissions {
                path: self.path.display().to_string(),
                mode,
            });
        }
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.io("reading", e))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(Error::CorruptStore(format!(
                "{} is larger than {MAX_FILE_BYTES} bytes",
                self.path.display()
            )));
        }
        KeySet::decode(&bytes)
    }

    /// Writes `bytes` as the new file: temporary file with mode 0600, fsync, rename over the
    /// old one, fsync of the directory so the rename itself survives a crash.
    fn replace(&self, bytes: &[u8]) -> Result<()> {
        // A temporary left by a crash may carry other permissions; start from scratch.
        match std::fs::remove_file(&self.tmp_path) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(self.io("removing the temporary of", e)),
        }
        let mut tmp = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&self.tmp_path)
            .map_err(|e| self.io("creating the temporary of", e))?;
        tmp.write_all(bytes)
            .and_then(|()| tmp.sync_all())
            .map_err(|e| self.io("writing the temporary of", e))?;
        drop(tmp);
        std::fs::rename(&self.tmp_path, &self.path).map_err(|e| self.io("renaming onto", e))?;
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| self.io("syncing the directory of", e))
    }

    fn swap_locked(&self, set: &KeySet) -> Result<bool> {
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&self.lock_path)
            .map_err(|e| self.io("opening the lock of", e))?;
        // Exclusive advisory lock (flock): other processes, and other handles in this one,
        // wait here. Released when `lock` is dropped.
        lock.lock().map_err(|e| self.io("locking", e))?;
        let stored = self.read()?;
        if stored.version() != set.version() {
            return Ok(false);
        }
        self.replace(&set.encode(set.next_version()?)?)?;
        Ok(true)
    }
}

impl KeyStore for FileKeyStore {
    async fn load(&self) -> Result<KeySet> {
        self.read()
    }

    async fn compare_and_swap(&self, set: &KeySet) -> Result<bool> {
        self.swap_locked(set)
    }
}
