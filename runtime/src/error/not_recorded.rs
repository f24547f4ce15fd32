//! [`NotRecorded`]: a replaying client (feature `cassette`) was asked a call its cassette does
//! not hold. It names the operation and its path template, never the values of the call.

use std::fmt;

/// A call the cassette does not hold (replay mode). Nothing was sent.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NotRecorded {
    /// Operation id.
    pub operation_id: &'static str,
    /// HTTP method.
    pub method: String,
    /// The operation's path template, if the generated code gave it.
    pub path_template: Option<&'static str>,
    /// Correlation ID of the call.
    pub correlation_id: String,
    /// How many times the cassette holds this very call (all already served); 0 when it never
    /// saw it (other parameters, body or personal-data key).
    pub recorded: usize,
    /// The cassette file.
    pub cassette: String,
}

impl fmt::Display for NotRecorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} {}) is not in the cassette {}",
            self.operation_id,
            self.method,
            self.path_template.unwrap_or("(no path template)"),
            self.cassette
        )?;
        if self.recorded > 0 {
            write!(
                f,
                ": it holds this call {} time(s), all already replayed",
                self.recorded
            )?;
        } else {
            f.write_str(": no recorded call has these parameters and body")?;
        }
        write!(
            f,
            " [correlation ID {}] — record the cassette again with this call",
            self.correlation_id
        )
    }
}
