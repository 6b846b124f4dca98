//! What the CLI's two halves (the operator's commands and the commands for a hub's users)
//! share: exit codes, and files only their owner may read.
use std::fs::File;
use std::io;
use std::path::Path;

/// The exit code for an answer's HTTP status (0: no answer at all): 2 bad input, 3 not found,
/// 4 conflict, 5 not allowed or signed out, 6 the hub could not be reached, 1 anything else.
pub fn exit_code(http_status: u16) -> u8 {
    match http_status {
        400 | 405 | 413 => 2,
        404 => 3,
        409 => 4,
        401 | 403 | 429 => 5,
        0 => 6,
        _ => 1,
    }
}

/// Opens `path` for writing, readable by its owner only (mode 0600 on Unix, also when an
/// existing file is replaced). Without `replace`, an existing file is an `AlreadyExists` error.
pub fn private_file(path: &Path, replace: bool) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    // A replaced file keeps its old mode unless it is set again.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(file)
}
