//! Errors and warnings that point at a place in a document.
//!
//! Every problem the generator reports names the file, the JSON pointer inside it and, where
//! the loader could find it, the line and column, followed by what to do about it.

use std::fmt;
use std::path::{Path, PathBuf};

/// A place in a source document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// File the problem is in.
    pub file: PathBuf,
    /// JSON pointer (RFC 6901) of the offending node, `""` for the whole document.
    pub pointer: Option<String>,
    /// 1-based line and column, when known.
    pub line_col: Option<(usize, usize)>,
}

impl Location {
    /// A location covering a whole file.
    pub fn file(file: &Path) -> Self {
        Location {
            file: file.to_path_buf(),
            pointer: None,
            line_col: None,
        }
    }

    /// A location at a JSON pointer, line unknown until [`crate::load::Document::locate`] fills it.
    pub fn at(file: &Path, pointer: impl Into<String>) -> Self {
        Location {
            file: file.to_path_buf(),
            pointer: Some(pointer.into()),
            line_col: None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.line_col {
            write!(f, ":{line}:{col}")?;
        }
        if let Some(pointer) = &self.pointer {
            write!(f, " at #{pointer}")?;
        }
        Ok(())
    }
}

/// A located message with advice: the unit of every error and warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where.
    pub location: Location,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic without advice.
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        Diagnostic {
            location,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds advice.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  help: {hint}")?;
        }
        Ok(())
    }
}

/// Everything that can stop generation.
///
/// `Display` and `Error` are written by hand rather than derived, so that reading documents
/// (the `codegen`-less library the gateway emulator uses) needs no proc-macro.
#[derive(Debug)]
pub enum Error {
    /// A file could not be read or written.
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
        /// What to do.
        hint: String,
    },
    /// The document is not well-formed JSON or YAML.
    Syntax(Diagnostic),
    /// The document is well-formed but cannot be turned into a client.
    Spec(Vec<Diagnostic>),
    /// The output folder cannot be used.
    Output {
        /// The folder concerned.
        path: PathBuf,
        /// What is wrong.
        message: String,
        /// What to do.
        hint: String,
    },
    /// Invalid settings (crate name, version, manifest).
    Config {
        /// What is wrong.
        message: String,
        /// What to do.
        hint: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source, hint } => {
                write!(f, "{}: {source}\n  help: {hint}", path.display())
            }
            Error::Syntax(diagnostic) => write!(f, "{diagnostic}"),
            Error::Spec(diagnostics) => f.write_str(&join(diagnostics)),
            Error::Output {
                path,
                message,
                hint,
            } => write!(f, "{}: {message}\n  help: {hint}", path.display()),
            Error::Config { message, hint } => write!(f, "{message}\n  help: {hint}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn join(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for (i, d) in diags.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&d.to_string());
    }
    if diags.len() > 1 {
        out.push_str(&format!("\n{} errors", diags.len()));
    }
    out
}

impl Error {
    /// An I/O error on `path` with advice.
    pub fn io(path: &Path, source: std::io::Error, hint: impl Into<String>) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
            hint: hint.into(),
        }
    }

    /// A single located problem in a document.
    pub fn spec(d: Diagnostic) -> Self {
        Error::Spec(vec![d])
    }

    /// The diagnostics carried, if the error is about a document.
    pub fn diagnostics(&self) -> Vec<&Diagnostic> {
        match self {
            Error::Syntax(d) => vec![d],
            Error::Spec(ds) => ds.iter().collect(),
            _ => Vec::new(),
        }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
