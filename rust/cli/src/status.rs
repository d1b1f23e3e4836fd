//! The exit statuses of every subcommand, in one enum.

use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: valid, healthy, written, planned.
    Success,
    /// 1: the inventory has errors, a service is unhealthy, a write failed.
    Failure,
    /// 2: a usage error or unreadable input.
    Usage,
    /// 130: interrupted (Ctrl-C), as shells report SIGINT.
    Interrupted,
    /// An external program's own status (e.g. ansible-playbook's), passed on.
    External(u8),
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Interrupted => 130,
            ExitStatus::External(code) => code,
        }
    }

    /// The status of an external program that ended: its code, or 128 + signal as shells
    /// report it (Ctrl-C becomes [`ExitStatus::Interrupted`]).
    pub fn of_process(status: std::process::ExitStatus) -> ExitStatus {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(0), _) => ExitStatus::Success,
            (Some(code), _) => ExitStatus::External(u8::try_from(code).unwrap_or(u8::MAX)),
            (None, Some(2)) => ExitStatus::Interrupted,
            (None, Some(sig)) => ExitStatus::External(u8::try_from(128 + sig).unwrap_or(u8::MAX)),
            (None, None) => ExitStatus::Failure,
        }
    }

    /// Success when `ok`, else failure.
    pub fn from_ok(ok: bool) -> ExitStatus {
        if ok {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        ExitCode::from(s.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus as Raw;

    #[test]
    fn codes_and_external_statuses() {
        assert_eq!(ExitStatus::Success.code(), 0);
        assert_eq!(ExitStatus::Failure.code(), 1);
        assert_eq!(ExitStatus::Usage.code(), 2);
        assert_eq!(ExitStatus::Interrupted.code(), 130);
        assert_eq!(ExitStatus::External(4).code(), 4);
        // wait(2) statuses: exit code in the high byte, signal in the low bits.
        assert_eq!(
            ExitStatus::of_process(Raw::from_raw(0)),
            ExitStatus::Success
        );
        assert_eq!(
            ExitStatus::of_process(Raw::from_raw(4 << 8)),
            ExitStatus::External(4)
        );
        assert_eq!(
            ExitStatus::of_process(Raw::from_raw(2)),
            ExitStatus::Interrupted
        );
        assert_eq!(
            ExitStatus::of_process(Raw::from_raw(15)),
            ExitStatus::External(143)
        );
    }
}
