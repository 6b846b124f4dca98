//! Pipe packages: the files of one pipe version, stored as a deterministic `.tar.gz` under
//! its SHA-256.
//!
//! Files come in through three doors: an uploaded `.tar.gz` or `.zip` ([`unpack`]), a JSON map
//! of base64 contents ([`from_base64_files`]) and a version folder on disk at scan time
//! ([`read_dir`]). All three apply the same rules: one path rule ([`clean_path`]), regular
//! files only, no path twice, and bounds on the count and the total size that hold while
//! reading, whatever the headers declare. Uploads are hostile; nothing here trusts a declared
//! size, a name or an entry type.
use std::{
    cell::{Cell, RefCell},
    collections::HashSet,
    ffi::{OsStr, OsString},
    fmt,
    fmt::Write as _,
    fs,
    io::{self, Cursor, Read},
    path::{Path, PathBuf},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use flate2::{Compress, Compression, Crc, FlushCompress, Status, read::GzDecoder};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::error::Error;
use super::scan::strongest_manifest;

/// How many files a package may hold unless told otherwise.
pub const DEFAULT_MAX_FILES: usize = 10_000;
/// The longest path accepted, in bytes (before `.` components are dropped).
pub const MAX_PATH_BYTES: usize = 1024;
/// The longest file or folder name accepted, in bytes (what most file systems take).
pub const MAX_NAME_BYTES: usize = 255;
/// The deepest path accepted, in components.
pub const MAX_DEPTH: usize = 32;
/// Entry names in messages are cut to this many characters, so a hostile name cannot flood a
/// page or a log.
const MAX_SHOWN_CHARS: usize = 120;
/// What a tar stream may hold besides file contents, per entry: a header, padding and room
/// for a long name.
const TAR_ENTRY_OVERHEAD: u64 = 2048;
const TAR_SLACK: u64 = 1 << 20;
/// How many wrapping folders an upload may have around its manifest (`name/1.0.0/pipe.yaml`).
const MAX_STRIPPED_FOLDERS: usize = 3;
/// Unix file type bits (`S_IFMT`) as zip stores them.
const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;
/// Left out when a folder is read from disk: tool state, not pipe code.
const SKIPPED_FOLDERS: [&str; 3] = [".git", "__pycache__", "node_modules"];
const SKIPPED_FILES: [&str; 1] = [".DS_Store"];

/// Bounds for one package.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The total size of all files once unpacked.
    pub max_bytes: u64,
    pub max_files: usize,
}

impl Limits {
    pub fn new(max_bytes: u64) -> Limits {
        Limits { max_bytes, max_files: DEFAULT_MAX_FILES }
    }
}

/// One file of a package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageFile {
    /// Relative and `/`-separated, as [`clean_path`] returns it.
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Why a package was refused. `TooLarge` is told apart because it is HTTP 413; `Invalid` is
/// a 400. The text names the offending entry, escaped and cut short.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    TooLarge(String),
    Invalid(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::TooLarge(reason) | Refusal::Invalid(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for Refusal {}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::TooLarge(reason) => Error::TooLarge(reason),
            Refusal::Invalid(reason) => Error::BadRequest(reason),
        }
    }
}

fn invalid(name: &str, why: impl fmt::Display) -> Refusal {
    Refusal::Invalid(format!("'{}' {why}", shown(name)))
}

/// A name as it may appear in a message: control and invisible characters escaped (a name
/// cannot forge lines or reorder text), at most [`MAX_SHOWN_CHARS`] characters.
fn shown(name: &str) -> String {
    let (mut out, mut chars, mut cut) = (String::new(), 0, 0);
    for c in name.chars() {
        let start = out.len();
        if c.is_control() || is_invisible(c) {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
        chars += out[start..].chars().count();
        if chars < MAX_SHOWN_CHARS {
            cut = out.len();
        }
        if chars > MAX_SHOWN_CHARS {
            out.truncate(cut);
            out.push('…');
            break;
        }
    }
    out
}

/// Zero-width and direction-changing characters, which would make a name read differently.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// The one path rule of every door: a relative, `/`-separated path of at most
/// [`MAX_DEPTH`] components, none of them `..`, without control characters or backslashes.
/// `.` and empty components are dropped; the result is the path as stored.
pub fn clean_path(path: &str) -> Result<String, Refusal> {
    let refuse = |why: &str| Err(Refusal::Invalid(format!("Path '{}' is refused: {why}", shown(path))));
    if path.len() > MAX_PATH_BYTES {
        return refuse(&format!("it is longer than {MAX_PATH_BYTES} bytes"));
    }
    if path.chars().any(char::is_control) {
        return refuse("it holds a control character");
    }
    let drive = path.as_bytes().get(..2).is_some_and(|start| start[0].is_ascii_alphabetic() && start[1] == b':');
    if path.starts_with(['/', '\\']) || drive {
        return refuse("it is absolute; paths are relative to the package");
    }
    if path.contains('\\') {
        return refuse("it holds a backslash; separate folders with '/'");
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return refuse("it goes up with '..'"),
            _ if part.len() > MAX_NAME_BYTES => return refuse(&format!("a name in it is longer than {MAX_NAME_BYTES} bytes")),
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        return refuse("it is empty");
    }
    if parts.len() > MAX_DEPTH {
        return refuse(&format!("it is deeper than {MAX_DEPTH} folders"));
    }
    Ok(parts.join("/"))
}

/// Files as they come in, each checked against the limits and against the others.
struct Collector<'a> {
    limits: &'a Limits,
    total: u64,
    files: Vec<PackageFile>,
    paths: HashSet<String>,
    folders: HashSet<String>,
}

impl<'a> Collector<'a> {
    fn new(limits: &'a Limits) -> Self {
        Collector { limits, total: 0, files: Vec::new(), paths: HashSet::new(), folders: HashSet::new() }
    }

    fn remaining(&self) -> u64 {
        self.limits.max_bytes.saturating_sub(self.total)
    }

    fn too_large(&self, name: &str) -> Refusal {
        Refusal::TooLarge(format!("The package is larger than {} bytes unpacked (at '{}')", self.limits.max_bytes, shown(name)))
    }

    /// The clean path of a new file, once its name, the count and its uniqueness are checked.
    fn admit(&mut self, name: &str) -> Result<String, Refusal> {
        if name.ends_with('/') {
            return Err(invalid(name, "is a file whose name ends with '/'"));
        }
        let path = clean_path(name)?;
        if self.files.len() >= self.limits.max_files {
            return Err(Refusal::TooLarge(format!("The package holds more than {} files (at '{}')", self.limits.max_files, shown(name))));
        }
        if !self.paths.insert(path.clone()) {
            return Err(invalid(&path, "appears twice in the package"));
        }
        Ok(path)
    }

