//! Yes/no confirmation of destructive commands (`-y` answers yes in advance).

use anyhow::{Result, bail};
use std::io::{BufRead, Write};

/// The message when a removal is not confirmed (`ngc`'s words).
pub const REMOVE_CANCELLED: &str = "Remove confirmation failed, remove cancelled.";

/// `yes`/`y`/`ye` or `no`/`n`, any case; anything else is no answer.
pub fn parse_answer(line: &str) -> Option<bool> {
    match line.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "ye" => Some(true),
        "no" | "n" => Some(false),
        _ => None,
    }
}

/// Asks `question [y/n]` until answered. End of input counts as no.
pub fn ask(question: &str, input: &mut impl BufRead, out: &mut impl Write, err: &mut impl Write) -> bool {
    loop {
        // A prompt that cannot be shown still gets its answer from the input.
        let _ = write!(out, "{question} [y/n] ");
        let _ = out.flush();
        let mut line = String::new();
        match input.read_line(&mut line) {
            Ok(0) | Err(_) => {
                let _ = writeln!(out);
                return false;
            }
            Ok(_) => {}
        }
        if let Some(answer) = parse_answer(&line) {
            return answer;
        }
        let _ = writeln!(err, "Enter valid input choice of 'yes' or 'no' (or 'y' or 'n')");
    }
}

/// Succeeds when `yes` was given or the user answers yes on stdin; otherwise fails with
/// `cancelled`.
pub fn confirm(question: &str, yes: bool, cancelled: &str) -> Result<()> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if ask(
        question,
        &mut stdin.lock(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    ) {
        Ok(())
    } else {
        bail!("{cancelled}")
    }
}

/// `ngc`'s removal question: "Are you sure you would like to remove <what>?".
pub fn confirm_remove(what: &str, yes: bool) -> Result<()> {
    confirm(
        &format!("Are you sure you would like to remove {what}?"),
        yes,
        REMOVE_CANCELLED,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str) -> (bool, String, String) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let answer = ask("Remove?", &mut input.as_bytes(), &mut out, &mut err);
        (answer, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
    }

    #[test]
    fn answers() {
        assert_eq!(parse_answer(" Y\n"), Some(true));
        assert_eq!(parse_answer("yes"), Some(true));
        assert_eq!(parse_answer("N"), Some(false));
        assert_eq!(parse_answer("maybe"), None);
        assert_eq!(parse_answer(""), None);
    }

    #[test]
    fn asks_until_answered_and_eof_is_no() {
        let (yes, out, _) = run("y\n");
        assert!(yes);
        assert_eq!(out, "Remove? [y/n] ");
        let (yes, out, err) = run("what\nn\n");
        assert!(!yes);
        assert_eq!(out, "Remove? [y/n] Remove? [y/n] ");
        assert!(err.contains("Enter valid input"));
        assert!(!run("").0);
        assert!(!run("what\n").0);
    }

    #[test]
    fn yes_flag_skips_the_question() {
        assert!(confirm_remove("team", true).is_ok());
    }
}
