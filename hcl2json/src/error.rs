//! The one error type of the conversion, with the position it points at.

use std::fmt;

/// A line and column in the source, both counted from 1 (columns in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// Line number, from 1.
    pub line: usize,
    /// Column number in characters, from 1.
    pub column: usize,
}

impl Pos {
    /// The position of byte `offset` in `src` (clamped to the end of `src`).
    pub fn at(src: &str, offset: usize) -> Pos {
        let mut offset = offset.min(src.len());
        while !src.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &src[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Pos {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Why a conversion failed: invalid syntax, an invalid job, a missing
/// variable... always with the position it concerns when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The file the position is in, when it is not the main input.
    pub file: Option<String>,
    /// Where in the input the problem is.
    pub pos: Option<Pos>,
    /// What is wrong, in one line.
    pub message: String,
}

impl Error {
    /// An error at byte `offset` of `src`.
    pub fn at(src: &str, offset: usize, message: impl Into<String>) -> Error {
        Error {
            file: None,
            pos: Some(Pos::at(src, offset)),
            message: message.into(),
        }
    }

    /// An error that concerns no single place in the input.
    pub fn general(message: impl Into<String>) -> Error {
        Error {
            file: None,
            pos: None,
            message: message.into(),
        }
    }
}

impl Error {
    /// Names the file the error is in, unless another file is named already.
    pub fn in_file(mut self, file: impl Into<String>) -> Error {
        if self.file.is_none() {
            self.file = Some(file.into());
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}:")?;
        }
        match self.pos {
            Some(pos) => write!(f, "{pos}: {}", self.message),
            None if self.file.is_some() => write!(f, " {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let src = "a = 1\nbé = 2\n";
        assert_eq!(Pos::at(src, 0), Pos { line: 1, column: 1 });
        assert_eq!(Pos::at(src, 6), Pos { line: 2, column: 1 });
        // "é" is two bytes but one column.
        assert_eq!(Pos::at(src, 9), Pos { line: 2, column: 3 });
    }
}
