//! The error of reading YAML text, shared by the pre-parse [`guard`](super::guard) and the
//! parser ([`yaml`](super::yaml)); its own module so that neither imports the other's.

/// A YAML syntax error with its 1-based position.
#[derive(Debug)]
pub struct YamlError {
    /// 1-based line and column, when the parser knows them.
    pub line_col: Option<(usize, usize)>,
    /// The parser's message.
    pub message: String,
}