    /// Reads a file's content, never more than one byte past what the limit leaves: a
    /// declared size is not believed. `size` is what a file on disk measured when listed (0
    /// for an archive's entries, whose headers may lie): room for it, within the limit, is
    /// taken at once, so the file is read in one call instead of a dozen growing ones.
    fn read(&mut self, name: &str, reader: impl Read, size: u64, broken: &dyn Fn(io::Error) -> Refusal) -> Result<u64, Refusal> {
        let path = self.admit(name)?;
        let room = size.min(self.remaining()).saturating_add(1);
        let mut bytes = Vec::with_capacity(usize::try_from(room).unwrap_or(0));
        reader.take(self.remaining().saturating_add(1)).read_to_end(&mut bytes).map_err(broken)?;
        let read = bytes.len() as u64;
        self.push(path, bytes)?;
        Ok(read)
    }

    fn push(&mut self, path: String, bytes: Vec<u8>) -> Result<(), Refusal> {
        self.total = self.total.saturating_add(bytes.len() as u64);
        if self.total > self.limits.max_bytes {
            return Err(self.too_large(&path));
        }
        self.files.push(PackageFile { path, bytes });
        Ok(())
    }

    fn folder(&mut self, name: &str) -> Result<(), Refusal> {
        self.folders.insert(clean_path(name)?);
        Ok(())
    }

    /// The files by path, once no path is both a file and a folder (no disk could hold both).
    fn finish(mut self) -> Result<Vec<PackageFile>, Refusal> {
        for file in &self.files {
            let mut parents = file.path.match_indices('/').map(|(at, _)| &file.path[..at]);
            if let Some(clash) = parents.find(|parent| self.paths.contains(*parent)) {
                return Err(invalid(clash, "is both a file and a folder"));
            }
            if self.folders.contains(&file.path) {
                return Err(invalid(&file.path, "is both a file and a folder"));
            }
        }
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(self.files)
    }
}

/// The files of an uploaded `.tar.gz` or `.zip` (told apart by their first bytes), sorted by
/// path, with wrapping folders around the manifest removed (see [`manifest_at_root`]).
pub fn unpack(body: &[u8], limits: &Limits) -> Result<Vec<PackageFile>, Refusal> {
    let files = if body.starts_with(&[0x1f, 0x8b]) {
        unpack_tar_gz(body, limits, &Cell::new(0))?
    } else if body.starts_with(b"PK\x03\x04") || body.starts_with(b"PK\x05\x06") {
        unpack_zip(body, limits)?
    } else {
        return Err(Refusal::Invalid("The upload is not a .tar.gz or .zip archive".into()));
    };
    Ok(manifest_to_root(files))
}

/// Counts what passes through it into `used` and fails past `limit`: a tar stream's headers
/// and padding come out of the decompressor too, and are bounded here.
struct Budget<'a, R> {
    inner: R,
    used: &'a Cell<u64>,
    limit: u64,
}

impl<R: Read> Read for Budget<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let exceeded = || io::Error::other("the archive expands past its limit");
        if self.used.get() > self.limit {
            return Err(exceeded());
        }
        let room = usize::try_from(self.limit - self.used.get()).unwrap_or(usize::MAX).saturating_add(1);
        let room = buf.len().min(room);
        let read = self.inner.read(&mut buf[..room])?;
        self.used.set(self.used.get() + read as u64);
        if self.used.get() > self.limit {
            return Err(exceeded());
        }
        Ok(read)
    }
}

/// `used` tells how much came out of the decompressor (the tests read it).
fn unpack_tar_gz(body: &[u8], limits: &Limits, used: &Cell<u64>) -> Result<Vec<PackageFile>, Refusal> {
    let limit = limits.max_bytes.saturating_add(TAR_ENTRY_OVERHEAD.saturating_mul(limits.max_files as u64 + 2)).saturating_add(TAR_SLACK);
    let broken = |err: io::Error| {
        if used.get() > limit {
            Refusal::TooLarge(format!("The archive expands past {limit} bytes"))
        } else {
            Refusal::Invalid(format!("The upload is not a readable .tar.gz: {err}"))
        }
    };
    let mut archive = tar::Archive::new(Budget { inner: GzDecoder::new(body), used, limit });
    let mut files = Collector::new(limits);
    for entry in archive.entries().map_err(broken)? {
        let mut entry = entry.map_err(broken)?;
        let raw = entry.path_bytes();
        let name =
            std::str::from_utf8(&raw).map_err(|_| invalid(&String::from_utf8_lossy(&raw), "has a name that is not UTF-8"))?.to_owned();
        match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let declared = entry.size();
                if files.read(&name, &mut entry, 0, &broken)? < declared {
                    return Err(invalid(&name, "is cut short"));
                }
            }
            tar::EntryType::Directory => files.folder(&name)?,
            // Metadata for the whole archive (`git archive` writes one); it names no file.
            tar::EntryType::XGlobalHeader => {}
            kind => return Err(invalid(&name, format_args!("is {}; a package holds only files and folders", tar_kind(kind)))),
        }
    }
    // The rest of the stream, so that a damaged or cut-off archive fails its gzip checksum.
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(broken)?;
    files.finish()
}

fn tar_kind(kind: tar::EntryType) -> String {
    match kind {
        tar::EntryType::Symlink => "a symbolic link".into(),
        tar::EntryType::Link => "a hard link".into(),
        tar::EntryType::Char => "a character device".into(),
        tar::EntryType::Block => "a block device".into(),
        tar::EntryType::Fifo => "a FIFO".into(),
        tar::EntryType::GNUSparse => "a sparse file".into(),
        other => format!("a tar entry of type '{}'", char::from(other.as_byte()).escape_default()),
    }
}

