//! Tenant ids, validated as Mimir validates `X-Scope-OrgID`.

use std::fmt;

/// Longest tenant id Mimir accepts.
pub const MAX_TENANT_ID_LENGTH: usize = 150;

/// Why a tenant id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantError {
    /// The id is empty.
    #[error("tenant ID is empty")]
    Empty,
    /// The id is longer than 150 bytes.
    #[error("tenant ID is too long: max 150 characters")]
    TooLong,
    /// The id has a character outside Mimir's set.
    #[error("tenant ID '{id}' contains unsupported character '{ch}'")]
    BadCharacter {
        /// The id.
        id: String,
        /// The first bad character.
        ch: char,
    },
    /// `.` and `..` are not allowed (they would escape the key space).
    #[error("tenant ID is '.' or '..'")]
    Dots,
    /// Reserved by the system.
    #[error("tenant ID '__mimir_cluster' is not allowed")]
    Reserved,
}

/// A validated tenant id: 1..=150 characters from `[a-zA-Z0-9!-_.*'()]`, not `.` or `..`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TenantId(String);

impl TenantId {
    /// Validates `id`.
    pub fn new(id: &str) -> Result<Self, TenantError> {
        if id.is_empty() {
            return Err(TenantError::Empty);
        }
        if id.len() > MAX_TENANT_ID_LENGTH {
            return Err(TenantError::TooLong);
        }
        if let Some(ch) = id.chars().find(|c| !is_supported_char(*c)) {
            return Err(TenantError::BadCharacter {
                id: id.to_string(),
                ch,
            });
        }
        if id == "." || id == ".." {
            return Err(TenantError::Dots);
        }
        if id == "__mimir_cluster" {
            return Err(TenantError::Reserved);
        }
        Ok(Self(id.to_string()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_supported_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '!' | '-' | '_' | '.' | '*' | '\'' | '(' | ')')
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_like_mimir() {
        assert!(TenantId::new("team-a_1.prod").is_ok());
        assert!(TenantId::new("a(b)*'!").is_ok());
        assert_eq!(TenantId::new(""), Err(TenantError::Empty));
        assert_eq!(TenantId::new(".."), Err(TenantError::Dots));
        assert!(matches!(
            TenantId::new("a/b"),
            Err(TenantError::BadCharacter { ch: '/', .. })
        ));
        assert!(matches!(
            TenantId::new("a|b"),
            Err(TenantError::BadCharacter { .. })
        ));
        assert_eq!(TenantId::new(&"x".repeat(151)), Err(TenantError::TooLong));
        assert!(TenantId::new(&"x".repeat(150)).is_ok());
    }
}
