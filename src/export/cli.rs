//! The batch runner's `export` and `import` commands and `run --haproxy`: file handling around
//! the pure generators, with messages that name the file and line.

use super::import::{import_haproxy, Imported, MAX_CONFIG_BYTES};
use crate::scenario::Scenario;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Write every configuration file for `s` into `dir` (created if missing); the paths written.
pub fn export_to_dir(s: &Scenario, dir: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("--out {}: cannot create the directory: {e}", dir.display()))?;
    let mut written = Vec::new();
    for (name, contents) in super::config_files(s) {
        let path = dir.join(&name);
        std::fs::write(&path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Read a `haproxy.cfg` (at most [`MAX_CONFIG_BYTES`]) over `base`; Err names the file and line.
pub fn import_file(path: &Path, base: &Scenario) -> Result<Imported, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(format!("{}: larger than {MAX_CONFIG_BYTES} bytes", path.display()));
    }
    let text = String::from_utf8(bytes).map_err(|e| format!("{}: not UTF-8 text ({e})", path.display()))?;
    import_haproxy(&text, base).map_err(|e| format!("{}: {e}", path.display()))
}

/// Tell (on stderr) every directive of `path` the model does not simulate, by line number.
pub fn report_unsimulated(path: &Path, imported: &Imported) {
    for u in &imported.unsimulated {
        // A closed stderr must not panic the runner (see cli/output.rs).
        let _ = writeln!(
            std::io::stderr().lock(),
            "infrasim: {}:{}: not simulated: {} ({})",
            path.display(),
            u.line,
            u.text,
            u.why
        );
    }
}
