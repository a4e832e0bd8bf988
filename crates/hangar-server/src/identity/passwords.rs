//! Passwords: the rules a new one must meet, and argon2id hashing. Hashing runs on the
//! blocking pool, since it is deliberately slow.

use super::error::{IdentityError, IdentityResult};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;

pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longer input is refused before hashing, so nobody makes the server hash megabytes.
pub const MAX_PASSWORD_CHARS: usize = 256;

const COMMON: &str = include_str!("common-passwords.txt");

fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    COMMON
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .any(|l| l == lower)
}

/// Checks a new password (and its confirmation, when the form asks twice) against the rules:
/// 12 to 256 characters, not on the list of common passwords, not the e-mail address.
pub fn check_new_password(password: &str, confirm: Option<&str>, email: &str) -> IdentityResult<()> {
    let chars = password.chars().count();
    if let Some(confirm) = confirm
        && confirm != password
    {
        return Err(IdentityError::Invalid("the two passwords do not match".into()));
    }
    if chars < MIN_PASSWORD_CHARS {
        return Err(IdentityError::Invalid(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(IdentityError::Invalid(format!(
            "a password may have at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    if is_common(password) || password.eq_ignore_ascii_case(email) {
        return Err(IdentityError::Invalid(
            "this password is too easy to guess: it is on a list of common passwords".into(),
        ));
    }
    Ok(())
}

/// The argon2id PHC string of a password (the crate's defaults: m=19 MiB, t=2, p=1).
pub async fn hash_password(password: String) -> IdentityResult<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| IdentityError::Internal(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| IdentityError::Internal(format!("hashing a password: {e}")))?
}

/// Whether `password` matches `hash`. Without a hash (an unknown e-mail, or an account with no
/// password) it still spends the time of one verification, so the answer's timing does not
/// tell whether the account exists.
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| stand_in_hash().to_string());
    let matched = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false);
    known && matched
}

fn stand_in_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        Argon2::default()
            .hash_password(b"no account has this password")
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(check_new_password("short", None, "a@b.c").is_err());
        assert!(
            check_new_password("Password1234", None, "a@b.c").is_err(),
            "common, any case"
        );
        assert!(check_new_password("correct horse battery", Some("correct horse batter"), "a@b.c").is_err());
        assert!(check_new_password(&"x".repeat(257), None, "a@b.c").is_err());
        assert!(check_new_password("alice@example.com", None, "alice@example.com").is_err());
        assert!(check_new_password("correct horse battery", Some("correct horse battery"), "a@b.c").is_ok());
        // Characters, not bytes: twelve letters of a non-Latin script are enough.
        assert!(check_new_password("пароль-пароль", None, "a@b.c").is_ok());
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!verify_password("correct horse batterY".into(), Some(hash)).await);
        assert!(!verify_password("no account has this password".into(), None).await);
    }
}
