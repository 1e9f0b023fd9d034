//! Long text output through a pager, as `git log` does: `$AX_PAGER`, else `$PAGER`,
//! else `less -FRX` (which prints a text that fits on one screen as it is). Only when
//! stdout is a terminal, never for `--format json`, never with `--no-pager`; an empty
//! `AX_PAGER` or `PAGER` (or `cat`) means no pager.

use std::io::{IsTerminal, Write};
use std::process::{Command, Stdio};

use crate::error::CliError;
use crate::output::Out;

/// The pager used when neither `AX_PAGER` nor `PAGER` is set.
pub const DEFAULT_PAGER: &str = "less -FRX";

/// What decides whether a pager runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PagerSettings {
    /// Whether stdout is a terminal.
    pub stdout_is_terminal: bool,
    /// `--format json`.
    pub json: bool,
    /// `--no-pager`.
    pub no_pager: bool,
    /// `$AX_PAGER`, if set (empty counts as set).
    pub ax_pager: Option<String>,
    /// `$PAGER`, if set (empty counts as set).
    pub pager: Option<String>,
}

impl PagerSettings {
    /// The settings of this process, with `--no-pager` as given.
    pub fn from_env(out: Out, no_pager: bool) -> Self {
        Self {
            stdout_is_terminal: std::io::stdout().is_terminal(),
            json: out.json(),
            no_pager,
            ax_pager: std::env::var("AX_PAGER").ok(),
            pager: std::env::var("PAGER").ok(),
        }
    }

    /// The shell command of the pager to run, or `None` to print directly.
    pub fn command(&self) -> Option<String> {
        if !self.stdout_is_terminal || self.json || self.no_pager {
            return None;
        }
        let chosen = self
            .ax_pager
            .as_deref()
            .or(self.pager.as_deref())
            .unwrap_or(DEFAULT_PAGER)
            .trim();
        if chosen.is_empty() || chosen == "cat" {
            None
        } else {
            Some(chosen.to_owned())
        }
    }
}

/// Show `text` (lines ending in `\n`) through the pager `settings` choose, or print it
/// on stdout. A pager that cannot start is skipped; quitting it early is not an error.
pub fn show(text: &str, settings: &PagerSettings, out: Out) -> Result<(), CliError> {
    let Some(command) = settings.command() else {
        return out.raw(text.as_bytes());
    };
    let mut shell = Command::new("sh");
    shell.arg("-c").arg(&command).stdin(Stdio::piped());
    // As git does: let `less` pass colours through and quit on a short text, unless
    // the user set their own options.
    if std::env::var_os("LESS").is_none() {
        shell.env("LESS", "FRX");
    }
    if std::env::var_os("LV").is_none() {
        shell.env("LV", "-c");
    }
    let Ok(mut child) = shell.spawn() else {
        tracing::debug!("the pager `{command}` did not start; printing directly");
        return out.raw(text.as_bytes());
    };
    // Ctrl-C belongs to the pager while it runs (less uses it to stop a search): it
    // must not end `ax` and leave the pager behind on the terminal.
    #[cfg(unix)]
    let _ignore_interrupts = tokio::runtime::Handle::try_current().ok().and_then(|_| {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok()
    });
    if let Some(mut stdin) = child.stdin.take() {
        // A pager quit before reading everything closes the pipe: not an error.
        let _ = stdin.write_all(text.as_bytes());
    }
    let _ = child.wait();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_terminal() -> PagerSettings {
        PagerSettings {
            stdout_is_terminal: true,
            ..PagerSettings::default()
        }
    }

    #[test]
    fn the_pager_is_ax_pager_then_pager_then_less() {
        assert_eq!(on_terminal().command().as_deref(), Some("less -FRX"));
        let pager = PagerSettings {
            pager: Some("more".into()),
            ..on_terminal()
        };
        assert_eq!(pager.command().as_deref(), Some("more"));
        let both = PagerSettings {
            ax_pager: Some("most -s".into()),
            ..pager
        };
        assert_eq!(both.command().as_deref(), Some("most -s"));
    }

    #[test]
    fn no_pager_off_a_terminal_for_json_with_no_pager_or_an_empty_ax_pager() {
        let not_a_terminal = PagerSettings {
            stdout_is_terminal: false,
            ax_pager: Some("less".into()),
            ..PagerSettings::default()
        };
        assert_eq!(not_a_terminal.command(), None);
        let json = PagerSettings {
            json: true,
            ..on_terminal()
        };
        assert_eq!(json.command(), None);
        let flag = PagerSettings {
            no_pager: true,
            ..on_terminal()
        };
        assert_eq!(flag.command(), None);
        let empty = PagerSettings {
            ax_pager: Some(String::new()),
            pager: Some("less".into()),
            ..on_terminal()
        };
        assert_eq!(empty.command(), None, "AX_PAGER= turns it off");
        let empty_pager = PagerSettings {
            pager: Some(" ".into()),
            ..on_terminal()
        };
        assert_eq!(empty_pager.command(), None, "PAGER= turns it off too");
        let cat = PagerSettings {
            ax_pager: Some("cat".into()),
            ..on_terminal()
        };
        assert_eq!(cat.command(), None);
    }
}