fn unpack_zip(body: &[u8], limits: &Limits) -> Result<Vec<PackageFile>, Refusal> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(body)).map_err(|err| Refusal::Invalid(format!("The upload is not a readable .zip: {err}")))?;
    let mut files = Collector::new(limits);
    for index in 0..archive.len() {
        let broken = |err: &dyn fmt::Display| Refusal::Invalid(format!("The .zip cannot be read at entry {index}: {err}"));
        let entry = archive.by_index_data(index).map_err(|err| broken(&err))?;
        let raw = entry.name_raw();
        let name = std::str::from_utf8(raw).map_err(|_| invalid(&String::from_utf8_lossy(raw), "has a name that is not UTF-8"))?.to_owned();
        if entry.encrypted() {
            return Err(invalid(&name, "is encrypted"));
        }
        let kind = entry.unix_mode().map_or(0, |mode| mode & S_IFMT);
        match kind {
            0 | S_IFREG | S_IFDIR => {}
            S_IFLNK => return Err(invalid(&name, "is a symbolic link; a package holds only files and folders")),
            _ => return Err(invalid(&name, format_args!("is a special file (mode {kind:o}); a package holds only files and folders"))),
        }
        if kind == S_IFDIR || name.ends_with('/') {
            files.folder(&name)?;
            continue;
        }
        let mut file = archive.by_index(index).map_err(|err| invalid(&name, format_args!("cannot be read: {err}")))?;
        files.read(&name, &mut file, 0, &|err| invalid(&name, format_args!("cannot be read: {err}")))?;
    }
    files.finish()
}

/// The files of a JSON map of relative path to standard base64 content, after `first` (a
/// manifest sent as text, say), sorted by path, with wrapping folders around the manifest
/// removed (as [`unpack`]).
pub fn from_base64_files(first: Option<PackageFile>, files: &Map<String, Value>, limits: &Limits) -> Result<Vec<PackageFile>, Refusal> {
    let mut collector = Collector::new(limits);
    if let Some(file) = first {
        let path = collector.admit(&file.path)?;
        collector.push(path, file.bytes)?;
    }
    for (name, value) in files {
        let path = collector.admit(name)?;
        let Value::String(text) = value else {
            return Err(invalid(&path, "must map to a base64 string"));
        };
        // Refused from its length, before any of it is decoded.
        let padding = text.bytes().rev().take(2).take_while(|&b| b == b'=').count();
        if (text.len() - padding) as u64 * 3 / 4 > collector.remaining() {
            return Err(collector.too_large(&path));
        }
        let bytes = STANDARD.decode(text).map_err(|err| invalid(&path, format_args!("is not valid base64: {err}")))?;
        collector.push(path, bytes)?;
    }
    Ok(manifest_to_root(collector.finish()?))
}

/// A version folder's files as one walk listed them, before any is read: enough for its
/// stamp, and the list [`Listing::read`] reads.
pub struct Listing {
    dir: PathBuf,
    /// The regular files in name order, with their metadata; or why the walk failed.
    files: Result<Vec<(PathBuf, fs::Metadata)>, String>,
    /// The names at the top of the folder that are not regular files (links, folders).
    others: Vec<String>,
}

/// Lists a version folder's files, walking it once. Symbolic links and special files are
/// left out, not refused (scanned trees hold them), and so are `.git`, `__pycache__`,
/// `node_modules` and `.DS_Store`.
pub fn list_dir(dir: &Path) -> Listing {
    let entries = match fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => Err("not a folder".to_string()),
        Ok(_) => folder_entries(dir).map_err(|err| err.to_string()),
        Err(err) => Err(err.to_string()),
    };
    match entries {
        Ok(entries) => list_entries(dir, &entries),
        Err(err) => Listing { dir: dir.to_path_buf(), files: Err(err), others: Vec::new() },
    }
}

/// [`list_dir`] of a folder whose entries were read already: the scan's walk lists each
/// folder once and hands its entries on.
pub fn list_entries(dir: &Path, entries: &[FolderEntry]) -> Listing {
    let mut others = Vec::new();
    let files = walk_files(dir, entries, &mut others);
    Listing { dir: dir.to_path_buf(), files, others }
}

/// One entry of a folder as listing it gives it: its name and kind, no metadata read.
pub struct FolderEntry {
    pub name: OsString,
    pub kind: fs::FileType,
}

/// A folder's entries in name order (byte order, as packages list them), from one listing.
pub fn folder_entries(dir: &Path) -> io::Result<Vec<FolderEntry>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        entries.push(FolderEntry { kind: entry.file_type()?, name: entry.file_name() });
    }
    entries.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// Whether a package leaves out an entry of this name and kind (`.git`, `__pycache__`,
/// `node_modules`, `.DS_Store`).
pub fn left_out(name: &OsStr, kind: fs::FileType) -> bool {
    let skipped: &[&str] = if kind.is_dir() { &SKIPPED_FOLDERS } else { &SKIPPED_FILES };
    name.to_str().is_some_and(|name| skipped.contains(&name))
}

/// The regular files under `dir`, whose top holds `entries`, with their metadata, in the
/// order of a walk by name; the names of the other entries at its top go to `others`.
fn walk_files(dir: &Path, entries: &[FolderEntry], others: &mut Vec<String>) -> Result<Vec<(PathBuf, fs::Metadata)>, String> {
    let mut files = Vec::new();
    for entry in entries.iter().filter(|entry| !left_out(&entry.name, entry.kind)) {
        let path = dir.join(&entry.name);
        if entry.kind.is_file() {
            let meta = fs::symlink_metadata(&path).map_err(|err| format!("{}: {err}", path.display()))?;
            files.push((path, meta));
            continue;
        }
        others.push(entry.name.to_string_lossy().into_owned());
        if !entry.kind.is_dir() {
            continue;
        }
        for inner in package_walk(&path) {
            let inner = inner.map_err(|err| err.to_string())?;
            if inner.depth() > 0 && inner.file_type().is_file() {
                let meta = inner.metadata().map_err(|err| format!("{}: {err}", inner.path().display()))?;
                files.push((inner.into_path(), meta));
            }
        }
    }
    Ok(files)
}

impl Listing {
    /// What the folder's files look like without reading them: each file's path, size,
    /// modification and change times, hashed. The same stamp means no file was written,
    /// added, removed or renamed since; `None` when the folder cannot be listed.
    pub fn stamp(&self) -> Option<String> {
        use std::os::unix::fs::MetadataExt;
        let mut hasher = Sha256::new();
        for (path, meta) in self.files.as_ref().ok()? {
            hasher.update(path.strip_prefix(&self.dir).ok()?.as_os_str().as_encoded_bytes());
            hasher.update([0]);
            for number in [meta.len() as i64, meta.mtime(), meta.mtime_nsec(), meta.ctime(), meta.ctime_nsec(), meta.ino() as i64] {
                hasher.update(number.to_le_bytes());
            }
        }
        Some(hex::encode(hasher.finalize()))
    }

    /// Whether the top of the folder holds `name` as something other than a regular file.
    pub fn holds_other(&self, name: &str) -> bool {
        self.others.iter().any(|other| other == name)
    }

