//! The key file as a [`KeyStore`] (spec §1.8, §6.2): the JSON [`KeyFile`], replaced atomically
//! with mode 0600, with compare-and-swap under an exclusive advisory lock on `<file>.lock` so
//! concurrent `keys` commands on one host cannot lose each other's changes. A file readable or
//! writable by group or others is refused: it holds the seeds. The revision is the file's bytes.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use super::key_store::{KeyStore, KeyStoreError, Revision, Snapshot};
use super::keyfile::KeyFile;

/// Largest key file read (256 keys take about 40 KiB).
const MAX_FILE_BYTES: u64 = 1 << 20;

/// Gateway keys in one local file. Operations block briefly on file I/O; they run at start-up,
/// on reload and from the `keys` commands.
#[derive(Debug, Clone)]
pub struct FileKeyStore {
    path: PathBuf,
    lock_path: PathBuf,
}

impl FileKeyStore {
    /// A store at `path`; nothing is touched until used.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let mut lock = path.clone().into_os_string();
        lock.push(".lock");
        Self {
            lock_path: PathBuf::from(lock),
            path,
        }
    }

    /// The key file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> KeyStoreError {
        KeyStoreError::Io {
            path: self.path.display().to_string(),
            source,
        }
    }

    fn read(&self) -> Result<Option<Vec<u8>>, KeyStoreError> {
        use std::io::Read as _;
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(e)),
        };
        // Judged on the open handle, so the file checked is the file read.
        let meta = file.metadata().map_err(|e| self.io(e))?;
        if !meta.is_file() {
            return Err(self.io(std::io::Error::new(
                ErrorKind::InvalidInput,
                "not a regular file",
            )));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyStoreError::InsecurePermissions {
                path: self.path.display().to_string(),
                mode,
            });
        }
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.io(e))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(self.io(std::io::Error::new(
                ErrorKind::InvalidData,
                format!("larger than {MAX_FILE_BYTES} bytes"),
            )));
        }
        Ok(Some(bytes))
    }

    fn snapshot(&self) -> Result<Option<Snapshot>, KeyStoreError> {
        let Some(bytes) = self.read()? else {
            return Ok(None);
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            KeyStoreError::Invalid(crate::error::GatewayError::Config(
                "key file is not UTF-8".into(),
            ))
        })?;
        Ok(Some(Snapshot {
            keys: KeyFile::from_json(text)?,
            revision: Revision(bytes),
        }))
    }

    fn swap_locked(
        &self,
        expected: Option<&Revision>,
        keys: &KeyFile,
    ) -> Result<bool, KeyStoreError> {
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&self.lock_path)
            .map_err(|e| self.io(e))?;
        // flock: writers in other processes, and other handles in this one, wait here; released
        // when `lock` drops.
        lock.lock().map_err(|e| self.io(e))?;
        let current = self.read()?;
        if current.as_deref() != expected.map(|r| r.0.as_slice()) {
            return Ok(false);
        }
        keys.save(&self.path)
            .map_err(|e| self.io(std::io::Error::other(e.to_string())))?;
        Ok(true)
    }
}

impl KeyStore for FileKeyStore {
    async fn load(&self) -> Result<Option<Snapshot>, KeyStoreError> {
        self.snapshot()
    }

    async fn compare_and_swap(
        &self,
        expected: Option<&Revision>,
        keys: &KeyFile,
    ) -> Result<bool, KeyStoreError> {
        self.swap_locked(expected, keys)
    }
}
