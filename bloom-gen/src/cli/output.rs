//! Output: stdout, or a file written atomically (a temporary file in the target's directory,
//! flushed and synced, then renamed over the target), so a reader never sees half a filter.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::Context;

/// Writes via `write` to `path` atomically, or to stdout when `path` is `None` or `-`.
pub fn write_output(
    path: Option<&Path>,
    binary: bool,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    match path.filter(|p| p.as_os_str() != "-") {
        None => {
            let stdout = io::stdout();
            if binary && stdout.is_terminal() {
                anyhow::bail!(
                    "refusing to write a binary bitmap to a terminal; use -o FILE or a redirect"
                );
            }
            let mut w = BufWriter::with_capacity(1 << 20, stdout.lock());
            write(&mut w).context("writing to stdout")?;
            w.flush().context("writing to stdout")?;
            Ok(())
        }
        Some(path) => {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            let tmp = tempfile::Builder::new()
                .prefix(".bloom-gen-")
                .suffix(".tmp")
                .tempfile_in(dir)
                .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
            // tempfile creates 0600; a filter is meant to be served, so use the usual 0644.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                tmp.as_file()
                    .set_permissions(std::fs::Permissions::from_mode(0o644))
                    .ok();
            }
            let mut w = BufWriter::with_capacity(1 << 20, tmp);
            write(&mut w).with_context(|| format!("writing {}", path.display()))?;
            let tmp = w.into_inner().map_err(io::IntoInnerError::into_error)?;
            tmp.as_file()
                .sync_all()
                .with_context(|| format!("syncing {}", path.display()))?;
            tmp.persist(path)
                .with_context(|| format!("renaming into {}", path.display()))?;
            // Make the rename itself durable.
            if let Ok(d) = File::open(dir) {
                d.sync_all().ok();
            }
            Ok(())
        }
    }
}