    /// Reads the listed files, sorted by path, within `limits`.
    pub fn read(&self, limits: &Limits) -> Result<Vec<PackageFile>, Refusal> {
        let cannot = |what: &dyn fmt::Display, err: &dyn fmt::Display| Refusal::Invalid(format!("Cannot read {what}: {err}"));
        let listed = self.files.as_ref().map_err(|err| cannot(&self.dir.display(), err))?;
        let mut files = Collector::new(limits);
        for (path, meta) in listed {
            let relative = path.strip_prefix(&self.dir).map_err(|err| cannot(&path.display(), &err))?;
            let parts: Option<Vec<&str>> = relative.iter().map(|part| part.to_str()).collect();
            let Some(parts) = parts else {
                return Err(invalid(&relative.to_string_lossy(), "has a name that is not UTF-8"));
            };
            let name = parts.join("/");
            if meta.len() > files.remaining() {
                return Err(files.too_large(&name));
            }
            let file = fs::File::open(path).map_err(|err| cannot(&path.display(), &err))?;
            // Opened by name: make sure it is still the regular file the walk saw.
            if !file.metadata().is_ok_and(|meta| meta.is_file()) {
                return Err(invalid(&name, "changed while it was read"));
            }
            files.read(&name, file, meta.len(), &|err| cannot(&path.display(), &err))?;
        }
        files.finish()
    }
}

/// The files of a version folder on disk, sorted by path (see [`list_dir`]).
pub fn read_dir(dir: &Path, limits: &Limits) -> Result<Vec<PackageFile>, Refusal> {
    list_dir(dir).read(limits)
}

/// The entries of a version folder that belong in its package, in name order.
fn package_walk(dir: &Path) -> impl Iterator<Item = walkdir::Result<walkdir::DirEntry>> {
    walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !left_out(entry.file_name(), entry.file_type()))
}

/// The deflate level of packages. zlib-rs' level 2 (its fast strategy, with codes fitted to
/// each package) packs a manifest's folder in 60% of the default level's time for 2% more
/// bytes; level 1 uses fixed codes and gives a third more.
const PACK_LEVEL: u32 = 2;

thread_local! {
    /// One compressor per thread, reset for each package: a new one allocates and clears
    /// about 300 KB, more than compressing a manifest's package takes.
    static COMPRESSOR: RefCell<Compress> = RefCell::new(Compress::new(Compression::new(PACK_LEVEL), false));
}

/// A deterministic `.tar.gz` of `files`: sorted by path, every entry a regular file with mode
/// 0644, time 0 and owner 0, the gzip header without a time. The same files give the same
/// bytes, so the same package gets the same SHA-256. Refuses paths that [`clean_path`] would
/// change and paths given twice, which [`unpack`] would refuse.
pub fn pack(files: &[PackageFile]) -> Result<Vec<u8>, Refusal> {
    let mut sorted: Vec<&PackageFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    for (at, file) in sorted.iter().enumerate() {
        if clean_path(&file.path)? != file.path {
            return Err(invalid(&file.path, "is not a clean path"));
        }
        if at > 0 && sorted[at - 1].path == file.path {
            return Err(invalid(&file.path, "appears twice in the package"));
        }
    }
    let broken = |err: io::Error| Refusal::Invalid(format!("Cannot pack the package: {err}"));
    let mut tar = tar::Builder::new(Vec::new());
    for file in sorted {
        // Writes a GNU long-name entry first for paths past 100 bytes.
        tar.append_data(&mut packed_header(&file.bytes), &file.path, file.bytes.as_slice()).map_err(broken)?;
    }
    gzip(&tar.into_inner().map_err(broken)?).map_err(|err| broken(io::Error::other(err)))
}

/// A packed file's tar header: a regular file of `bytes`' size, mode 0644, time 0, owner 0.
fn packed_header(bytes: &[u8]) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header
}

/// `data` as a gzip stream at [`PACK_LEVEL`], compressed in one call: no name, no time,
/// the operating system "unknown". The same data always gives the same bytes.
fn gzip(data: &[u8]) -> Result<Vec<u8>, flate2::CompressError> {
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let mut out = Vec::with_capacity(HEADER.len() + data.len() / 2 + 1024);
    out.extend_from_slice(&HEADER);
    COMPRESSOR.with_borrow_mut(|compress| {
        compress.reset();
        loop {
            let consumed = compress.total_in() as usize;
            if compress.compress_vec(&data[consumed..], &mut out, FlushCompress::Finish)? == Status::StreamEnd {
                return Ok(());
            }
            // The output was full: make room and go on.
            out.reserve(out.capacity());
        }
    })?;
    let mut crc = Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&crc.amount().to_le_bytes());
    // A batch of a scan holds a thousand packages: none keeps the room reserved above.
    out.shrink_to_fit();
    Ok(out)
}

/// The SHA-256 of `bytes` in lowercase hex: the address a package is stored under.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The strongest manifest at the root of a package: `plug.yaml`, `plugin.yaml`, `glue.yaml`,
/// then `pipe.yaml`.
pub fn manifest_at_root(files: &[PackageFile]) -> Option<&PackageFile> {
    strongest_manifest(|name| files.iter().find(|file| file.path == name))
}

