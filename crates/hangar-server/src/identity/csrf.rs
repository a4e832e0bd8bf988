//! CSRF tokens as pages carry them: masked afresh for every response, so that no two pages
//! hold the same bytes and a compressed page leaks nothing about the token through its size
//! (BREACH). The token itself (the session's, or the anonymous visitor's cookie) never changes;
//! what a page carries is a random pad followed by the pad XOR the token, hex-encoded.

use super::sessions::same_secret;

/// `token` masked with a fresh random pad.
pub fn mask(token: &str) -> String {
    let pad: Vec<u8> = (0..token.len()).map(|_| rand::random::<u8>()).collect();
    let masked: Vec<u8> = token.bytes().zip(&pad).map(|(t, p)| t ^ p).collect();
    format!("{}{}", hex::encode(&pad), hex::encode(masked))
}

/// Whether `presented` is `token`, masked (what pages carry) or as it is (what a script that
/// read it from an older page or the API's `X-CSRF-Token` header may send: the unmasked token
/// is the secret itself, so it proves the same).
pub fn matches(presented: &str, token: &str) -> bool {
    same_secret(presented, token) || unmask(presented).is_some_and(|t| same_secret(&t, token))
}

fn unmask(presented: &str) -> Option<String> {
    let bytes = hex::decode(presented).ok()?;
    if bytes.is_empty() || bytes.len() % 2 != 0 {
        return None;
    }
    let (pad, masked) = bytes.split_at(bytes.len() / 2);
    String::from_utf8(pad.iter().zip(masked).map(|(p, m)| p ^ m).collect()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_differ_and_each_matches() {
        let token = "k7Qw0ZbY3cJvT1pLxN9aR2mE5sU8dH4gF6iO0tWyBqC";
        let (a, b) = (mask(token), mask(token));
        assert_ne!(a, b);
        assert!(!a.contains(token));
        assert!(matches(&a, token) && matches(&b, token));
        assert!(matches(token, token), "the token as it is");
        assert!(!matches(&mask("another-token-of-the-same-length-as-before!"), token));
    }

    #[test]
    fn tampered_or_malformed_masks_are_refused() {
        let token = "k7Qw0ZbY3cJvT1pLxN9aR2mE5sU8dH4gF6iO0tWyBqC";
        let good = mask(token);
        let mut flipped = good.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        for bad in [
            flipped.as_str(),
            &good[..good.len() - 2],
            "",
            "zz",
            "not hex at all",
            &good[2..],
        ] {
            assert!(!matches(bad, token), "{bad}");
        }
        assert!(!matches(&good, ""), "no token: nothing matches");
    }
}