/// Removes up to [`MAX_STRIPPED_FOLDERS`] folders that wrap every file while no manifest is
/// at the root, so `demo/1.0.0/pipe.yaml` and `folder/pipe.yaml` uploads work. A package
/// with no manifest is left for the caller to refuse.
fn manifest_to_root(mut files: Vec<PackageFile>) -> Vec<PackageFile> {
    for _ in 0..MAX_STRIPPED_FOLDERS {
        if manifest_at_root(&files).is_some() {
            break;
        }
        let Some((top, _)) = files.first().and_then(|file| file.path.split_once('/')) else {
            break;
        };
        let prefix = format!("{top}/");
        if !files.iter().all(|file| file.path.starts_with(&prefix)) {
            break;
        }
        for file in &mut files {
            file.path.drain(..prefix.len());
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;
    use zip::{CompressionMethod, ZipWriter, write::SimpleFileOptions};

    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn a_folder_stamp_changes_with_any_file_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("src")).unwrap();
        fs::write(dir.path().join("plug.yaml"), "name: a\n").unwrap();
        fs::write(dir.path().join("src/main.py"), "print(1)\n").unwrap();
        let first = list_dir(dir.path()).stamp().unwrap();
        assert_eq!(list_dir(dir.path()).stamp().unwrap(), first, "nothing touched");
        fs::create_dir_all(dir.path().join(".git")).unwrap();
        fs::write(dir.path().join(".git/HEAD"), "ref").unwrap();
        assert_eq!(list_dir(dir.path()).stamp().unwrap(), first, "what a package leaves out does not count");
        fs::write(dir.path().join("src/main.py"), "print(2)\n").unwrap();
        let rewritten = list_dir(dir.path()).stamp().unwrap();
        assert_ne!(rewritten, first, "same size, new content");
        fs::rename(dir.path().join("src/main.py"), dir.path().join("src/run.py")).unwrap();
        assert_ne!(list_dir(dir.path()).stamp().unwrap(), rewritten, "renamed");
        assert!(list_dir(&dir.path().join("missing")).stamp().is_none());
    }

    fn file(path: &str, bytes: &[u8]) -> PackageFile {
        PackageFile { path: path.into(), bytes: bytes.to_vec() }
    }

    fn sample() -> Vec<PackageFile> {
        let long = format!("src/{}/main.py", "deep".repeat(40));
        vec![
            file("pipe.yaml", b"name: demo\nversion: 1.0.0\n"),
            file("src/main.py", b"print('hi')\n"),
            file(&long, b"# a path past 100 bytes\n"),
            file("data/empty.txt", b""),
            file("data/blob.bin", &(0..=255u8).cycle().take(70_000).collect::<Vec<_>>()),
        ]
    }

    fn sorted(mut files: Vec<PackageFile>) -> Vec<PackageFile> {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files
    }

    fn is_invalid(result: Result<Vec<PackageFile>, Refusal>, naming: &str) -> bool {
        matches!(&result, Err(Refusal::Invalid(reason)) if reason.contains(naming))
    }

    fn is_too_large(result: &Result<Vec<PackageFile>, Refusal>) -> bool {
        matches!(result, Err(Refusal::TooLarge(_)))
    }

    /// A .tar.gz whose headers are written by hand, so names and types the tar writer
    /// refuses (`..`, absolute paths, links, devices) can be tested.
    fn raw_tar(entries: &[(&[u8], tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
        for (name, kind, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.as_old_mut().name[..name.len()].copy_from_slice(name);
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            if matches!(kind, tar::EntryType::Symlink | tar::EntryType::Link) {
                header.set_link_name("pipe.yaml").unwrap();
            }
            header.set_cksum();
            tar.append(&header, *data).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap()
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        for (name, data) in entries {
            zip.start_file(*name, options).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn clean_path_normalizes_and_refuses() {
        assert_eq!(clean_path("a/b.py").unwrap(), "a/b.py");
        assert_eq!(clean_path("./a/./b.py").unwrap(), "a/b.py");
        assert_eq!(clean_path("a//b.py").unwrap(), "a/b.py");
        let deep = vec!["d"; MAX_DEPTH].join("/");
        assert_eq!(clean_path(&deep).unwrap(), deep);
        let name = "n".repeat(MAX_NAME_BYTES);
        assert_eq!(clean_path(&name).unwrap(), name);
        for bad in [
            "",
            ".",
            "./",
            "/",
            "/x",
            "/etc/passwd",
            "C:\\x",
            "C:/x",
            "c:x",
            "\\\\server\\x",
            "a\\b",
            "..",
            "../x",
            "a/../../x",
            "a/..",
            "a/\0b",
            "a\nb",
            "a\u{1b}[31m",
            &"n".repeat(MAX_NAME_BYTES + 1),
            &format!("{deep}/one-more"),
            &"a/".repeat(MAX_PATH_BYTES / 2 + 1),
        ] {
            assert!(matches!(clean_path(bad), Err(Refusal::Invalid(_))), "{bad:?} was accepted");
        }
    }

    #[test]
    fn refusals_escape_and_shorten_names() {
        let reason = clean_path("../\u{1b}[2Jevil\n\u{202e}").unwrap_err().to_string();
        assert!(!reason.chars().any(|c| c.is_control() || is_invisible(c)), "{reason:?}");
        assert!(reason.contains("\\u{1b}[2Jevil\\n\\u{202e}"), "{reason}");
        let long = format!("../{}", "x".repeat(1000));
        let reason = clean_path(&long).unwrap_err().to_string();
        let quoted = reason.split('\'').nth(1).unwrap();
        assert_eq!(quoted.chars().count(), MAX_SHOWN_CHARS);
        assert!(quoted.ends_with('…'));
        assert_eq!(shown(&"y".repeat(MAX_SHOWN_CHARS)), "y".repeat(MAX_SHOWN_CHARS));
        let err: Error = Refusal::TooLarge("big".into()).into();
        assert_eq!(err.http_status(), 413);
        let err: Error = Refusal::Invalid("bad".into()).into();
        assert_eq!(err.http_status(), 400);
    }

    #[test]
    fn pack_round_trips_and_is_deterministic() {
        let files = sample();
        let packed = pack(&files).unwrap();
        assert_eq!(packed, pack(&files).unwrap());
        let mut reversed = files.clone();
        reversed.reverse();
        assert_eq!(pack(&reversed).unwrap(), packed, "the order given does not matter");
        assert_eq!(sha256_hex(&packed), sha256_hex(&pack(&reversed).unwrap()));
        assert_eq!(unpack(&packed, &Limits::new(MIB)).unwrap(), sorted(files.clone()));

        // The gzip header carries no time, and each entry is a plain 0644 file of owner 0.
        assert_eq!(&packed[4..8], &[0, 0, 0, 0]);
        let mut archive = tar::Archive::new(GzDecoder::new(packed.as_slice()));
        for entry in archive.entries().unwrap() {
            let header = entry.unwrap().header().clone();
            assert_eq!(header.entry_type(), tar::EntryType::Regular);
            assert_eq!((header.mode().unwrap(), header.mtime().unwrap(), header.uid().unwrap(), header.gid().unwrap()), (0o644, 0, 0, 0));
            assert_eq!(header.username_bytes().unwrap_or_default(), b"");
        }
    }

    #[test]
    fn pack_writes_the_same_bytes_every_time_and_a_gzip_reader_reads_them() {
        // The SHA-256 of a folder's package must not change between scans: a rescan compares
        // it with the one stored.
        let big: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        let packages = [sample(), vec![file("a", b"")], vec![file("big.bin", &big), file("plug.yaml", b"name: x\n")]];
        // Each packed by a new compressor (a new thread's), then all again by this thread's.
        let fresh: Vec<Vec<u8>> =
            packages.iter().map(|files| std::thread::scope(|s| s.spawn(|| pack(files).unwrap()).join().unwrap())).collect();
        for (files, fresh) in packages.iter().zip(&fresh) {
            assert_eq!(&pack(files).unwrap(), fresh, "the reused compressor starts afresh");
            assert_eq!(fresh[..10], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255], "no name, no time");
            let mut tar = Vec::new();
            flate2::read::GzDecoder::new(fresh.as_slice()).read_to_end(&mut tar).unwrap();
            let mut expected = tar::Builder::new(Vec::new());
            for f in sorted(files.clone()) {
                expected.append_data(&mut packed_header(&f.bytes), &f.path, f.bytes.as_slice()).unwrap();
            }
            assert_eq!(tar, expected.into_inner().unwrap());
        }
    }

    #[test]
    fn pack_refuses_what_unpack_would() {
        assert!(matches!(pack(&[file("a", b"1"), file("a", b"2")]), Err(Refusal::Invalid(_))));
        assert!(matches!(pack(&[file("../a", b"1")]), Err(Refusal::Invalid(_))));
        assert!(matches!(pack(&[file("./a", b"1")]), Err(Refusal::Invalid(_))));
        assert_eq!(unpack(&pack(&[]).unwrap(), &Limits::new(MIB)).unwrap(), vec![]);
    }

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn zip_uploads_unpack() {
        let files = sample();
        let entries: Vec<(&str, &[u8])> = files.iter().map(|f| (f.path.as_str(), f.bytes.as_slice())).collect();
        assert_eq!(unpack(&zip_of(&entries), &Limits::new(MIB)).unwrap(), sorted(files.clone()));

        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        zip.add_directory("pkg/", SimpleFileOptions::default()).unwrap();
        zip.start_file("pkg/pipe.yaml", SimpleFileOptions::default().compression_method(CompressionMethod::Stored)).unwrap();
        zip.write_all(b"name: x\n").unwrap();
        let body = zip.finish().unwrap().into_inner();
        assert_eq!(unpack(&body, &Limits::new(MIB)).unwrap(), vec![file("pipe.yaml", b"name: x\n")]);

        let mut empty = b"PK\x05\x06".to_vec();
        empty.extend([0; 18]);
        assert_eq!(unpack(&empty, &Limits::new(MIB)).unwrap(), vec![]);
    }

    #[test]
    fn escaping_paths_are_refused_in_tar() {
        for name in ["../evil", "/etc/passwd", "a/../../x", "a\\..\\x", "x\u{1b}y"] {
            let body = raw_tar(&[(b"pipe.yaml", tar::EntryType::Regular, b"a: 1\n"), (name.as_bytes(), tar::EntryType::Regular, b"x")]);
            assert!(is_invalid(unpack(&body, &Limits::new(MIB)), "is refused"), "{name:?}");
        }
        let body = raw_tar(&[(b"../up", tar::EntryType::Directory, b"")]);
        assert!(is_invalid(unpack(&body, &Limits::new(MIB)), "'../up'"));
        let body = raw_tar(&[(b"\xffname", tar::EntryType::Regular, b"x")]);
        assert!(is_invalid(unpack(&body, &Limits::new(MIB)), "not UTF-8"));
    }

    #[test]
    fn escaping_paths_are_refused_in_zip() {
        for name in ["../x", "/etc/passwd", "a/../../x", "C:\\x"] {
            let body = zip_of(&[("pipe.yaml", b"a: 1\n"), (name, b"x")]);
            assert!(is_invalid(unpack(&body, &Limits::new(MIB)), "is refused"), "{name:?}");
        }
        // A name that is not UTF-8 (patched in, as the writer takes only strings).
        let body = zip_of(&[("xy-name", b"x")]);
        let mut body = body;
        for at in 0..body.len() - 7 {
            if &body[at..at + 7] == b"xy-name" {
                body[at..at + 2].copy_from_slice(&[0xff, 0xfe]);
            }
        }
        assert!(is_invalid(unpack(&body, &Limits::new(MIB)), "not UTF-8"));
    }

    #[test]
    fn links_and_devices_are_refused_in_tar() {
        for (kind, what) in [
            (tar::EntryType::Symlink, "symbolic link"),
            (tar::EntryType::Link, "hard link"),
            (tar::EntryType::Char, "character device"),
            (tar::EntryType::Block, "block device"),
            (tar::EntryType::Fifo, "FIFO"),
        ] {
            let body = raw_tar(&[(b"pipe.yaml", tar::EntryType::Regular, b"a: 1\n"), (b"sneaky", kind, b"")]);
            let result = unpack(&body, &Limits::new(MIB));
            assert!(is_invalid(result.clone(), what) && is_invalid(result, "'sneaky'"), "{kind:?}");
        }
    }

    #[test]
    fn links_and_encryption_are_refused_in_zip() {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("pipe.yaml", SimpleFileOptions::default()).unwrap();
        zip.write_all(b"a: 1\n").unwrap();
        zip.add_symlink("link", "/etc/passwd", SimpleFileOptions::default()).unwrap();
        let body = zip.finish().unwrap().into_inner();
        assert!(is_invalid(unpack(&body, &Limits::new(MIB)), "'link' is a symbolic link"));

        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let fifo = SimpleFileOptions::default().external_attributes(0o010_644 << 16);
        zip.start_file("fifo", fifo).unwrap();
        let body = zip.finish().unwrap().into_inner();
        assert!(is_invalid(unpack(&body, &Limits::new(MIB)), "'fifo' is a special file"));

        use zip::unstable::write::FileOptionsExt;
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("secret", SimpleFileOptions::default().with_deprecated_encryption(b"pw").unwrap()).unwrap();
        zip.write_all(b"hidden").unwrap();
        let body = zip.finish().unwrap().into_inner();
        assert!(is_invalid(unpack(&body, &Limits::new(MIB)), "'secret' is encrypted"));
    }

    /// A tar.gz of one file of 64 MiB of zeros, about 64 KiB compressed, built in chunks.
    fn tar_bomb() -> Vec<u8> {
        let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::best()));
        let mut header = tar::Header::new_gnu();
        header.set_size(64 * MIB);
        header.set_mode(0o644);
        tar.append_data(&mut header, "zeros.bin", io::repeat(0).take(64 * MIB)).unwrap();
        tar.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn gzip_bomb_is_refused_early() {
        let bomb = tar_bomb();
        assert!(bomb.len() < 256 * 1024, "{}", bomb.len());
        let used = Cell::new(0);
        let result = unpack_tar_gz(&bomb, &Limits::new(MIB), &used);
        assert!(is_too_large(&result), "{result:?}");
        assert!(used.get() < MIB + 64 * 1024, "read {} bytes of the bomb", used.get());
        assert!(is_too_large(&unpack(&bomb, &Limits::new(MIB))));
        assert!(unpack(&bomb, &Limits::new(64 * MIB)).is_ok_and(|files| files[0].bytes.len() as u64 == 64 * MIB));
    }

    #[test]
    fn tar_headers_count_against_the_stream_budget() {
        // Folders hold no bytes, but a stream of their headers is bounded all the same.
        let names: Vec<String> = (0..3000).map(|n| format!("d{n}/")).collect();
        let entries: Vec<(&[u8], tar::EntryType, &[u8])> =
            names.iter().map(|name| (name.as_bytes(), tar::EntryType::Directory, &b""[..])).collect();
        let body = raw_tar(&entries);
        let limits = Limits { max_bytes: 1024, max_files: 1 };
        let used = Cell::new(0);
        assert!(is_too_large(&unpack_tar_gz(&body, &limits, &used)));
        assert!(used.get() <= 1024 + TAR_ENTRY_OVERHEAD * 3 + TAR_SLACK + 1);
        assert!(unpack(&body, &Limits::new(MIB)).is_ok());
    }

    #[test]
    fn zip_bomb_is_refused() {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("zeros.bin", SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)).unwrap();
        let chunk = vec![0; 64 * 1024];
        for _ in 0..1024 {
            zip.write_all(&chunk).unwrap();
        }
        let bomb = zip.finish().unwrap().into_inner();
        assert!(bomb.len() < 256 * 1024, "{}", bomb.len());
        let started = std::time::Instant::now();
        assert!(is_too_large(&unpack(&bomb, &Limits::new(MIB))));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn total_size_and_count_are_bounded() {
        let files = vec![file("a", &[1; 600]), file("b", &[2; 600])];
        let packed = pack(&files).unwrap();
        assert!(is_too_large(&unpack(&packed, &Limits::new(1000))));
        assert!(unpack(&packed, &Limits::new(1200)).is_ok());

        let three = pack(&[file("a", b""), file("b", b""), file("c", b"")]).unwrap();
        assert!(is_too_large(&unpack(&three, &Limits { max_bytes: MIB, max_files: 2 })));
        assert!(unpack(&three, &Limits { max_bytes: MIB, max_files: 3 }).is_ok());
        let zip = zip_of(&[("a", b""), ("b", b""), ("c", b"")]);
        assert!(is_too_large(&unpack(&zip, &Limits { max_bytes: MIB, max_files: 2 })));
    }

    #[test]
    fn non_archives_and_broken_archives_are_invalid() {
        for body in [&b"hello"[..], br#"{"files": {"pipe.yaml": "bmFtZTogeAo="}}"#, b"", b"\x1f", b"PK"] {
            assert!(is_invalid(unpack(body, &Limits::new(MIB)), "not a .tar.gz or .zip"), "{body:?}");
        }
        let packed = pack(&sample()).unwrap();
        for cut in [10, packed.len() / 2, packed.len() - 4] {
            assert!(is_invalid(unpack(&packed[..cut], &Limits::new(MIB)), "not a readable .tar.gz"), "cut at {cut}");
        }
        let mut flipped = packed.clone();
        let last = flipped.len() - 6;
        flipped[last] ^= 0xff;
        assert!(matches!(unpack(&flipped, &Limits::new(MIB)), Err(Refusal::Invalid(_))));

        let gz_text = {
            let mut gz = GzEncoder::new(Vec::new(), Compression::default());
            gz.write_all(&[b'x'; 2000]).unwrap();
            gz.finish().unwrap()
        };
        assert!(matches!(unpack(&gz_text, &Limits::new(MIB)), Err(Refusal::Invalid(_))));

        let zip = zip_of(&[("pipe.yaml", b"a: 1\n"), ("main.py", &[7; 5000])]);
        assert!(is_invalid(unpack(&zip[..zip.len() / 2], &Limits::new(MIB)), "not a readable .zip"));
        let mut corrupt = zip.clone();
        corrupt[40] ^= 0xff;
        assert!(matches!(unpack(&corrupt, &Limits::new(MIB)), Err(Refusal::Invalid(_))));
    }

    #[test]
    fn duplicates_and_clashes_are_refused() {
        let body = raw_tar(&[(b"a.py", tar::EntryType::Regular, b"1"), (b"a.py", tar::EntryType::Regular, b"2")]);
        assert!(is_invalid(unpack(&body, &Limits::new(MIB)), "'a.py' appears twice"));
        let body = raw_tar(&[(b"a.py", tar::EntryType::Regular, b"1"), (b"./a.py", tar::EntryType::Regular, b"2")]);
        assert!(is_invalid(unpack(&body, &Limits::new(MIB)), "'a.py' appears twice"));
        let body = zip_of(&[("a.py", b"1"), ("./a.py", b"2")]);
        assert!(is_invalid(unpack(&body, &Limits::new(MIB)), "'a.py' appears twice"));
        let body = raw_tar(&[(b"lib", tar::EntryType::Regular, b"1"), (b"lib/x.py", tar::EntryType::Regular, b"2")]);
        assert!(is_invalid(unpack(&body, &Limits::new(MIB)), "'lib' is both a file and a folder"));
        let body = raw_tar(&[(b"lib/", tar::EntryType::Directory, b""), (b"lib", tar::EntryType::Regular, b"2")]);
        assert!(is_invalid(unpack(&body, &Limits::new(MIB)), "'lib' is both a file and a folder"));
        let body = raw_tar(&[(b"lib/", tar::EntryType::Directory, b""), (b"lib/", tar::EntryType::Directory, b"")]);
        assert!(unpack(&body, &Limits::new(MIB)).is_ok(), "a folder named twice is harmless");
    }

    #[test]
    fn wrapping_folders_are_removed() {
        let upload =
            [file("demo/1.0.0/pipe.yaml", b"name: demo\n"), file("demo/1.0.0/src/main.py", b"x"), file("demo/1.0.0/README.md", b"r")];
        let files = unpack(&pack(&upload).unwrap(), &Limits::new(MIB)).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["README.md", "pipe.yaml", "src/main.py"]);
        assert_eq!(manifest_at_root(&files).unwrap().bytes, b"name: demo\n");

        // A manifest at the root already: nothing moves.
        let upload = [file("pipe.yaml", b"a"), file("pkg/pipe.yaml", b"b")];
        assert_eq!(unpack(&pack(&upload).unwrap(), &Limits::new(MIB)).unwrap(), upload.to_vec());
        // Files not under one folder stay where they are, with or without a manifest.
        let upload = [file("a/pipe.yaml", b"a"), file("b/main.py", b"b")];
        assert_eq!(unpack(&pack(&upload).unwrap(), &Limits::new(MIB)).unwrap(), upload.to_vec());
        // At most three folders are removed.
        let upload = [file("a/b/c/d/pipe.yaml", b"a")];
        assert_eq!(unpack(&pack(&upload).unwrap(), &Limits::new(MIB)).unwrap(), vec![file("d/pipe.yaml", b"a")]);
        let upload = [file("a/b/c/pipe.yaml", b"a")];
        assert_eq!(unpack(&pack(&upload).unwrap(), &Limits::new(MIB)).unwrap(), vec![file("pipe.yaml", b"a")]);
    }

    #[test]
    fn the_strongest_manifest_wins() {
        let files = [file("pipe.yaml", b"p"), file("glue.yaml", b"g"), file("plugin.yaml", b"pl"), file("x/plug.yaml", b"no")];
        assert_eq!(manifest_at_root(&files).unwrap().path, "plugin.yaml");
        assert!(manifest_at_root(&[file("x/pipe.yaml", b"")]).is_none());
    }

    #[test]
    fn pax_global_headers_are_skipped() {
        let body = raw_tar(&[
            (b"pax_global_header", tar::EntryType::XGlobalHeader, b"52 comment=0123456789abcdef0123456789abcdef01234567\n"),
            (b"pipe.yaml", tar::EntryType::Regular, b"a: 1\n"),
        ]);
        assert_eq!(unpack(&body, &Limits::new(MIB)).unwrap(), vec![file("pipe.yaml", b"a: 1\n")]);
    }

    #[test]
    fn read_dir_skips_links_and_tool_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("src/inner")).unwrap();
        fs::create_dir_all(root.join(".git/objects")).unwrap();
        fs::create_dir_all(root.join("src/__pycache__")).unwrap();
        fs::create_dir_all(root.join("node_modules/x")).unwrap();
        fs::write(root.join("pipe.yaml"), b"name: demo\n").unwrap();
        fs::write(root.join("src/main.py"), b"print(1)\n").unwrap();
        fs::write(root.join("src/inner/.gitkeep"), b"").unwrap();
        fs::write(root.join(".git/config"), b"[core]\n").unwrap();
        fs::write(root.join(".git/objects/blob"), b"x").unwrap();
        fs::write(root.join("src/__pycache__/main.pyc"), b"x").unwrap();
        fs::write(root.join("node_modules/x/index.js"), b"x").unwrap();
        fs::write(root.join(".DS_Store"), b"x").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("passwd")).unwrap();
        std::os::unix::fs::symlink(root.join("src"), root.join("src-link")).unwrap();
        std::os::unix::fs::symlink("missing", root.join("dangling")).unwrap();

        let files = read_dir(root, &Limits::new(MIB)).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["pipe.yaml", "src/inner/.gitkeep", "src/main.py"]);
        assert_eq!(files[2].bytes, b"print(1)\n");
        assert_eq!(unpack(&pack(&files).unwrap(), &Limits::new(MIB)).unwrap(), files);

        assert!(read_dir(root, &Limits::new(20)).is_ok(), "20 bytes in all");
        assert!(matches!(read_dir(root, &Limits::new(19)), Err(Refusal::TooLarge(_))));
        assert!(read_dir(root, &Limits { max_bytes: MIB, max_files: 3 }).is_ok());
        assert!(matches!(read_dir(root, &Limits { max_bytes: MIB, max_files: 2 }), Err(Refusal::TooLarge(_))));
        assert!(matches!(read_dir(&root.join("pipe.yaml"), &Limits::new(MIB)), Err(Refusal::Invalid(_))));
        assert!(matches!(read_dir(&root.join("nowhere"), &Limits::new(MIB)), Err(Refusal::Invalid(_))));
    }

    fn json_files(pairs: &[(&str, Value)]) -> Map<String, Value> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn base64_files_are_checked() {
        let map = json_files(&[("demo/pipe.yaml", "bmFtZTogeAo=".into()), ("demo/./main.py", "cHJpbnQoMSk=".into())]);
        let files = from_base64_files(None, &map, &Limits::new(MIB)).unwrap();
        assert_eq!(files, vec![file("main.py", b"print(1)"), file("pipe.yaml", b"name: x\n")]);

        let map = json_files(&[("pipe.yaml", "bmFtZTogeAo=".into()), ("main.py", "not base64!".into())]);
        assert!(is_invalid(from_base64_files(None, &map, &Limits::new(MIB)), "'main.py' is not valid base64"));
        let map = json_files(&[("main.py", "cHJpbnQoMSk".into())]);
        assert!(is_invalid(from_base64_files(None, &map, &Limits::new(MIB)), "'main.py' is not valid base64"), "padding is required");
        let map = json_files(&[("main.py", serde_json::json!(42))]);
        assert!(is_invalid(from_base64_files(None, &map, &Limits::new(MIB)), "'main.py' must map to a base64 string"));
        let map = json_files(&[("../main.py", "cHJpbnQoMSk=".into())]);
        assert!(is_invalid(from_base64_files(None, &map, &Limits::new(MIB)), "is refused"));
        let map = json_files(&[("a.py", "cHJpbnQoMSk=".into()), ("./a.py", "cHJpbnQoMSk=".into())]);
        assert!(is_invalid(from_base64_files(None, &map, &Limits::new(MIB)), "appears twice"));

        // Refused by its length (not even valid base64, so a decode would have said Invalid).
        let huge = "A!".repeat(2 * MIB as usize);
        let map = json_files(&[("big.bin", huge.into())]);
        assert!(is_too_large(&from_base64_files(None, &map, &Limits::new(MIB))));
        // Exactly at the limit is fine; one byte more is not.
        let exact = STANDARD.encode([9u8; 1000]);
        assert!(from_base64_files(None, &json_files(&[("a", exact.clone().into())]), &Limits::new(1000)).is_ok());
        assert!(is_too_large(&from_base64_files(None, &json_files(&[("a", exact.into())]), &Limits::new(999))));
        let map = json_files(&[("a", "".into()), ("b", "".into()), ("c", "".into())]);
        assert!(is_too_large(&from_base64_files(None, &map, &Limits { max_bytes: MIB, max_files: 2 })));
    }
}
